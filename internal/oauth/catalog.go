package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/dancecard/dancecard/internal/config"
)

// Catalog is the set of configured providers, by id, in configuration order.
//
// Each configuration entry is merged over its preset, with the configuration
// winning: endpoints, scopes (absent means the preset's), pkce (absent means
// the preset's; true for custom oauth2 and oidc providers), token_auth,
// auth_params (merged key by key), signature_method (HMAC-SHA1 unless the
// preset says otherwise, as JIRA's RSA-SHA1 does), timeout (10s) and name
// (the preset's, else the id). userinfo_url may be a path, joined under
// api_base_url, or a full URL. A profile mapping in the configuration is
// merged over the preset's field by field and then replaces the preset's
// profile function, since an operator who maps fields by hand means those
// fields.
//
// Only providers with credentials are offered by Get and Enabled, but every
// entry is checked, so a mistake in a provider whose secret is unset today
// stops start-up today rather than the day the secret arrives.
type Catalog struct {
	byID    map[string]*Provider
	enabled []*Provider
	base    *url.URL
}

// NewCatalog merges cfgs over the presets and checks the result. baseURL is
// the public URL callback URLs are built from. Errors name the offending key
// as the config package does ("config: providers[2].preset: ...").
func NewCatalog(cfgs []config.Provider, baseURL *url.URL) (*Catalog, error) {
	if baseURL == nil || !baseURL.IsAbs() || baseURL.Host == "" {
		return nil, errors.New("config: base_url: an absolute URL is required to build callback URLs")
	}
	base := *baseURL
	base.RawQuery, base.Fragment = "", ""
	c := &Catalog{byID: make(map[string]*Provider, len(cfgs)), base: &base}
	presets := Presets()
	seen := make(map[string]int, len(cfgs))
	for i, cfg := range cfgs {
		key := fmt.Sprintf("providers[%d]", i)
		if j, dup := seen[cfg.ID]; dup {
			return nil, fmt.Errorf("config: %s.id: %q is already the id of providers[%d]; ids must be unique", key, cfg.ID, j)
		}
		seen[cfg.ID] = i
		p, err := buildProvider(key, cfg, presets)
		if err != nil {
			return nil, err
		}
		if cfg.Enabled() {
			c.byID[p.ID] = p
			c.enabled = append(c.enabled, p)
		}
	}
	return c, nil
}

// Get returns the enabled provider with this id.
func (c *Catalog) Get(id string) (*Provider, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// Enabled returns the enabled providers in configuration order, which is the
// order the log-in and profile pages show them in. The slice is the caller's.
func (c *Catalog) Enabled() []*Provider {
	return slices.Clone(c.enabled)
}

// CallbackURL is the one redirect URI registered at the provider for both
// protocols and both intents (log in, connect): base_url/auth/{id}/callback.
func (c *Catalog) CallbackURL(id string) string {
	return c.base.JoinPath("auth", id, "callback").String()
}
