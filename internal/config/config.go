// Package config loads Dancecard's one YAML configuration file, lets the environment
// override every key, and refuses anything it does not understand, so that a typo or a
// wrong value stops start-up with a message naming the key instead of silently running
// with a default.
package config

import (
	"log/slog"
	"net/netip"
	"net/url"
	"time"
)

// Defaults that are not the zero value of their type.
const (
	defaultAddr            = "127.0.0.1:8080"
	defaultBaseURL         = "http://127.0.0.1:8080"
	defaultDatabaseURL     = "postgres://postgres@127.0.0.1:5432/dancecard?sslmode=disable"
	defaultIdleTimeout     = 72 * time.Hour
	defaultAbsoluteTimeout = 720 * time.Hour
	defaultProviderTimeout = 10 * time.Second
	defaultLogFormat       = "json"
	defaultMailFrom        = "Dancecard <no-reply@example.com>"
	defaultReauthWindow    = 10 * time.Minute
	defaultResetLinkTTL    = time.Hour
	defaultVerifyLinkTTL   = 72 * time.Hour
)

// Config is the whole, validated configuration of one Dancecard process.
type Config struct {
	Addr              string         // addr
	MetricsAddr       string         // metrics_addr: "" serves /metrics on addr
	BaseURL           *url.URL       // base_url, without a trailing slash in Path
	DatabaseURL       string         // database_url
	Dev               bool           // dev
	InsecureTransport bool           // insecure_transport
	TrustedProxies    []netip.Prefix // trusted_proxies
	TokenKeys         [][]byte       // token_keys, each 32 bytes; the first one encrypts
	RateLimits        RateLimits     // rate_limits
	Signup            Signup         // signup
	Sessions          Sessions       // sessions
	Mail              Mail           // mail
	Security          Security       // security
	MFA               MFA            // mfa
	Log               Log            // log
	Events            Events         // events
	Providers         []Provider     // providers
}

// RateLimits switches the per-IP and per-account limits; they are off only for load tests.
type RateLimits struct {
	Enabled bool // rate_limits.enabled
}

// Signup says which ways of creating a user are open.
type Signup struct {
	Local               bool   // signup.local: email and password
	ViaProvider         bool   // signup.via_provider: logging in with an unlinked provider account
	LinkByVerifiedEmail bool   // signup.link_by_verified_email: off by default (pre-account takeover)
	EmailVerification   string // signup.email_verification: optional, required or off
}

// Mail says how the server sends mail. An empty SMTPURL in dev mode means the dev
// mailbox at /dev/mail; outside dev mode it means no mail is sent (a warning says so).
type Mail struct {
	SMTPURL string // mail.smtp_url: smtp://user:pass@host:587 (STARTTLS) or smtps://host:465
	From    string // mail.from: the From header of every mail
}

// MFA says when second factors are asked for.
type MFA struct {
	ProviderLogins  string // mfa.provider_logins: require (a second factor after a provider log-in too) or trust
	AdminsMustEnrol bool   // mfa.admins_must_enrol: administrators need a second factor to use /admin
}

// Security bounds how long proofs of identity last.
type Security struct {
	ReauthWindow  time.Duration // security.reauth_window: sensitive actions need an authentication this recent
	ResetLinkTTL  time.Duration // security.reset_link_ttl: password-reset links
	VerifyLinkTTL time.Duration // security.verify_link_ttl: email-verification and email-change links
}

// Sessions bounds how long a browser login lasts.
type Sessions struct {
	IdleTimeout     time.Duration // sessions.idle_timeout
	AbsoluteTimeout time.Duration // sessions.absolute_timeout, at least IdleTimeout
}

// Log chooses how much the server logs and in which format.
type Log struct {
	Level  slog.Level // log.level: debug, info, warn or error
	Format string     // log.format: json or text
}

