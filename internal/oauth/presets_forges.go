package oauth

import (
	"net/url"
	"strings"
)

// github is GitHub, or GitHub Enterprise when base_url names the instance:
// Server answers at https://HOST/login/oauth/... with its API under
// https://HOST/api/v3/, while Enterprise Cloud with data residency
// (https://SUBDOMAIN.ghe.com) has its API at https://api.SUBDOMAIN.ghe.com/.
// GitHub has no RFC 7009 endpoint (revocation is DELETE
// /applications/{client_id}/grant with the app's credentials), so RevokeURL
// stays empty. PKCE has been accepted since July 2025.
func github(s PresetSettings) (Provider, error) {
	web, api := "https://github.com", "https://api.github.com/"
	if s.BaseURL != "" {
		base, err := baseOr(s.BaseURL, "")
		if err != nil {
			return Provider{}, err
		}
		web, api = base, base+"/api/v3/"
		if u, _ := url.Parse(base); strings.HasSuffix(strings.ToLower(u.Host), ".ghe.com") && strings.Trim(u.Path, "/") == "" {
			api = u.Scheme + "://api." + u.Host + "/"
		}
	}
	profile := ProfileMap{
		ID: "id", Username: "login", Name: "name", Email: "email",
		AvatarURL: "avatar_url", ProfileURL: "html_url",
	}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     web + "/login/oauth/authorize",
		TokenURL:    web + "/login/oauth/access_token",
		TokenAuth:   TokenAuthPost,
		PKCE:        true,
		Scopes:      []string{"read:user", "user:email"},
		APIBaseURL:  api,
		UserinfoURL: api + "user",
		Profile:     profile,
		// GitHub preselects the account named by login on its sign-in page.
		LoginHintParam: "login",
		ProfileFunc:    withEmails(profile, api+"user/emails", emailKeys{email: "email", verified: "verified", primary: "primary"}),
	}, nil
}

// gitlab is gitlab.com or a self-hosted GitLab (base_url). GitLab's
// Doorkeeper server supports PKCE and RFC 7009 revocation.
func gitlab(s PresetSettings) (Provider, error) {
	base, err := baseOr(s.BaseURL, "https://gitlab.com")
	if err != nil {
		return Provider{}, err
	}
	api := base + "/api/v4/"
	m := ProfileMap{
		ID: "id", Username: "username", Name: "name", Email: "email",
		AvatarURL: "avatar_url", ProfileURL: "web_url",
	}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     base + "/oauth/authorize",
		TokenURL:    base + "/oauth/token",
		RevokeURL:   base + "/oauth/revoke",
		TokenAuth:   TokenAuthPost,
		PKCE:        true,
		Scopes:      []string{"read_user"},
		APIBaseURL:  api,
		UserinfoURL: api + "user",
		Profile:     m,
		ProfileFunc: mapThen(m, gitlabEmailVerified),
	}, nil
}

// gitlabEmailVerified reads the email's verification from confirmed_at: GitLab
// only makes a confirmed address primary, and /user has no boolean for it.
// An instance that turns confirmation off confirms every address, so on a
// self-hosted GitLab the flag is only as good as the instance's settings.
func gitlabEmailVerified(doc map[string]any, p *Profile) error {
	p.EmailVerified = LookupString(doc, "confirmed_at") != ""
	return nil
}

// gitea is gitea.com or a self-hosted Gitea or Forgejo (base_url), whose
// OAuth 2 server follows GitHub's paths and supports PKCE.
func gitea(s PresetSettings) (Provider, error) {
	base, err := baseOr(s.BaseURL, "https://gitea.com")
	if err != nil {
		return Provider{}, err
	}
	api := base + "/api/v1/"
	profile := ProfileMap{
		ID: "id", Username: "login", Name: "full_name", Email: "email",
		AvatarURL: "avatar_url", ProfileURL: "html_url",
	}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     base + "/login/oauth/authorize",
		TokenURL:    base + "/login/oauth/access_token",
		TokenAuth:   TokenAuthPost,
		PKCE:        true,
		Scopes:      []string{"read:user"},
		APIBaseURL:  api,
		UserinfoURL: api + "user",
		Profile:     profile,
		ProfileFunc: withEmails(profile, api+"user/emails", emailKeys{email: "email", verified: "verified", primary: "primary"}),
	}, nil
}

// bitbucket is Bitbucket Cloud. Its user object carries no email; the
// emails endpoint (scope "email") says which address is primary and
// confirmed. The id is the account's uuid, braces included, since usernames
// were withdrawn from the API and can change.
func bitbucket(PresetSettings) (Provider, error) {
	api := "https://api.bitbucket.org/2.0/"
	profile := ProfileMap{
		ID: "uuid", Username: "nickname", Name: "display_name",
		AvatarURL: "links.avatar.href", ProfileURL: "links.html.href",
	}
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://bitbucket.org/site/oauth2/authorize",
		TokenURL:    "https://bitbucket.org/site/oauth2/access_token",
		TokenAuth:   TokenAuthBasic,
		Scopes:      []string{"account", "email"},
		APIBaseURL:  api,
		UserinfoURL: api + "user",
		Profile:     profile,
		ProfileFunc: withEmails(profile, api+"user/emails", emailKeys{list: "values", email: "email", verified: "is_confirmed", primary: "is_primary"}),
	}, nil
}

// withEmails maps the profile and then fetches the account's list of emails,
// since only that list says which address is verified (and the profile may
// show none at all). A failed fetch — the token lacks the email scope, or
// the request timed out — is not fatal: the public email is kept, unverified.
func withEmails(m ProfileMap, emailsURL string, k emailKeys) func([]byte, Getter) (Profile, error) {
	return func(raw []byte, get Getter) (Profile, error) {
		p, err := MapJSON(raw, m)
		if err != nil {
			return p, err
		}
		p.Email, p.EmailVerified = strings.TrimSpace(p.Email), false
		if body, err := get(emailsURL); err == nil {
			p.Email, p.EmailVerified = pickEmail(body, k, p.Email)
		}
		return p, p.Validate()
	}
}
