package oauth

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/dancecard/dancecard/internal/config"
)

// profileCase is one provider's documented userinfo answer and the profile
// it must map to. routes holds the bodies by the path (or path?query) of the
// provider's real URLs; claims, for OIDC presets, the ID token's claims.
type profileCase struct {
	name   string
	preset string
	set    func(*config.Provider)
	routes map[string]string
	claims string
	want   Profile
	hits   []string
}

// TestPresetProfiles maps every preset's documented response shapes, quirks
// included, and checks the profile field by field.
func TestPresetProfiles(t *testing.T) {
	cases := slices.Concat(forgeProfileCases(), identityProfileCases(), atlassianProfileCases(),
		socialProfileCases(), serviceProfileCases(), chinaProfileCases())
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.preset] = true
		t.Run(tc.name, func(t *testing.T) {
			cfg := presetConfig(tc.preset)
			if tc.set != nil {
				tc.set(&cfg)
			}
			p := mustCatalog(t, "https://dc.example.com", cfg).Enabled()[0]
			ps := newProfileServer(t, tc.routes)
			got, err := profileOf(t, p, ps.getter(p), tc.claims)
			if err != nil {
				t.Fatalf("profile: %v", err)
			}
			if got != tc.want {
				t.Errorf("profile =\n%+v\nwant\n%+v", got, tc.want)
			}
			for _, h := range tc.hits {
				if ps.hits[h] == 0 {
					t.Errorf("%s was not requested; requests: %v", h, ps.hits)
				}
			}
		})
	}
	for _, name := range slices.Sorted(maps.Keys(Presets())) {
		if !covered[name] {
			t.Errorf("preset %s has no profile case", name)
		}
	}
}

// githubUser is GitHub's documented /user answer for a user who keeps their
// email private (email: null).
const githubUser = `{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=",
 "avatar_url":"https://github.com/images/error/octocat_happy.gif","gravatar_id":"",
 "url":"https://api.github.com/users/octocat","html_url":"https://github.com/octocat","type":"User",
 "site_admin":false,"name":"monalisa octocat","company":"GitHub","blog":"https://github.com/blog",
 "location":"San Francisco","email":null,"hireable":false,"bio":"There once was...",
 "public_repos":2,"followers":20,"following":0,"created_at":"2008-01-14T04:33:35Z"}`

const githubEmails = `[{"email":"octocat@github.com","verified":true,"primary":true,"visibility":"private"},
 {"email":"mona@example.com","verified":false,"primary":false,"visibility":null}]`