// Provider is one entry of providers: either a preset with credentials (and perhaps a
// few overrides) or a fully described custom OAuth 1.0a, OAuth 2 or OpenID Connect
// provider. Presets are resolved by the oauth package; this package only checks shape.
type Provider struct {
	ID                string            // id
	Preset            string            // preset
	Protocol          string            // protocol: oauth1, oauth2 or oidc
	Name              string            // name; defaults to ID for custom providers
	ClientID          string            // client_id
	ClientSecret      string            // client_secret
	ConsumerKey       string            // consumer_key
	ConsumerSecret    string            // consumer_secret
	AuthURL           string            // auth_url
	TokenURL          string            // token_url
	RevokeURL         string            // revoke_url
	RequestTokenURL   string            // request_token_url
	AuthorizeURL      string            // authorize_url
	AccessTokenURL    string            // access_token_url
	APIBaseURL        string            // api_base_url
	UserinfoURL       string            // userinfo_url: a path under api_base_url or a full URL
	Issuer            string            // issuer
	BaseURL           string            // base_url, for self-hosted instances of a preset
	Tenant            string            // tenant
	Scopes            []string          // scopes; nil when absent so preset defaults apply
	PKCE              *bool             // pkce; nil when absent
	TokenTypeOptional *bool             // token_type_optional: the token response may omit token_type; nil when absent
	TokenAuth         string            // token_auth: "", basic or post
	SignatureMethod   string            // signature_method: "", HMAC-SHA1 or RSA-SHA1
	PrivateKey        string            // private_key; filled from private_key_file when that is set
	PrivateKeyFile    string            // private_key_file
	Profile           map[string]string // profile: profile field -> JSON field path
	AuthParams        map[string]string // auth_params: extra authorization-URL parameters
	Timeout           time.Duration     // timeout
}

// Enabled reports whether the provider has credentials and so should be offered. A
// provider whose credentials are empty (typically an unset ${VAR}) is kept but disabled,
// so one example file serves machines that have secrets for only some providers.
func (p Provider) Enabled() bool {
	switch {
	case p.Preset != "":
		return p.ClientID != "" || p.ConsumerKey != ""
	case p.Protocol == "oauth1":
		return p.ConsumerKey != ""
	default:
		return p.ClientID != ""
	}
}

