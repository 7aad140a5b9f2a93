package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// envPrefix starts the name of every environment override except DATABASE_URL.
const envPrefix = "DANCECARD_"

// applyEnv lets the environment override any key after the file was read, so one file
// can serve several replicas (DANCECARD_ADDR) and secrets can stay out of it. Names are
// derived from the key tables, so a key added there is overridable at once. An empty
// variable counts as unset, since getenv cannot tell the two apart.
func (l *loader) applyEnv() error {
	fs := l.topFields()
	delete(fs, "providers")
	if err := l.envFields("", fs); err != nil {
		return err
	}
	return l.applyProviderEnv()
}

// envFields overrides the keys of one mapping (and of the mappings inside it).
func (l *loader) envFields(path string, fs fields) error {
	for _, key := range slices.Sorted(maps.Keys(fs)) {
		kp := join(path, key)
		if nested, ok := fs[key].(fields); ok {
			if err := l.envFields(kp, nested); err != nil {
				return err
			}
			continue
		}
		if _, ok := fs[key].(*[]Webhook); ok {
			continue // a list of mappings; its secrets come through ${VAR}
		}
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(kp, ".", "_"))
		names := []string{name}
		if kp == "database_url" {
			names = []string{"DATABASE_URL", name} // the name every PostgreSQL tool knows wins
		}
		for _, n := range names {
			if s := l.getenv(n); s != "" {
				if err := l.set(kp, fs[key], envValue(n, s)); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// envValue wraps the text of environment variable name.
func envValue(name, s string) value {
	return value{s, origin{envVar: name, viaEnv: true}}
}

// providerEnvName is the part of DANCECARD_PROVIDERS_<ID>_<KEY> that names a provider.
func providerEnvName(id string) string {
	return strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
}

// binding is one provider key an environment variable would override.
type binding struct {
	path   string
	target any
}

// applyProviderEnv overrides the single-valued keys (and scopes, as a comma-separated
// list) of the providers the file declared. Two providers can map to one variable name
// ("company-sso" and "company_sso", or "a" + "api_base_url" and "a_api" + "base_url");
// such a variable is refused rather than applied to a guess, but only when it is set.
func (l *loader) applyProviderEnv() error {
	bound := map[string][]binding{}
	for i := range l.cfg.Providers {
		p := &l.cfg.Providers[i]
		prefix := envPrefix + "PROVIDERS_" + providerEnvName(p.ID) + "_"
		for key, t := range providerFields(p) {
			switch t.(type) {
			case profileTarget, *map[string]string:
				continue
			}
			if key == "id" {
				continue
			}
			name := prefix + strings.ToUpper(key)
			bound[name] = append(bound[name], binding{fmt.Sprintf("providers[%d].%s", i, key), t})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(bound)) {
		s := l.getenv(name)
		if s == "" {
			continue
		}
		bs := bound[name]
		if len(bs) > 1 {
			slices.SortFunc(bs, func(a, b binding) int { return strings.Compare(a.path, b.path) })
			return fmt.Errorf("config: %s: ambiguous, it would override both %s and %s; give one provider another id",
				name, bs[0].path, bs[1].path)
		}
		if err := l.set(bs[0].path, bs[0].target, envValue(name, s)); err != nil {
			return err
		}
	}
	return nil
}

// suggest returns ` (did you mean "x"?)` when one known key is a likely typo of key.
func suggest(key string, fs fields) string {
	return Suggest(key, slices.Sorted(maps.Keys(fs)))
}

// Suggest returns ` (did you mean "x"?)` when one of names is a likely typo
// of got, else "". Other packages that validate configured names (the
// provider presets) use it so every message reads alike.
func Suggest(got string, names []string) string {
	best, bestDist := "", min(3, len(got)/2+1)
	for _, known := range names {
		if d := distance(got, known); d < bestDist {
			best, bestDist = known, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, for typo suggestions.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