func forgeProfileCases() []profileCase {
	octocat := Profile{ID: "1", Username: "octocat", Name: "monalisa octocat", Email: "octocat@github.com",
		EmailVerified: true, AvatarURL: "https://github.com/images/error/octocat_happy.gif", ProfileURL: "https://github.com/octocat"}
	public := func(email string) string {
		return `{"login":"octocat","id":1,"name":"monalisa octocat","email":"` + email + `",
 "avatar_url":"https://github.com/images/error/octocat_happy.gif","html_url":"https://github.com/octocat"}`
	}
	unverified := octocat
	unverified.Email, unverified.EmailVerified = "mona@example.com", false
	noScope := octocat
	noScope.EmailVerified = false
	return []profileCase{
		{name: "github private email", preset: "github",
			routes: map[string]string{"/user": githubUser, "/user/emails": githubEmails},
			want:   octocat, hits: []string{"/user", "/user/emails"}},
		{name: "github public email unverified", preset: "github",
			routes: map[string]string{"/user": public("mona@example.com"), "/user/emails": githubEmails},
			want:   unverified},
		{name: "github without user:email scope", preset: "github",
			routes: map[string]string{"/user": public("octocat@github.com")}, // /user/emails answers 404
			want:   noScope, hits: []string{"/user/emails"}},
		{name: "github enterprise", preset: "github",
			set:    func(c *config.Provider) { c.BaseURL = "https://github.example.com" },
			routes: map[string]string{"/api/v3/user": githubUser, "/api/v3/user/emails": githubEmails},
			want:   octocat, hits: []string{"/api/v3/user/emails"}},
		{name: "gitlab", preset: "gitlab",
			set: func(c *config.Provider) { c.BaseURL = "https://gitlab.example.com" },
			routes: map[string]string{"/api/v4/user": `{"id":1,"username":"john_smith","email":"john@example.com",
 "name":"John Smith","state":"active","locked":false,
 "avatar_url":"http://localhost:3000/uploads/user/avatar/1/index.jpg","web_url":"http://localhost:3000/john_smith",
 "created_at":"2012-05-23T08:00:58Z","bio":"","location":null,"public_email":"john@example.com",
 "last_sign_in_at":"2012-06-01T11:41:01Z","confirmed_at":"2012-05-23T09:05:22Z","theme_id":1,
 "projects_limit":100,"identities":[],"can_create_group":true,"two_factor_enabled":true,"external":false,
 "private_profile":false,"commit_email":"john@example.com"}`},
			want: Profile{ID: "1", Username: "john_smith", Name: "John Smith", Email: "john@example.com", EmailVerified: true,
				AvatarURL: "http://localhost:3000/uploads/user/avatar/1/index.jpg", ProfileURL: "http://localhost:3000/john_smith"}},
		{name: "gitea", preset: "gitea",
			routes: map[string]string{
				"/api/v1/user": `{"id":1,"login":"jdoe","login_name":"","full_name":"Jane Doe","email":"jane@example.com",
 "avatar_url":"https://gitea.com/avatars/5a8f5b8b1d7bbd3a5f0e1a8b0f5b8b1d","html_url":"https://gitea.com/jdoe",
 "language":"en-US","is_admin":false,"restricted":false,"active":true,"prohibit_login":false,
 "visibility":"public","followers_count":0,"following_count":0,"username":"jdoe"}`,
				"/api/v1/user/emails": `[{"email":"jane@example.com","verified":true,"primary":true,"user_id":1,"username":"jdoe"}]`},
			want: Profile{ID: "1", Username: "jdoe", Name: "Jane Doe", Email: "jane@example.com", EmailVerified: true,
				AvatarURL: "https://gitea.com/avatars/5a8f5b8b1d7bbd3a5f0e1a8b0f5b8b1d", ProfileURL: "https://gitea.com/jdoe"}},
		{name: "bitbucket", preset: "bitbucket",
			routes: map[string]string{
				"/2.0/user": `{"type":"user","uuid":"{a288a0ab-e13b-43f7-8b40-6b9b0e9a12bb}","username":"evzijst",
 "nickname":"evzijst","display_name":"Erik van Zijst","account_id":"557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443",
 "account_status":"active","created_on":"2010-07-07T04:26:18.561180+00:00","links":{
 "self":{"href":"https://api.bitbucket.org/2.0/users/%7Ba288a0ab-e13b-43f7-8b40-6b9b0e9a12bb%7D"},
 "avatar":{"href":"https://secure.gravatar.com/avatar/a5a5e0a9f1b2?d=identicon"},
 "html":{"href":"https://bitbucket.org/%7Ba288a0ab-e13b-43f7-8b40-6b9b0e9a12bb%7D/"}}}`,
				"/2.0/user/emails": `{"pagelen":10,"values":[
 {"is_primary":false,"is_confirmed":true,"type":"email","email":"erik@example.org","links":{}},
 {"is_primary":true,"is_confirmed":true,"type":"email","email":"evzijst@example.com","links":{}}],"page":1,"size":2}`},
			want: Profile{ID: "{a288a0ab-e13b-43f7-8b40-6b9b0e9a12bb}", Username: "evzijst", Name: "Erik van Zijst",
				Email: "evzijst@example.com", EmailVerified: true, AvatarURL: "https://secure.gravatar.com/avatar/a5a5e0a9f1b2?d=identicon",
				ProfileURL: "https://bitbucket.org/%7Ba288a0ab-e13b-43f7-8b40-6b9b0e9a12bb%7D/"}},
	}
}