// Load reads the YAML file at path ("" means no file: defaults and environment only),
// replaces ${VAR} in its values, applies the environment overrides, fills in defaults and
// validates the result. Every error names the offending key and, where it has one, the
// file and line or the environment variable it came from. getenv is the only way this
// package reads the environment, so tests and callers decide what it sees.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	l := newLoader(path, getenv)
	if path != "" {
		if err := l.loadFile(path); err != nil {
			return nil, err
		}
	}
	if err := l.applyEnv(); err != nil {
		return nil, err
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

// loader carries one Load call's state: the configuration being filled, and where each
// key's value came from so that later checks can point at it.
type loader struct {
	file    string
	getenv  func(string) string
	cfg     *Config
	baseURL string            // base_url as written; parsed during validation
	origins map[string]origin // key path, e.g. "providers[1].client_id" -> its source
}

// newLoader starts from the defaults, so that the file and the environment only
// overwrite what they mention.
func newLoader(path string, getenv func(string) string) *loader {
	return &loader{
		file:    path,
		getenv:  getenv,
		baseURL: defaultBaseURL,
		origins: map[string]origin{},
		cfg: &Config{
			Addr:        defaultAddr,
			DatabaseURL: defaultDatabaseURL,
			RateLimits:  RateLimits{Enabled: true},
			Signup:      Signup{Local: true, ViaProvider: true, EmailVerification: "optional"},
			Mail:        Mail{From: defaultMailFrom},
			MFA:         MFA{ProviderLogins: "require"},
			Security:    Security{ReauthWindow: defaultReauthWindow, ResetLinkTTL: defaultResetLinkTTL, VerifyLinkTTL: defaultVerifyLinkTTL},
			Sessions:    Sessions{IdleTimeout: defaultIdleTimeout, AbsoluteTimeout: defaultAbsoluteTimeout},
			Log:         Log{Level: slog.LevelInfo, Format: defaultLogFormat},
			Events:      Events{MaxAttempts: defaultMaxAttempts, Retention: defaultRetention, Log: true},
		},
	}
}

// fields maps each key of one YAML mapping to where its value goes. The type of each
// target (*string, *bool, *time.Duration, a nested fields, ...) decides how a value is
// parsed, so the file and the environment share one parser per type.
type fields map[string]any

// profileTarget marks the profile mapping, whose keys are restricted to profileKeys.
type profileTarget struct{ m *map[string]string }

// profileKeys lists the profile fields a provider's user-info response can be mapped to.
func profileKeys() []string {
	return []string{"id", "username", "name", "email", "email_verified", "avatar_url", "profile_url"}
}

// topFields describes the top level of the file.
func (l *loader) topFields() fields {
	c := l.cfg
	return fields{
		"addr":               &c.Addr,
		"metrics_addr":       &c.MetricsAddr,
		"base_url":           &l.baseURL,
		"database_url":       &c.DatabaseURL,
		"dev":                &c.Dev,
		"insecure_transport": &c.InsecureTransport,
		"trusted_proxies":    &c.TrustedProxies,
		"token_keys":         &c.TokenKeys,
		"rate_limits":        fields{"enabled": &c.RateLimits.Enabled},
		"signup": fields{
			"local":                  &c.Signup.Local,
			"via_provider":           &c.Signup.ViaProvider,
			"link_by_verified_email": &c.Signup.LinkByVerifiedEmail,
			"email_verification":     &c.Signup.EmailVerification,
		},
		"mail": fields{"smtp_url": &c.Mail.SMTPURL, "from": &c.Mail.From},
		"mfa":  fields{"provider_logins": &c.MFA.ProviderLogins, "admins_must_enrol": &c.MFA.AdminsMustEnrol},
		"security": fields{
			"reauth_window":   &c.Security.ReauthWindow,
			"reset_link_ttl":  &c.Security.ResetLinkTTL,
			"verify_link_ttl": &c.Security.VerifyLinkTTL,
		},
		"sessions": fields{
			"idle_timeout":     &c.Sessions.IdleTimeout,
			"absolute_timeout": &c.Sessions.AbsoluteTimeout,
		},
		"log":       fields{"level": &c.Log.Level, "format": &c.Log.Format},
		"events":    eventsFields(&c.Events),
		"providers": &c.Providers,
	}
}

// providerFields describes one entry of providers.
func providerFields(p *Provider) fields {
	return fields{
		"id": &p.ID, "preset": &p.Preset, "protocol": &p.Protocol, "name": &p.Name,
		"client_id": &p.ClientID, "client_secret": &p.ClientSecret,
		"consumer_key": &p.ConsumerKey, "consumer_secret": &p.ConsumerSecret,
		"auth_url": &p.AuthURL, "token_url": &p.TokenURL, "revoke_url": &p.RevokeURL,
		"request_token_url": &p.RequestTokenURL, "authorize_url": &p.AuthorizeURL,
		"access_token_url": &p.AccessTokenURL, "api_base_url": &p.APIBaseURL,
		"userinfo_url": &p.UserinfoURL, "issuer": &p.Issuer, "base_url": &p.BaseURL,
		"tenant": &p.Tenant, "scopes": &p.Scopes, "pkce": &p.PKCE, "token_type_optional": &p.TokenTypeOptional, "token_auth": &p.TokenAuth,
		"signature_method": &p.SignatureMethod, "private_key": &p.PrivateKey,
		"private_key_file": &p.PrivateKeyFile, "profile": profileTarget{&p.Profile},
		"auth_params": &p.AuthParams, "timeout": &p.Timeout,
	}
}
