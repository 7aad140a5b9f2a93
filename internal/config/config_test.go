package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey is base64 of 32 bytes; testKey2 is the raw-url spelling of other 32 bytes.
const (
	testKey  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	testKey2 = "__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA"
	fakePEM  = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	// valid is the smallest file that loads outside dev mode; error cases append to it.
	valid = "base_url: https://dc.example.com\ntoken_keys: " + testKey + "\n"
)

// writeConfig writes text to dancecard.yaml in a fresh directory and returns its path.
func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dancecard.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// oauth2 is a complete custom OAuth 2 provider entry, to be extended by a case.
const oauth2 = `providers:
  - id: hub
    protocol: oauth2
    client_id: cid
    auth_url: https://hub.example.com/authorize
    token_url: https://hub.example.com/token
`

// oauth1 is a complete custom OAuth 1.0a provider entry, to be extended by a case.
const oauth1 = `providers:
  - id: bird
    protocol: oauth1
    consumer_key: ck
    request_token_url: https://bird.example.com/request
    authorize_url: https://bird.example.com/authorize
    access_token_url: https://bird.example.com/access
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // each must appear in the error
	}{
		{"unknown top key", "addr: x\nadr: 127.0.0.1:1\n", nil, []string{`dancecard.yaml:2: unknown key "adr"`, `did you mean "addr"`}},
		{"unknown nested key", valid + "sessions:\n  idel_timeout: 1h\n", nil, []string{`dancecard.yaml:4: unknown key "sessions.idel_timeout"`}},
		{"unknown provider key", valid + oauth2 + "    clientid: x\n", nil, []string{`unknown key "providers[0].clientid"`}},
		{"unknown profile key", valid + oauth2 + "    profile: {login: login}\n", nil, []string{`unknown key "providers[0].profile.login"`}},
		{"merge key", valid + "log: {<<: {level: info}}\n", nil, []string{`unknown key "log.<<"`}},
		{"repeated key", valid + "dev: true\ndev: false\n", nil, []string{"dancecard.yaml:4: dev: repeated key (first at line 3)"}},
		{"bool not a word", valid + "dev: yes please\n", nil, []string{"dancecard.yaml:3: dev:", "must be true or false"}},
		{"bool 1 in file", valid + "insecure_transport: 1\n", nil, []string{"insecure_transport: must be true or false"}},
		{"section not mapping", valid + "rate_limits: true\n", nil, []string{"rate_limits: must be a mapping"}},
		{"scalar given list", valid + "addr: [a, b]\n", nil, []string{"addr: must be a single value, not a list"}},
		{"scalar given mapping", valid + "signup: {local: {a: b}}\n", nil, []string{"signup.local: must be a single value, not a mapping"}},
		{"bad duration", valid + "sessions: {idle_timeout: 3 days}\n", nil, []string{"sessions.idle_timeout: must be a duration"}},
		{"negative duration", valid + "sessions: {absolute_timeout: -1h}\n", nil, []string{"sessions.absolute_timeout: must be positive"}},
		{"absolute below idle", valid + "sessions: {idle_timeout: 10h, absolute_timeout: 5h}\n", nil, []string{"sessions.absolute_timeout: must be at least sessions.idle_timeout"}},
		{"bad cidr", valid + "trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n", nil, []string{"trusted_proxies[1]: must be an IP address or a CIDR"}},
		{"bad cidr in string", valid + "trusted_proxies: 10.0.0.1, nope\n", nil, []string{"trusted_proxies[1]"}},
		{"bad base64", "base_url: https://x.example.com\ntoken_keys: [" + testKey + ", '!!!']\n", nil, []string{"token_keys[1]: is not valid base64"}},
		{"short key", "base_url: https://x.example.com\ntoken_keys: AAAA\n", nil, []string{"token_keys[0]: must decode to 32 bytes, got 3"}},
		{"no keys", "base_url: https://x.example.com\n", nil, []string{"config: token_keys: at least one key is required outside dev mode (generate one with: openssl rand -base64 32)"}},
		{"no keys, unset var", "base_url: https://x.example.com\ntoken_keys: ${NOPE}\n", nil, []string{"token_keys: at least one key is required"}},
		{"relative base_url", "token_keys: " + testKey + "\nbase_url: /x\n", nil, []string{"base_url: must be an absolute http(s) URL without query or fragment"}},
		{"base_url query", "token_keys: " + testKey + "\nbase_url: https://x.example.com/?a=b\n", nil, []string{"base_url: must be an absolute http(s) URL"}},
		{"base_url fragment", "token_keys: " + testKey + "\nbase_url: https://x.example.com/#top\n", nil, []string{"base_url: must be an absolute"}},
		{"base_url ftp", "token_keys: " + testKey + "\nbase_url: ftp://x.example.com\n", nil, []string{"base_url: must be an absolute"}},
		{"base_url userinfo", "token_keys: " + testKey + "\nbase_url: https://u:p@x.example.com\n", nil, []string{"base_url: must not contain a user name"}},
		{"http outside dev", "token_keys: " + testKey + "\nbase_url: http://127.0.0.1:8080\n", nil, []string{"base_url: http:// is allowed only with dev: true, or with insecure_transport: true on a loopback host"}},
		{"http insecure not loopback", "token_keys: " + testKey + "\ninsecure_transport: true\nbase_url: http://dc.example.com\n", nil, []string{"base_url: insecure_transport allows http:// only on a loopback host", `"dc.example.com"`}},
		{"default base_url outside dev", "", nil, []string{"config: base_url: http:// is allowed only"}},
		{"bad addr", valid + "addr: localhost\n", nil, []string{"addr: must be host:port"}},
		{"bad metrics_addr", valid + "metrics_addr: nine\n", nil, []string{"metrics_addr: must be host:port"}},
		{"metrics_addr is addr", valid + "addr: 127.0.0.1:9000\nmetrics_addr: 127.0.0.1:9000\n", nil, []string{"metrics_addr: must differ from addr"}},
		{"bad port", valid + "addr: ':99999'\n", nil, []string{"addr: must be host:port"}},
		{"bad database_url", valid + "database_url: mysql://x/y\n", nil, []string{"database_url: must be a postgres:// URL"}},
		{"empty database_url", valid + "database_url: ''\n", nil, []string{"database_url: is required"}},
		{"bad log level", valid + "log: {level: loud}\n", nil, []string{"log.level: must be debug, info, warn or error"}},
		{"bad log format", valid + "log: {format: xml}\n", nil, []string{"log.format: must be json or text"}},
		{"bad provider_logins", valid + "mfa: {provider_logins: sometimes}\n", nil, []string{"mfa.provider_logins: must be require or trust"}},
		{"bad admins_must_enrol", valid + "mfa: {admins_must_enrol: perhaps}\n", nil, []string{"mfa.admins_must_enrol: must be true or false"}},
		{"bad email_verification", valid + "signup: {email_verification: sometimes}\n", nil, []string{"signup.email_verification: must be optional, required or off"}},
		{"bad smtp_url scheme", valid + "mail: {smtp_url: 'http://mail.example.com'}\n", nil, []string{"mail.smtp_url: must be smtp://"}},
		{"smtp_url without host", valid + "mail: {smtp_url: 'smtp://'}\n", nil, []string{"mail.smtp_url: must be smtp://"}},
		{"bad mail.from", valid + "mail: {from: nobody}\n", nil, []string{"mail.from: must be an address"}},
		{"reauth_window too short", valid + "security: {reauth_window: 10s}\n", nil, []string{"security.reauth_window: must be between 1m0s and 24h0m0s"}},
		{"reset_link_ttl too long", valid + "security: {reset_link_ttl: 48h}\n", nil, []string{"security.reset_link_ttl: must be between"}},
		{"verify_link_ttl by env", valid, map[string]string{"DANCECARD_SECURITY_VERIFY_LINK_TTL": "1m"}, []string{"security.verify_link_ttl (from DANCECARD_SECURITY_VERIFY_LINK_TTL): must be between"}},
		{"providers not list", valid + "providers: {id: x}\n", nil, []string{"providers: must be a list of providers"}},
		{"provider not mapping", valid + "providers: [github]\n", nil, []string{"providers[0]: must be a mapping"}},
		{"provider id missing", valid + "providers: [{preset: github}]\n", nil, []string{"providers[0].id: is required"}},
		{"provider id bad", valid + "providers: [{id: Git Hub, preset: github}]\n", nil, []string{"providers[0].id: must be 1 to 32"}},
		{"provider id duplicate", valid + "providers: [{id: gh, preset: github}, {id: gh, preset: github}]\n", nil, []string{"providers[1].id:", "ids must be unique"}},
		{"preset bad", valid + "providers: [{id: gh, preset: 'Git Hub'}]\n", nil, []string{"providers[0].preset: must be"}},
		{"protocol missing", valid + "providers: [{id: x, client_id: y}]\n", nil, []string{"providers[0].protocol: is required for a custom provider"}},
		{"protocol bad", valid + "providers: [{id: x, protocol: oauth3}]\n", nil, []string{"providers[0].protocol: must be oauth1, oauth2 or oidc"}},
		{"oauth2 client_id", valid + "providers:\n  - id: x\n    protocol: oauth2\n    auth_url: https://a.example.com\n    token_url: https://a.example.com/t\n", nil, []string{"dancecard.yaml:4: providers[0].client_id: required for protocol oauth2"}},
		{"oauth2 auth_url", valid + "providers: [{id: x, protocol: oauth2, client_id: c, token_url: 'https://a.example.com'}]\n", nil, []string{"providers[0].auth_url: required for protocol oauth2"}},
		{"oauth2 token_url", valid + "providers: [{id: x, protocol: oauth2, client_id: c, auth_url: 'https://a.example.com'}]\n", nil, []string{"providers[0].token_url: required for protocol oauth2"}},
		{"oauth1 consumer_key", valid + strings.Replace(oauth1, "    consumer_key: ck\n", "", 1), nil, []string{"providers[0].consumer_key: required for protocol oauth1"}},
		{"oauth1 request_token_url", valid + strings.Replace(oauth1, "    request_token_url: https://bird.example.com/request\n", "", 1), nil, []string{"providers[0].request_token_url: required for protocol oauth1"}},
		{"oauth1 authorize_url", valid + strings.Replace(oauth1, "    authorize_url: https://bird.example.com/authorize\n", "", 1), nil, []string{"providers[0].authorize_url: required for protocol oauth1"}},
		{"oauth1 access_token_url", valid + strings.Replace(oauth1, "    access_token_url: https://bird.example.com/access\n", "", 1), nil, []string{"providers[0].access_token_url: required for protocol oauth1"}},
		{"oidc issuer", valid + "providers: [{id: sso, protocol: oidc, client_id: c}]\n", nil, []string{"providers[0].issuer: required for protocol oidc"}},
		{"oidc client_id", valid + "providers: [{id: sso, protocol: oidc, issuer: 'https://id.example.com'}]\n", nil, []string{"providers[0].client_id: required for protocol oidc"}},
		{"foreign key", valid + oauth2 + "    consumer_key: x\n", nil, []string{"providers[0].consumer_key: is not used by a custom provider with protocol oauth2"}},
		{"relative auth_url", valid + strings.Replace(oauth2, "https://hub.example.com/authorize", "/authorize", 1), nil, []string{"providers[0].auth_url: must be an absolute http(s) URL"}},
		{"api_base_url query", valid + oauth2 + "    api_base_url: https://api.example.com/?x=1\n", nil, []string{"providers[0].api_base_url: must be an absolute http(s) URL without query"}},
		{"issuer scheme", valid + "providers: [{id: sso, protocol: oidc, client_id: c, issuer: 'ldap://id.example.com'}]\n", nil, []string{"providers[0].issuer: must be an absolute"}},
		{"userinfo other host", valid + oauth2 + "    api_base_url: https://api.example.com\n    userinfo_url: //evil.example.com/me\n", nil, []string{"providers[0].userinfo_url: must be a path"}},
		{"userinfo path needs base", valid + oauth2 + "    userinfo_url: /me\n", nil, []string{"providers[0].api_base_url: is required when userinfo_url is a path"}},
		{"token_auth bad", valid + oauth2 + "    token_auth: jwt\n", nil, []string{"providers[0].token_auth: must be basic or post"}},
		{"signature_method bad", valid + oauth1 + "    signature_method: PLAINTEXT\n", nil, []string{"providers[0].signature_method: must be HMAC-SHA1 or RSA-SHA1"}},
		{"rsa without key", valid + oauth1 + "    signature_method: RSA-SHA1\n", nil, []string{"providers[0].private_key: required for signature_method RSA-SHA1"}},
		{"rsa with both", valid + oauth1 + "    signature_method: RSA-SHA1\n    private_key: x\n    private_key_file: /x\n", nil, []string{"providers[0].private_key_file: set either private_key or private_key_file, not both"}},
		{"key file unreadable", valid + oauth1 + "    signature_method: RSA-SHA1\n    private_key_file: /nonexistent/key.pem\n", nil, []string{"providers[0].private_key_file: cannot be read"}},
		{"key not pem", valid + oauth1 + "    signature_method: RSA-SHA1\n    private_key: ${K}\n", map[string]string{"K": "not a key"}, []string{"providers[0].private_key: must be a PEM-encoded private key"}},
		{"key without rsa", valid + oauth1 + "    private_key: ${K}\n", map[string]string{"K": fakePEM}, []string{"providers[0].private_key: is used only with signature_method: RSA-SHA1"}},
		{"profile bad path", valid + oauth2 + "    profile: {id: 'a..b'}\n", nil, []string{"providers[0].profile.id: must be a JSON field name"}},
		{"profile list value", valid + oauth2 + "    profile: {id: [a]}\n", nil, []string{"providers[0].profile.id: must be a single value"}},
		{"auth_params reserved", valid + oauth2 + "    auth_params: {state: x}\n", nil, []string{"providers[0].auth_params.state: is set by Dancecard itself"}},
		{"auth_params scope", valid + oauth2 + "    auth_params: {scope: x}\n", nil, []string{"providers[0].auth_params.scope: use scopes instead"}},
		{"provider timeout", valid + oauth2 + "    timeout: soon\n", nil, []string{"providers[0].timeout: must be a duration"}},
		{"pkce not bool", valid + oauth2 + "    pkce: maybe\n", nil, []string{"providers[0].pkce: must be true or false"}},
		{"unterminated var", valid + "addr: ${ADDR\n", nil, []string{"dancecard.yaml:3: addr: unterminated ${"}},
		{"bad var name", valid + "addr: ${ADDR:-x}\n", nil, []string{"addr: ${ADDR:-x} is not a valid variable reference"}},
		{"yaml syntax", valid + "addr: [\n", nil, []string{"dancecard.yaml:"}},
		{"two documents", valid + "---\naddr: x\n", nil, []string{"only one YAML document"}},
		{"not a mapping", "- a\n- b\n", nil, []string{"dancecard.yaml:1: the file must be a mapping"}},
		{"env bool", valid, map[string]string{"DANCECARD_DEV": "maybe"}, []string{"config: dev (from DANCECARD_DEV): must be true, false, 1 or 0"}},
		{"env duration", valid, map[string]string{"DANCECARD_SESSIONS_IDLE_TIMEOUT": "1 day"}, []string{"sessions.idle_timeout (from DANCECARD_SESSIONS_IDLE_TIMEOUT): must be a duration"}},
		{"env token key", "base_url: https://x.example.com\n", map[string]string{"DANCECARD_TOKEN_KEYS": testKey + ",short"}, []string{"token_keys[1] (from DANCECARD_TOKEN_KEYS)"}},
		{"env cidr", valid, map[string]string{"DANCECARD_TRUSTED_PROXIES": "bad"}, []string{"trusted_proxies[0] (from DANCECARD_TRUSTED_PROXIES)"}},
		{"env base_url", valid, map[string]string{"DANCECARD_BASE_URL": "http://dc.example.com"}, []string{"base_url (from DANCECARD_BASE_URL): http:// is allowed only"}},
		{"env log level", valid, map[string]string{"DANCECARD_LOG_LEVEL": "trace"}, []string{"log.level (from DANCECARD_LOG_LEVEL)"}},
		{"env provider", valid + oauth2, map[string]string{"DANCECARD_PROVIDERS_HUB_TIMEOUT": "x"}, []string{"providers[0].timeout (from DANCECARD_PROVIDERS_HUB_TIMEOUT)"}},
		{"env provider url", valid + oauth2, map[string]string{"DANCECARD_PROVIDERS_HUB_TOKEN_URL": "nope"}, []string{"providers[0].token_url (from DANCECARD_PROVIDERS_HUB_TOKEN_URL): must be an absolute"}},
		{"env ambiguous", valid + "providers: [{id: a-b, preset: github}, {id: a_b, preset: github}]\n", map[string]string{"DANCECARD_PROVIDERS_A_B_CLIENT_ID": "x"}, []string{"DANCECARD_PROVIDERS_A_B_CLIENT_ID: ambiguous", "providers[0].client_id", "providers[1].client_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.yaml), env(tt.env))
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}
