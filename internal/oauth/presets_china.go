package oauth

import (
	"net/url"
	"strings"
)

// douban is Douban's OAuth 2 (comma-separated scopes), with the user in
// /v2/user/~me: id is the numeric id as a string, uid the vanity name, alt
// the profile page.
func douban(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://www.douban.com/service/auth2/auth",
		TokenURL:    "https://www.douban.com/service/auth2/token",
		TokenAuth:   TokenAuthPost,
		ScopeSep:    ",",
		Scopes:      []string{"douban_basic_common"},
		APIBaseURL:  "https://api.douban.com/v2/",
		UserinfoURL: "https://api.douban.com/v2/user/~me",
		Profile:     ProfileMap{ID: "id", Username: "uid", Name: "name", AvatarURL: "avatar", ProfileURL: "alt"},

		TokenTypeOptional: true, // the token response has a douban_user_id, no token_type
	}, nil
}

// weibo is Sina Weibo's OAuth 2. Weibo has no "current user" endpoint: the
// token response carries the uid, but a profile function only sees the
// userinfo body, so the userinfo URL is account/get_uid.json ({"uid": N})
// and the function then fetches users/show.json for that uid.
func weibo(PresetSettings) (Provider, error) {
	api := "https://api.weibo.com/2/"
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://api.weibo.com/oauth2/authorize",
		TokenURL:    "https://api.weibo.com/oauth2/access_token",
		TokenAuth:   TokenAuthPost,
		ScopeSep:    ",",
		APIBaseURL:  api,
		UserinfoURL: api + "account/get_uid.json",
		TokenParam:  "access_token",
		Profile: ProfileMap{
			ID: "idstr", Username: "screen_name", Name: "name", AvatarURL: "avatar_large",
		},
		ProfileFunc: weiboProfile(api),

		TokenTypeOptional: true, // the token response has a uid and remind_in, no token_type
	}, nil
}

// weiboProfile takes the uid from get_uid.json and the user from
// users/show.json. The uid must be all digits before it goes into a URL.
func weiboProfile(api string) func([]byte, Getter) (Profile, error) {
	return func(raw []byte, get Getter) (Profile, error) {
		doc, err := DecodeJSON(raw)
		if err != nil {
			return Profile{}, err
		}
		uid := LookupString(doc, "uid")
		if uid == "" || strings.Trim(uid, "0123456789") != "" {
			return Profile{}, ErrNoProfileID
		}
		body, err := get(api + "users/show.json?uid=" + url.QueryEscape(uid))
		if err != nil {
			return Profile{}, err
		}
		user, err := DecodeJSON(body)
		if err != nil {
			return Profile{}, err
		}
		p := Profile{
			ID:        LookupString(user, "idstr"),
			Username:  LookupString(user, "screen_name"),
			Name:      LookupString(user, "name"),
			AvatarURL: LookupString(user, "avatar_large"),
		}
		if p.ID == "" {
			p.ID = LookupString(user, "id")
		}
		if p.ID != uid {
			return Profile{}, &ProviderError{Step: "profile", Description: "users/show.json answered for another uid"}
		}
		if p.AvatarURL == "" {
			p.AvatarURL = LookupString(user, "profile_image_url")
		}
		p.ProfileURL = "https://weibo.com/u/" + uid
		return p, p.Validate()
	}
}
