package oauth

import (
	"html"
	"net/url"
	"strconv"
	"strings"
)

// facebookGraph is the Graph API version the preset speaks; Facebook
// upgrades calls to a retired version to the oldest live one.
const facebookGraph = "https://graph.facebook.com/v22.0/"

// facebook is Facebook Login. The email is not taken as verified: the Graph
// API returns the account's primary email without saying whether it was
// confirmed, and accounts can be opened with a phone number alone, so
// link_by_verified_email must not trust it. Facebook offers no username or
// profile URL without extra app review; revocation is DELETE
// /me/permissions, not RFC 7009.
func facebook(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://www.facebook.com/v22.0/dialog/oauth",
		TokenURL:    facebookGraph + "oauth/access_token",
		TokenAuth:   TokenAuthPost,
		ScopeSep:    ",",
		Scopes:      []string{"public_profile", "email"},
		APIBaseURL:  "https://graph.facebook.com/",
		UserinfoURL: facebookGraph + "me?fields=id,name,email,picture.type(large)",
		Profile:     ProfileMap{ID: "id", Name: "name", Email: "email", AvatarURL: "picture.data.url"},
	}, nil
}

// twitter is "Sign in with Twitter" over OAuth 1.0a (HMAC-SHA1);
// oauth/authenticate lets a returning user through without a second consent.
// The id is id_str, since the numeric id overflows a float64.
func twitter(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:        OAuth1,
		RequestTokenURL: "https://api.x.com/oauth/request_token",
		AuthorizeURL:    "https://api.x.com/oauth/authenticate",
		AccessTokenURL:  "https://api.x.com/oauth/access_token",
		SignatureMethod: "HMAC-SHA1",
		LoginHintParam:  "screen_name", // prefills the sign-in form
		APIBaseURL:      "https://api.x.com/",
		UserinfoURL:     "https://api.x.com/1.1/account/verify_credentials.json?include_email=true&skip_status=true",
		Profile: ProfileMap{
			ID: "id_str", Username: "screen_name", Name: "name", Email: "email", AvatarURL: "profile_image_url_https",
		},
		ProfileFunc: twitterProfile,
	}, nil
}

// twitterProfile marks the email verified when there is one, because
// verify_credentials returns null instead of an unverified address.
var twitterProfile = mapThen(ProfileMap{ID: "id_str", Username: "screen_name", Name: "name", Email: "email", AvatarURL: "profile_image_url_https"},
	func(_ map[string]any, p *Profile) error {
		p.EmailVerified = p.Email != ""
		p.ProfileURL = xProfileURL(p.Username)
		return nil
	})

// xcom is X's OAuth 2.0 (PKCE required; confidential clients authenticate
// with client_secret_basic). users/me wraps the user in a data envelope and
// offers no email to ordinary apps.
func xcom(PresetSettings) (Provider, error) {
	profile := ProfileMap{ID: "data.id", Username: "data.username", Name: "data.name", AvatarURL: "data.profile_image_url"}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://x.com/i/oauth2/authorize",
		TokenURL:    "https://api.x.com/2/oauth2/token",
		RevokeURL:   "https://api.x.com/2/oauth2/revoke",
		TokenAuth:   TokenAuthBasic,
		PKCE:        true,
		Scopes:      []string{"tweet.read", "users.read", "offline.access"},
		APIBaseURL:  "https://api.x.com/",
		UserinfoURL: "https://api.x.com/2/users/me?user.fields=profile_image_url",
		Profile:     profile,
		ProfileFunc: func(raw []byte, _ Getter) (Profile, error) {
			p, err := MapJSON(raw, profile)
			if err != nil {
				return p, err
			}
			p.ProfileURL = xProfileURL(p.Username)
			return p, p.Validate()
		},
	}, nil
}

func xProfileURL(handle string) string {
	if handle == "" {
		return ""
	}
	return "https://x.com/" + url.PathEscape(handle)
}

