package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// envNameRE is what ${NAME} accepts, so that a typo such as ${FOO:-x} is reported
// instead of silently reading a variable nobody can set.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// origin says where a value came from, so that an error can point at it.
type origin struct {
	file   string // the config file, when the value was written there
	line   int
	envVar string // the environment variable that overrode the key, if any
	viaEnv bool   // the text came from the environment, directly or through ${VAR}
}

// errorf formats an error about key, placed at the origin's file line or variable.
func (o origin) errorf(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case o.envVar != "":
		return fmt.Errorf("config: %s (from %s): %s", key, o.envVar, msg)
	case o.file != "":
		return fmt.Errorf("config: %s:%d: %s: %s", o.file, o.line, key, msg)
	default:
		return fmt.Errorf("config: %s: %s", key, msg)
	}
}

// value is one scalar's text, after interpolation, with its origin.
type value struct {
	s  string
	at origin
}

// expand replaces each ${NAME} in s with getenv(NAME) and each $${ with a literal ${.
// It reports whether a variable was read, because text from the environment may spell
// booleans as 1 and 0, and an empty result there means "not set" rather than "empty".
func expand(s string, getenv func(string) string) (string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	used := false
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), used, nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", false, errors.New("unterminated ${ (write $${ for a literal ${)")
		}
		name := s[i+2 : i+2+end]
		if !envNameRE.MatchString(name) {
			return "", false, fmt.Errorf("${%s} is not a valid variable reference (write $${ for a literal ${)", name)
		}
		b.WriteString(getenv(name))
		used = true
		s = s[i+3+end:]
	}
}

// set parses v into the target t of key path and records where it came from. Text that
// came from the environment and is empty leaves a typed key at its default, so that
// "timeout: ${TIMEOUT}" with TIMEOUT unset means the default rather than an error.
func (l *loader) set(path string, t any, v value) error {
	l.origins[path] = v.at
	if _, isString := t.(*string); v.s == "" && v.at.viaEnv && !isString {
		return nil
	}
	switch t := t.(type) {
	case *string:
		*t = v.s
	case *bool:
		b, err := parseBool(path, v)
		*t = b
		return err
	case **bool:
		b, err := parseBool(path, v)
		*t = &b
		return err
	case *time.Duration:
		d, err := parseDuration(path, v)
		*t = d
		return err
	case *int:
		n, err := parseCount(path, v)
		*t = n
		return err
	case *slog.Level:
		return parseLevel(path, v, t)
	case *[]string, *[]netip.Prefix, *[][]byte:
		return l.setList(path, t, splitList(v))
	default:
		return v.at.errorf(path, "must be a mapping or a list, not a single value")
	}
	return nil
}

// splitList turns one scalar into list items, so a list can be given as one
// comma-separated string (the only way an environment variable can give one).
func splitList(v value) []value {
	parts := strings.Split(v.s, ",")
	items := make([]value, len(parts))
	for i, p := range parts {
		items[i] = value{strings.TrimSpace(p), v.at}
	}
	return items
}

// setList parses list items into t. Empty items (a trailing comma, an unset ${VAR} in a
// key rotation list) are skipped, but indexes in messages still count them, so they
// match what the user wrote.
func (l *loader) setList(path string, t any, items []value) error {
	var (
		strs     = []string{}
		prefixes = []netip.Prefix{}
		keys     = [][]byte{}
	)
	for i, item := range items {
		key := fmt.Sprintf("%s[%d]", path, i)
		l.origins[key] = item.at
		if item.s == "" {
			continue
		}
		switch t.(type) {
		case *[]string:
			strs = append(strs, item.s)
		case *[]netip.Prefix:
			p, err := parsePrefix(key, item)
			if err != nil {
				return err
			}
			prefixes = append(prefixes, p)
		case *[][]byte:
			k, err := parseKey(key, item)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
	}
	switch t := t.(type) {
	case *[]string:
		*t = strs
	case *[]netip.Prefix:
		*t = prefixes
	case *[][]byte:
		*t = keys
	}
	return nil
}

// parseBool accepts true and false in any case; text from the environment may also say
// 1 or 0, as shell scripts and container platforms commonly do.
func parseBool(key string, v value) (bool, error) {
	switch strings.ToLower(v.s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "1":
		if v.at.viaEnv {
			return true, nil
		}
	case "0":
		if v.at.viaEnv {
			return false, nil
		}
	}
	if v.at.viaEnv {
		return false, v.at.errorf(key, "must be true, false, 1 or 0, got %q", v.s)
	}
	return false, v.at.errorf(key, "must be true or false, got %q", v.s)
}

// parseDuration accepts Go durations such as 30s or 72h and refuses zero and negative
// ones, which would make every session or request expire at once.
func parseDuration(key string, v value) (time.Duration, error) {
	d, err := time.ParseDuration(v.s)
	if err != nil {
		return 0, v.at.errorf(key, "must be a duration such as 10s, 30m or 72h, got %q", v.s)
	}
	if d <= 0 {
		return 0, v.at.errorf(key, "must be positive, got %q", v.s)
	}
	return d, nil
}

// parseLevel accepts exactly the four level names operators know.
func parseLevel(key string, v value, out *slog.Level) error {
	switch strings.ToLower(v.s) {
	case "debug":
		*out = slog.LevelDebug
	case "info":
		*out = slog.LevelInfo
	case "warn":
		*out = slog.LevelWarn
	case "error":
		*out = slog.LevelError
	default:
		return v.at.errorf(key, "must be debug, info, warn or error, got %q", v.s)
	}
	return nil
}

// parsePrefix accepts a CIDR or a bare address, which means that one host.
func parsePrefix(key string, v value) (netip.Prefix, error) {
	bad := v.at.errorf(key, "must be an IP address or a CIDR such as 10.0.0.0/8, got %q", v.s)
	if strings.Contains(v.s, "/") {
		p, err := netip.ParsePrefix(v.s)
		if err != nil {
			return netip.Prefix{}, bad
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v.s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, bad
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseKey decodes one token key. Any base64 alphabet, padded or not, is accepted
// because keys are pasted from many tools; the message never echoes the key.
func parseKey(key string, v value) ([]byte, error) {
	encodings := []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	}
	for _, enc := range encodings {
		b, err := enc.DecodeString(v.s)
		if err != nil {
			continue
		}
		if len(b) != 32 {
			return nil, v.at.errorf(key, "must decode to 32 bytes, got %d (generate one with: openssl rand -base64 32)", len(b))
		}
		return b, nil
	}
	return nil, v.at.errorf(key, "is not valid base64 (generate one with: openssl rand -base64 32)")
}
