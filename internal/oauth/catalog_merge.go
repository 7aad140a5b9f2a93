package oauth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dancecard/dancecard/internal/config"
)

// keyErrorf formats an error about one configuration key the way the config
// package does, so both read alike at start-up.
func keyErrorf(key, format string, args ...any) error {
	return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
}

// buildProvider turns one configuration entry into a checked provider.
func buildProvider(key string, cfg config.Provider, presets map[string]Preset) (*Provider, error) {
	p, err := startFrom(key, cfg, presets)
	if err != nil {
		return nil, err
	}
	if err := checkForeignKeys(key, p.Protocol, cfg); err != nil {
		return nil, err
	}
	overlayConfig(&p, cfg)
	steps := []func(string, *Provider, config.Provider) error{
		mergeUserinfo, mergeProfile, mergeSignature, checkEndpoints,
	}
	for _, step := range steps {
		if err := step(key, &p, cfg); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// startFrom is the preset built for this install, or the blank slate of a
// custom provider with its protocol's defaults.
func startFrom(key string, cfg config.Provider, presets map[string]Preset) (Provider, error) {
	if cfg.Preset == "" {
		return customDefaults(key, cfg)
	}
	preset, ok := presets[cfg.Preset]
	if !ok {
		names := slices.Sorted(maps.Keys(presets))
		return Provider{}, keyErrorf(key+".preset", "unknown preset %q%s; the presets are %s",
			cfg.Preset, config.Suggest(cfg.Preset, names), strings.Join(names, ", "))
	}
	if cfg.Protocol != "" && Protocol(cfg.Protocol) != preset.Protocol {
		return Provider{}, keyErrorf(key+".protocol", "the %s preset speaks %s, not %s; leave protocol out, or describe a custom provider without preset",
			cfg.Preset, preset.Protocol, cfg.Protocol)
	}
	if err := checkNeed(key+".base_url", cfg.BaseURL, preset.BaseURL, cfg.Preset, "the address of your instance"); err != nil {
		return Provider{}, err
	}
	if err := checkNeed(key+".tenant", cfg.Tenant, preset.Tenant, cfg.Preset, "the directory to sign in to"); err != nil {
		return Provider{}, err
	}
	p, err := preset.Provider(PresetSettings{BaseURL: cfg.BaseURL, Tenant: cfg.Tenant})
	if se := (*SettingError)(nil); errors.As(err, &se) {
		return Provider{}, keyErrorf(key+"."+se.Setting, "%s", se.Problem)
	} else if err != nil {
		return Provider{}, keyErrorf(key+".preset", "%v", err)
	}
	p.Preset, p.Name, p.Colour, p.Mark = cfg.Preset, preset.Name, preset.Colour, preset.Mark
	return p, nil
}

// customDefaults are a custom provider's defaults: PKCE on for OAuth 2 and
// OIDC, HMAC-SHA1 for OAuth 1, the standard claims for OIDC and an "id"
// field otherwise.
func customDefaults(key string, cfg config.Provider) (Provider, error) {
	p := Provider{Protocol: Protocol(cfg.Protocol)}
	switch p.Protocol {
	case OAuth2:
		p.PKCE, p.Profile = true, ProfileMap{ID: "id"}
	case OIDC:
		p.PKCE, p.Profile = true, oidcClaims()
	case OAuth1:
		p.SignatureMethod, p.Profile = "HMAC-SHA1", ProfileMap{ID: "id"}
	default:
		return Provider{}, keyErrorf(key+".protocol", "must be oauth1, oauth2 or oidc for a custom provider, got %q", cfg.Protocol)
	}
	return p, nil
}

// checkNeed refuses base_url or tenant where the preset would ignore it and
// demands it where the endpoints cannot be built without it.
func checkNeed(key, value string, need Need, preset, what string) error {
	switch {
	case need == NeedNone && value != "":
		return keyErrorf(key, "is not used by the %s preset, whose endpoints are fixed", preset)
	case need == NeedRequired && value == "":
		return keyErrorf(key, "is required by the %s preset: %s", preset, what)
	}
	return nil
}

// checkForeignKeys refuses credentials and endpoints the protocol never
// reads. For a preset this matters most: consumer_key on an OAuth 2 preset,
// or client_id on JIRA, would enable a provider that cannot authenticate.
func checkForeignKeys(key string, protocol Protocol, cfg config.Provider) error {
	oauth1Keys := map[string]bool{
		"consumer_key": cfg.ConsumerKey != "", "consumer_secret": cfg.ConsumerSecret != "",
		"request_token_url": cfg.RequestTokenURL != "", "authorize_url": cfg.AuthorizeURL != "",
		"access_token_url": cfg.AccessTokenURL != "", "signature_method": cfg.SignatureMethod != "",
		privateKeyName(cfg): cfg.PrivateKey != "",
	}
	oauth2Keys := map[string]bool{
		"client_id": cfg.ClientID != "", "client_secret": cfg.ClientSecret != "",
		"auth_url": cfg.AuthURL != "", "token_url": cfg.TokenURL != "", "revoke_url": cfg.RevokeURL != "",
		"pkce": cfg.PKCE != nil, "token_auth": cfg.TokenAuth != "", "issuer": cfg.Issuer != "",
		"token_type_optional": cfg.TokenTypeOptional != nil,
	}
	foreign := oauth1Keys
	if protocol == OAuth1 {
		foreign = oauth2Keys
	} else if protocol == OAuth2 {
		foreign["issuer"] = cfg.Issuer != ""
	}
	for _, k := range slices.Sorted(maps.Keys(foreign)) {
		if foreign[k] {
			return keyErrorf(key+"."+k, "is not used by %s, which speaks %s", describeEntry(cfg), protocol)
		}
	}
	return nil
}

// describeEntry names an entry for messages: its preset, or its id.
func describeEntry(cfg config.Provider) string {
	if cfg.Preset != "" {
		return "the " + cfg.Preset + " preset"
	}
	return "provider " + cfg.ID
}

// overlayConfig copies every value the configuration sets over the preset's.
func overlayConfig(p *Provider, cfg config.Provider) {
	p.ID = cfg.ID
	if cfg.Name != "" {
		p.Name = cfg.Name
	}
	if p.Name == "" {
		p.Name = cfg.ID
	}
	for dst, src := range map[*string]string{
		&p.ClientID: cfg.ClientID, &p.ClientSecret: cfg.ClientSecret,
		&p.ConsumerKey: cfg.ConsumerKey, &p.ConsumerSecret: cfg.ConsumerSecret,
		&p.AuthURL: cfg.AuthURL, &p.TokenURL: cfg.TokenURL, &p.RevokeURL: cfg.RevokeURL,
		&p.RequestTokenURL: cfg.RequestTokenURL, &p.AuthorizeURL: cfg.AuthorizeURL,
		&p.AccessTokenURL: cfg.AccessTokenURL, &p.Issuer: cfg.Issuer, &p.APIBaseURL: cfg.APIBaseURL,
	} {
		if src != "" {
			*dst = src
		}
	}
	if cfg.Scopes != nil {
		p.Scopes = slices.Clone(cfg.Scopes)
	}
	if cfg.PKCE != nil {
		p.PKCE = *cfg.PKCE
	}
	if cfg.TokenTypeOptional != nil {
		p.TokenTypeOptional = *cfg.TokenTypeOptional
	}
	if cfg.TokenAuth != "" {
		p.TokenAuth = TokenAuth(cfg.TokenAuth)
	}
	if len(cfg.AuthParams) > 0 {
		params := maps.Clone(p.AuthParams)
		if params == nil {
			params = make(map[string]string, len(cfg.AuthParams))
		}
		maps.Copy(params, cfg.AuthParams)
		p.AuthParams = params
	}
	p.Timeout = DefaultTimeout
	if cfg.Timeout > 0 {
		p.Timeout = cfg.Timeout
	}
}