// discord is Discord's OAuth 2, with RFC 7009 revocation. Discord does not
// document PKCE, so it stays off.
func discord(PresetSettings) (Provider, error) {
	m := ProfileMap{ID: "id", Username: "username", Name: "global_name", Email: "email", EmailVerified: "verified"}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://discord.com/oauth2/authorize",
		TokenURL:    "https://discord.com/api/oauth2/token",
		RevokeURL:   "https://discord.com/api/oauth2/token/revoke",
		TokenAuth:   TokenAuthBasic,
		Scopes:      []string{"identify", "email"},
		APIBaseURL:  "https://discord.com/api/",
		UserinfoURL: "https://discord.com/api/users/@me",
		Profile:     m,
		ProfileFunc: mapThen(m, discordAvatar),
	}, nil
}

// discordAvatar builds the avatar URL from the user id and the avatar hash
// ("a_" hashes are animated), or Discord's default avatar for users without
// one: (id >> 22) % 6 under unique usernames (discriminator "0"), else the
// legacy discriminator % 5. "verified" is Discord's flag for the email.
func discordAvatar(doc map[string]any, p *Profile) error {
	if p.Name == "" {
		p.Name = p.Username
	}
	id, err := strconv.ParseUint(p.ID, 10, 64)
	if err != nil {
		return ErrNoProfileID
	}
	switch hash, disc := LookupString(doc, "avatar"), LookupString(doc, "discriminator"); {
	case hash != "":
		ext := ".png"
		if strings.HasPrefix(hash, "a_") {
			ext = ".gif"
		}
		p.AvatarURL = "https://cdn.discordapp.com/avatars/" + p.ID + "/" + url.PathEscape(hash) + ext
	case disc == "" || disc == "0":
		p.AvatarURL = "https://cdn.discordapp.com/embed/avatars/" + strconv.FormatUint((id>>22)%6, 10) + ".png"
	default:
		n, _ := strconv.ParseUint(disc, 10, 64)
		p.AvatarURL = "https://cdn.discordapp.com/embed/avatars/" + strconv.FormatUint(n%5, 10) + ".png"
	}
	p.ProfileURL = "https://discord.com/users/" + p.ID
	return nil
}

// reddit is Reddit's OAuth 2 (client_secret_basic; duration=permanent for a
// refresh token). Reddit asks API clients for a descriptive User-Agent and
// throttles generic ones; it offers no email.
func reddit(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://www.reddit.com/api/v1/authorize",
		TokenURL:    "https://www.reddit.com/api/v1/access_token",
		RevokeURL:   "https://www.reddit.com/api/v1/revoke_token",
		TokenAuth:   TokenAuthBasic,
		Scopes:      []string{"identity"},
		AuthParams:  map[string]string{"duration": "permanent"},
		APIBaseURL:  "https://oauth.reddit.com/",
		UserinfoURL: "https://oauth.reddit.com/api/v1/me",
		APIHeaders:  map[string]string{"User-Agent": "web:dancecard:v1 (self-hosted account linking)"},
		Profile:     ProfileMap{ID: "id", Username: "name", Name: "name", AvatarURL: "icon_img"},
		ProfileFunc: redditProfile,
	}, nil
}

// redditProfile undoes the HTML escaping Reddit applies to icon_img
// ("...png?width=256&amp;s=..."), which would otherwise break the image.
var redditProfile = mapThen(ProfileMap{ID: "id", Username: "name", Name: "name", AvatarURL: "icon_img"},
	func(_ map[string]any, p *Profile) error {
		p.AvatarURL = html.UnescapeString(p.AvatarURL)
		if p.Username != "" {
			p.ProfileURL = "https://www.reddit.com/user/" + url.PathEscape(p.Username) + "/"
		}
		return nil
	})

// meetup is Meetup's OAuth 2. Its API is GraphQL only: the profile is the
// answer to {"query":"query { self { id name } }"} POSTed to UserinfoURL,
// which a GET cannot ask until Provider can carry a request body; the
// mapping follows the documented {"data":{"self":{...}}} answer.
func meetup(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:     OAuth2,
		AuthURL:      "https://secure.meetup.com/oauth2/authorize",
		TokenURL:     "https://secure.meetup.com/oauth2/access",
		TokenAuth:    TokenAuthPost,
		Scopes:       []string{"basic"},
		APIBaseURL:   "https://api.meetup.com/",
		UserinfoURL:  "https://api.meetup.com/gql-ext",
		UserinfoBody: `{"query":"query { self { id name email } }"}`,
		Profile:      ProfileMap{ID: "data.self.id", Name: "data.self.name"},
	}, nil
}
