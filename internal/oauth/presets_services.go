package oauth

import "net/url"

// dropbox is Dropbox's OAuth 2 (PKCE supported; token_access_type=offline
// for a refresh token, since Dropbox's access tokens live four hours).
// users/get_current_account is an RPC endpoint that only answers POST, with
// the body "null" (UserinfoBody). Revocation is
// auth/token/revoke with the bearer token, not RFC 7009.
func dropbox(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:     OAuth2,
		AuthURL:      "https://www.dropbox.com/oauth2/authorize",
		TokenURL:     "https://api.dropboxapi.com/oauth2/token",
		TokenAuth:    TokenAuthBasic,
		PKCE:         true,
		Scopes:       []string{"account_info.read"},
		AuthParams:   map[string]string{"token_access_type": "offline"},
		APIBaseURL:   "https://api.dropboxapi.com/2/",
		UserinfoURL:  "https://api.dropboxapi.com/2/users/get_current_account",
		UserinfoBody: "null",
		Profile: ProfileMap{
			ID: "account_id", Name: "name.display_name", Email: "email",
			EmailVerified: "email_verified", AvatarURL: "profile_photo_url",
		},
	}, nil
}

// nylas is Nylas v3 Hosted OAuth with an access token (the v2 endpoints the
// Flask libraries used are retired). base_url picks the region
// (https://api.eu.nylas.com); the default is the US one. The profile is the
// grant itself: one grant per mailbox per application, so its id is stable.
func nylas(s PresetSettings) (Provider, error) {
	base, err := baseOr(s.BaseURL, "https://api.us.nylas.com")
	if err != nil {
		return Provider{}, err
	}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     base + "/v3/connect/auth",
		TokenURL:    base + "/v3/connect/token",
		RevokeURL:   base + "/v3/connect/revoke",
		TokenAuth:   TokenAuthPost,
		PKCE:        true,
		APIBaseURL:  base + "/v3/",
		UserinfoURL: base + "/v3/grants/me",
		Profile:     ProfileMap{ID: "data.id", Username: "data.email", Name: "data.name", Email: "data.email"},
	}, nil
}

// spotify is Spotify's OAuth 2 (client_secret_basic, PKCE supported). Its
// email is documented as unverified, so it never counts as verified.
func spotify(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://accounts.spotify.com/authorize",
		TokenURL:    "https://accounts.spotify.com/api/token",
		TokenAuth:   TokenAuthBasic,
		PKCE:        true,
		Scopes:      []string{"user-read-email"},
		APIBaseURL:  "https://api.spotify.com/",
		UserinfoURL: "https://api.spotify.com/v1/me",
		Profile: ProfileMap{
			ID: "id", Username: "id", Name: "display_name", Email: "email",
			AvatarURL: "images.0.url", ProfileURL: "external_urls.spotify",
		},
	}, nil
}

// strava is Strava's OAuth 2 (comma-separated scopes; deauthorize is not RFC
// 7009). Athletes have a first and a last name and no email in the API.
func strava(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://www.strava.com/oauth/authorize",
		TokenURL:    "https://www.strava.com/oauth/token",
		TokenAuth:   TokenAuthPost,
		ScopeSep:    ",",
		Scopes:      []string{"read"},
		APIBaseURL:  "https://www.strava.com/api/v3/",
		UserinfoURL: "https://www.strava.com/api/v3/athlete",
		Profile:     ProfileMap{ID: "id", Username: "username", AvatarURL: "profile"},
		ProfileFunc: func(raw []byte, _ Getter) (Profile, error) {
			doc, err := DecodeJSON(raw)
			if err != nil {
				return Profile{}, err
			}
			p := Profile{
				ID:        LookupString(doc, "id"),
				Username:  LookupString(doc, "username"),
				Name:      fullName(LookupString(doc, "firstname"), LookupString(doc, "lastname")),
				AvatarURL: LookupString(doc, "profile"), // a relative placeholder when unset: Validate drops it
			}
			if p.ID != "" {
				p.ProfileURL = "https://www.strava.com/athletes/" + url.PathEscape(p.ID)
			}
			return p, p.Validate()
		},
	}, nil
}

// foursquare is Foursquare's user OAuth 2 (no scopes). Its v2 API wants a
// version date (v) on every call and the token as the oauth_token query
// parameter; the profile sits under response.user, with the photo split
// into a prefix, a size and a suffix.
func foursquare(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://foursquare.com/oauth2/authenticate",
		TokenURL:    "https://foursquare.com/oauth2/access_token",
		TokenAuth:   TokenAuthPost,
		APIBaseURL:  "https://api.foursquare.com/v2/",
		UserinfoURL: "https://api.foursquare.com/v2/users/self?v=20240101",
		TokenParam:  "oauth_token",
		Profile:     ProfileMap{ID: "response.user.id", Email: "response.user.contact.email", ProfileURL: "response.user.canonicalUrl"},
		ProfileFunc: foursquareProfile,

		TokenTypeOptional: true, // the token response is {"access_token": ...} alone
	}, nil
}

// foursquareProfile joins the names and builds the photo URL at its
// original size.
var foursquareProfile = mapThen(ProfileMap{ID: "response.user.id", Email: "response.user.contact.email", ProfileURL: "response.user.canonicalUrl"},
	func(doc map[string]any, p *Profile) error {
		user := Lookup(doc, "response.user")
		p.Name = fullName(LookupString(user, "firstName"), LookupString(user, "lastName"))
		if prefix, suffix := LookupString(user, "photo.prefix"), LookupString(user, "photo.suffix"); prefix != "" && suffix != "" {
			p.AvatarURL = prefix + "original" + suffix
		}
		return nil
	})

// digitalocean is DigitalOcean's OAuth 2, whose account object says whether
// the email is verified, and whose revocation endpoint takes the token as
// RFC 7009's token parameter.
func digitalocean(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://cloud.digitalocean.com/v1/oauth/authorize",
		TokenURL:    "https://cloud.digitalocean.com/v1/oauth/token",
		RevokeURL:   "https://cloud.digitalocean.com/v1/oauth/revoke",
		TokenAuth:   TokenAuthPost,
		Scopes:      []string{"read"},
		APIBaseURL:  "https://api.digitalocean.com/v2/",
		UserinfoURL: "https://api.digitalocean.com/v2/account",
		Profile: ProfileMap{
			ID: "account.uuid", Name: "account.name", Email: "account.email", EmailVerified: "account.email_verified",
		},
	}, nil
}
