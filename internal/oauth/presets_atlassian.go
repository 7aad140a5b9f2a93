package oauth

import "net/url"

// jira is a JIRA server's OAuth 1.0a "application link": RSA-SHA1 with the
// consumer's private key (the server holds the public half), endpoints under
// base_url, which is required since every JIRA is its own provider.
func jira(s PresetSettings) (Provider, error) {
	if s.BaseURL == "" {
		return Provider{}, &SettingError{"base_url", "is required: the JIRA server, such as https://jira.example.com"}
	}
	base, err := baseOr(s.BaseURL, "")
	if err != nil {
		return Provider{}, err
	}
	oauth := base + "/plugins/servlet/oauth/"
	return Provider{
		Protocol:        OAuth1,
		RequestTokenURL: oauth + "request-token",
		AuthorizeURL:    oauth + "authorize",
		AccessTokenURL:  oauth + "access-token",
		SignatureMethod: "RSA-SHA1",
		APIBaseURL:      base + "/",
		UserinfoURL:     base + "/rest/api/2/myself",
		Profile: ProfileMap{
			ID: "key", Username: "name", Name: "displayName", Email: "emailAddress", AvatarURL: "avatarUrls.48x48",
		},
		ProfileFunc: jiraProfile(base),
	}, nil
}

// jiraProfile picks the stable id: accountId on Atlassian's cloud, else the
// user key (JIRAUSER10100 since JIRA 8), which unlike the user name survives
// a rename. The profile page differs between the two as well. JIRA says
// nothing of whether emailAddress was verified.
func jiraProfile(base string) func([]byte, Getter) (Profile, error) {
	return func(raw []byte, _ Getter) (Profile, error) {
		doc, err := DecodeJSON(raw)
		if err != nil {
			return Profile{}, err
		}
		p := Profile{
			Username:  LookupString(doc, "name"),
			Name:      LookupString(doc, "displayName"),
			Email:     LookupString(doc, "emailAddress"),
			AvatarURL: LookupString(doc, "avatarUrls.48x48"),
		}
		switch account := LookupString(doc, "accountId"); {
		case account != "":
			p.ID, p.ProfileURL = account, base+"/jira/people/"+url.PathEscape(account)
		case LookupString(doc, "key") != "":
			p.ID = LookupString(doc, "key")
		default:
			p.ID = p.Username
		}
		if p.ProfileURL == "" && p.Username != "" {
			p.ProfileURL = base + "/secure/ViewProfile.jspa?name=" + url.QueryEscape(p.Username)
		}
		return p, p.Validate()
	}
}

// atlassian is Atlassian's cloud OAuth 2.0 (3LO). The audience parameter
// and prompt=consent are required by its authorization endpoint;
// offline_access yields the (rotating) refresh token. Atlassian documents no
// revocation endpoint.
func atlassian(PresetSettings) (Provider, error) {
	return Provider{
		Protocol:    OAuth2,
		AuthURL:     "https://auth.atlassian.com/authorize",
		TokenURL:    "https://auth.atlassian.com/oauth/token",
		TokenAuth:   TokenAuthPost,
		Scopes:      []string{"read:me", "offline_access"},
		AuthParams:  map[string]string{"audience": "api.atlassian.com", "prompt": "consent"},
		APIBaseURL:  "https://api.atlassian.com/",
		UserinfoURL: "https://api.atlassian.com/me",
		Profile: ProfileMap{
			ID: "account_id", Username: "nickname", Name: "name", Email: "email", AvatarURL: "picture",
		},
	}, nil
}
