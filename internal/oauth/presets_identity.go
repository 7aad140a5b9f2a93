package oauth

import (
	"net/url"
	"regexp"
	"strings"
)

// google speaks OpenID Connect: the ID token is signed by Google, bound to
// the dance by its nonce and verified by a library, so the account's sub and
// email_verified come from Google itself. Like every OIDC preset it names
// only the issuer: the endpoints come from discovery, which has to be
// fetched anyway for the signing keys and stays right if Google moves one.
// access_type=offline asks for a refresh token.
func google(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:   OIDC,
		Issuer:     "https://accounts.google.com",
		RevokeURL:  "https://oauth2.googleapis.com/revoke",
		TokenAuth:  TokenAuthPost,
		PKCE:       true,
		Scopes:     []string{"openid", "email", "profile"},
		AuthParams: map[string]string{"access_type": "offline"},
		APIBaseURL: "https://www.googleapis.com/",
		Profile: ProfileMap{
			ID: "sub", Username: "email", Name: "name", Email: "email",
			EmailVerified: "email_verified", AvatarURL: "picture",
		},
	}, nil
}

// tenantRE accepts Microsoft's tenant forms: common, organizations,
// consumers, a directory GUID or a verified domain.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$`)

// microsoft is the Microsoft identity platform (Azure AD / Entra ID and
// personal accounts). It is plain OAuth 2 plus Graph's /me rather than OIDC
// because the multi-tenant issuers ("common", "organizations") publish a
// templated issuer ("https://login.microsoftonline.com/{tenantid}/v2.0")
// that no ID token matches. The email is never taken as verified: mail and
// userPrincipalName are set by each tenant's administrators, not proven by
// the user (the "nOAuth" account-takeover), so link_by_verified_email must
// not trust them. Microsoft has no RFC 7009 revocation endpoint.
func microsoft(s PresetSettings) (Provider, error) {
	tenant := s.Tenant
	if tenant == "" {
		tenant = "common"
	}
	if !tenantRE.MatchString(tenant) {
		return Provider{}, &SettingError{"tenant", "must be common, organizations, consumers, a tenant id or a domain"}
	}
	base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     base + "authorize",
		TokenURL:    base + "token",
		TokenAuth:   TokenAuthPost,
		PKCE:        true,
		Scopes:      []string{"User.Read", "offline_access"},
		APIBaseURL:  "https://graph.microsoft.com/",
		UserinfoURL: "https://graph.microsoft.com/v1.0/me",
		Profile:     ProfileMap{ID: "id", Username: "userPrincipalName", Name: "displayName", Email: "mail"},
		ProfileFunc: microsoftProfile,
	}, nil
}

// microsoftProfile falls back to userPrincipalName for the email, since
// personal accounts and many work accounts have no mail attribute.
var microsoftProfile = mapThen(ProfileMap{ID: "id", Username: "userPrincipalName", Name: "displayName", Email: "mail"},
	func(_ map[string]any, p *Profile) error {
		if p.Email == "" && strings.Contains(p.Username, "@") {
			p.Email = p.Username
		}
		return nil
	})

// okta needs base_url: the issuer of the Okta authorization server, a
// custom one (https://ORG.okta.com/oauth2/default) or the org's own
// (https://ORG.okta.com). Discovery supplies the endpoints of either kind.
func okta(s PresetSettings) (Provider, error) {
	if s.BaseURL == "" {
		return Provider{}, &SettingError{"base_url", "is required: the Okta issuer, such as https://dev-123456.okta.com/oauth2/default"}
	}
	issuer, err := baseOr(s.BaseURL, "")
	if err != nil {
		return Provider{}, err
	}
	u, _ := url.Parse(issuer)
	return Provider{
		Protocol:   OIDC,
		Issuer:     issuer,
		TokenAuth:  TokenAuthBasic,
		PKCE:       true,
		Scopes:     []string{"openid", "email", "profile"},
		APIBaseURL: u.Scheme + "://" + u.Host + "/api/v1/",
		Profile:    oidcClaims(),
	}, nil
}

// slack is "Sign in with Slack", Slack's OpenID Connect provider. A Slack
// user id is only meaningful within its workspace, so the profile id is
// "TEAM_ID:USER_ID", from the claims Slack puts in both the ID token and
// userinfo. auth.revoke is not RFC 7009 (the token authenticates itself, not
// the client), so there is no revocation.
func slack(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:   OIDC,
		Issuer:     "https://slack.com",
		TokenAuth:  TokenAuthPost,
		Scopes:     []string{"openid", "email", "profile"},
		APIBaseURL: "https://slack.com/api/",
		Profile: ProfileMap{
			ID: "sub", Name: "name", Email: "email", EmailVerified: "email_verified", AvatarURL: "picture",
		},
		ProfileFunc: slackProfile,
	}, nil
}

// slackProfile qualifies the user id with the workspace id.
var slackProfile = mapThen(ProfileMap{Name: "name", Email: "email", EmailVerified: "email_verified", AvatarURL: "picture"},
	func(doc map[string]any, p *Profile) error {
		// The claim names contain dots, so they are read directly, not as paths.
		team, _ := doc["https://slack.com/team_id"].(string)
		user, _ := doc["https://slack.com/user_id"].(string)
		if user == "" {
			user = LookupString(doc, "sub")
		}
		if team != "" && user != "" {
			p.ID = team + ":" + user
		}
		return nil
	})

// linkedin is "Sign in with LinkedIn using OpenID Connect", used as OAuth 2
// plus its userinfo endpoint: LinkedIn has changed the issuer its ID tokens
// carry (https://www.linkedin.com to .../oauth in 2024), breaking strict
// verifiers, while the userinfo response has stayed put.
func linkedin(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://www.linkedin.com/oauth/v2/authorization",
		TokenURL:    "https://www.linkedin.com/oauth/v2/accessToken",
		RevokeURL:   "https://www.linkedin.com/oauth/v2/revoke",
		TokenAuth:   TokenAuthPost,
		Scopes:      []string{"openid", "profile", "email"},
		APIBaseURL:  "https://api.linkedin.com/",
		UserinfoURL: "https://api.linkedin.com/v2/userinfo",
		Profile: ProfileMap{
			ID: "sub", Name: "name", Email: "email", EmailVerified: "email_verified", AvatarURL: "picture",
		},

		TokenTypeOptional: true, // the token response has no token_type
	}, nil
}

// twitchClaims asks for the claims Twitch leaves out of its ID token and
// userinfo unless they are requested by name.
const twitchClaims = `{"id_token":{"email":null,"email_verified":null,"picture":null,"preferred_username":null},` +
	`"userinfo":{"email":null,"email_verified":null,"picture":null,"preferred_username":null}}`

// twitch is Twitch's OpenID Connect provider; its revocation endpoint is
// documented apart from discovery, so it is named here. Its Helix API also
// wants a Client-Id header on every call (APIHeaders).
func twitch(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:   OIDC,
		Issuer:     "https://id.twitch.tv/oauth2",
		RevokeURL:  "https://id.twitch.tv/oauth2/revoke",
		TokenAuth:  TokenAuthPost,
		Scopes:     []string{"openid", "user:read:email"},
		AuthParams: map[string]string{"claims": twitchClaims},
		APIBaseURL: "https://api.twitch.tv/helix/",
		APIHeaders: map[string]string{"Client-Id": ClientIDPlaceholder},
		Profile: ProfileMap{
			ID: "sub", Username: "preferred_username", Name: "preferred_username",
			Email: "email", EmailVerified: "email_verified", AvatarURL: "picture",
		},
	}, nil
}