func identityProfileCases() []profileCase {
	graphMe := func(mail string) string {
		return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users/$entity",
 "businessPhones":["+1 412 555 0109"],"displayName":"Megan Bowen","givenName":"Megan","jobTitle":"Auditor",
 "mail":` + mail + `,"mobilePhone":null,"officeLocation":"12/1110","preferredLanguage":"en-US","surname":"Bowen",
 "userPrincipalName":"MeganB@M365x214355.onmicrosoft.com","id":"48d31887-5fad-4d73-a9f5-3c356e68a038"}`
	}
	megan := Profile{ID: "48d31887-5fad-4d73-a9f5-3c356e68a038", Username: "MeganB@M365x214355.onmicrosoft.com",
		Name: "Megan Bowen", Email: "MeganB@M365x214355.onmicrosoft.com"}
	return []profileCase{
		{name: "google id token", preset: "google",
			claims: `{"iss":"https://accounts.google.com","azp":"1234987819200.apps.googleusercontent.com",
 "aud":"1234987819200.apps.googleusercontent.com","sub":"10769150350006150715113082367","at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q",
 "hd":"example.com","email":"jsmith@example.com","email_verified":true,"iat":1353601026,"exp":1353604926,
 "nonce":"0394852-3190485-2490358","name":"Jane Smith","given_name":"Jane","family_name":"Smith",
 "picture":"https://lh3.googleusercontent.com/a/ACg8ocK4kz7s=s96-c"}`,
			want: Profile{ID: "10769150350006150715113082367", Username: "jsmith@example.com", Name: "Jane Smith",
				Email: "jsmith@example.com", EmailVerified: true, AvatarURL: "https://lh3.googleusercontent.com/a/ACg8ocK4kz7s=s96-c"}},
		{name: "microsoft work account", preset: "microsoft",
			routes: map[string]string{"/v1.0/me": graphMe(`"MeganB@M365x214355.onmicrosoft.com"`)}, want: megan},
		{name: "azure account without mail", preset: "azure",
			set:    func(c *config.Provider) { c.Tenant = "organizations" },
			routes: map[string]string{"/v1.0/me": graphMe(`null`)}, want: megan},
		{name: "okta", preset: "okta",
			claims: `{"sub":"00uid4BxXw6I6TV4m0g3","name":"John Doe","nickname":"Jimmy","given_name":"John",
 "middle_name":"James","family_name":"Doe","profile":"https://example.com/john.doe","zoneinfo":"America/Los_Angeles",
 "locale":"en-US","updated_at":1311280970,"email":"john.doe@example.com","email_verified":true,
 "preferred_username":"john.doe@example.com"}`,
			want: Profile{ID: "00uid4BxXw6I6TV4m0g3", Username: "john.doe@example.com", Name: "John Doe",
				Email: "john.doe@example.com", EmailVerified: true, ProfileURL: "https://example.com/john.doe"}},
		{name: "slack", preset: "slack",
			claims: `{"ok":true,"sub":"U0R7JM","https://slack.com/user_id":"U0R7JM","https://slack.com/team_id":"T0R7GR",
 "email":"krane@slack-corp.com","email_verified":true,"date_email_verified":1622128723,"name":"krane",
 "picture":"https://secure.gravatar.com/avatar/krane.png","given_name":"Bront","family_name":"Labradoodle",
 "locale":"en-US","https://slack.com/team_name":"kraneflannel","https://slack.com/team_domain":"kraneflannel"}`,
			want: Profile{ID: "T0R7GR:U0R7JM", Name: "krane", Email: "krane@slack-corp.com", EmailVerified: true,
				AvatarURL: "https://secure.gravatar.com/avatar/krane.png"}},
		{name: "linkedin", preset: "linkedin",
			routes: map[string]string{"/v2/userinfo": `{"sub":"782bbtaQ","name":"John Doe","given_name":"John",
 "family_name":"Doe","picture":"https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
 "locale":"en-US","email":"doe@email.com","email_verified":true}`},
			want: Profile{ID: "782bbtaQ", Name: "John Doe", Email: "doe@email.com", EmailVerified: true,
				AvatarURL: "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/"}},
		{name: "twitch", preset: "twitch",
			claims: `{"aud":"hof5gwx0su6owfnys0yan9c87zr6t","exp":1645478339,"iat":1645477439,
 "iss":"https://id.twitch.tv/oauth2","sub":"713936733","email":"scotwht@justin.tv","email_verified":true,
 "picture":"https://static-cdn.jtvnw.net/jtv_user_pictures/scotwht-profile_image-150x150.png",
 "preferred_username":"scotwht","updated_at":"2021-12-09T22:12:11Z"}`,
			want: Profile{ID: "713936733", Username: "scotwht", Name: "scotwht", Email: "scotwht@justin.tv", EmailVerified: true,
				AvatarURL: "https://static-cdn.jtvnw.net/jtv_user_pictures/scotwht-profile_image-150x150.png"}},
	}
}

// profileServer serves documented response bodies by path (or by path and
// query, when the route has one) and counts the requests.
type profileServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newProfileServer(t *testing.T, routes map[string]string) *profileServer {
	t.Helper()
	ps := &profileServer{hits: map[string]int{}}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		body, ok := routes[key+"?"+r.URL.RawQuery]
		if ok {
			key += "?" + r.URL.RawQuery
		} else {
			body, ok = routes[key]
		}
		ps.mu.Lock()
		ps.hits[key]++
		ps.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(ps.Close)
	return ps
}

// getter answers every URL from the test server, keeping its path and query:
// the preset's real host is swapped for the server's, as a fake DNS would.
// Like the real one, it only serves the userinfo and API hosts, since those
// are the only ones a user's credentials may be sent to.
func (ps *profileServer) getter(p *Provider) Getter {
	hosts := []string{urlHost(p.UserinfoURL), urlHost(p.APIBaseURL)}
	return func(raw string) ([]byte, error) {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(hosts, u.Host) {
			return nil, fmt.Errorf("%s is not on the provider's hosts %v", raw, hosts)
		}
		srv, _ := url.Parse(ps.URL)
		u.Scheme, u.Host = srv.Scheme, srv.Host
		resp, err := http.Get(u.String())
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 2 {
			return nil, &ProviderError{Step: "profile", Status: resp.StatusCode}
		}
		return body, nil
	}
}

// profileOf does what a dance does with the userinfo answer: the preset's
// function when it has one, else its mapping, then Validate. OIDC presets
// have no userinfo URL of their own (discovery supplies it) and map the ID
// token's claims, which is what claims is then.
func profileOf(t *testing.T, p *Provider, get Getter, claims string) (Profile, error) {
	t.Helper()
	raw := []byte(claims)
	if p.UserinfoURL != "" {
		var err error
		if raw, err = get(p.UserinfoURL); err != nil {
			return Profile{}, fmt.Errorf("userinfo: %w", err)
		}
	}
	var prof Profile
	var err error
	if p.ProfileFunc != nil {
		prof, err = p.ProfileFunc(raw, get)
	} else {
		prof, err = MapJSON(raw, p.Profile)
	}
	if err == nil {
		err = prof.Validate()
	}
	return prof, err
}

func urlHost(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}
