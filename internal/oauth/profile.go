package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MapJSON builds a Profile from a JSON document using m. Numbers keep their
// exact digits (Twitter's 64-bit ids do not survive float64), and the id is
// required.
func MapJSON(raw []byte, m ProfileMap) (Profile, error) {
	return mapThen(m, nil)(raw, nil)
}

// mapThen returns a ProfileFunc that maps the document with m and then lets
// fix adjust what field mapping cannot express, so a preset writes its
// mapping once, in its ProfileMap.
func mapThen(m ProfileMap, fix func(doc map[string]any, p *Profile) error) func([]byte, Getter) (Profile, error) {
	return func(raw []byte, _ Getter) (Profile, error) {
		doc, err := DecodeJSON(raw)
		if err != nil {
			return Profile{}, err
		}
		p := mapDoc(doc, m)
		if fix != nil {
			if err := fix(doc, &p); err != nil {
				return Profile{}, err
			}
		}
		return p, p.Validate()
	}
}

func mapDoc(doc map[string]any, m ProfileMap) Profile {
	p := Profile{
		ID:         LookupString(doc, m.ID),
		Username:   LookupString(doc, m.Username),
		Name:       LookupString(doc, m.Name),
		Email:      LookupString(doc, m.Email),
		AvatarURL:  LookupString(doc, m.AvatarURL),
		ProfileURL: LookupString(doc, m.ProfileURL),
	}
	if m.EmailVerified != "" {
		p.EmailVerified = LookupBool(doc, m.EmailVerified)
	}
	return p
}

// Validate checks the profile has its id and trims every field to a sane
// length, since providers are not trusted to send short strings.
func (p *Profile) Validate() error {
	p.ID = strings.TrimSpace(p.ID)
	if p.ID == "" || len(p.ID) > 255 {
		return ErrNoProfileID
	}
	for _, f := range []*string{&p.Username, &p.Name, &p.Email, &p.AvatarURL, &p.ProfileURL} {
		*f = clip(strings.TrimSpace(*f), 1024)
	}
	if !strings.HasPrefix(p.AvatarURL, "https://") && !strings.HasPrefix(p.AvatarURL, "http://") {
		p.AvatarURL = ""
	}
	if !strings.HasPrefix(p.ProfileURL, "https://") && !strings.HasPrefix(p.ProfileURL, "http://") {
		p.ProfileURL = ""
	}
	if p.Email == "" {
		p.EmailVerified = false
	}
	return nil
}

// DecodeJSON parses a JSON object keeping numbers exact.
func DecodeJSON(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, &ProviderError{Step: "profile", Description: "response is not a JSON object: " + err.Error()}
	}
	return doc, nil
}

// Lookup follows a dotted path ("data.user.id", "emails.0.value") through
// nested objects and arrays; it returns nil when any step is missing.
func Lookup(doc any, path string) any {
	if path == "" {
		return nil
	}
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// LookupString returns the value at path as a string: strings as they are,
// numbers with their exact digits, booleans as true/false, else "".
func LookupString(doc any, path string) string {
	switch v := Lookup(doc, path).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

// LookupBool reads a boolean that providers send as true, "true" or 1.
func LookupBool(doc any, path string) bool {
	switch v := Lookup(doc, path).(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	case json.Number:
		return v.String() == "1"
	default:
		return false
	}
}

// clip makes provider text safe to store: valid UTF-8, no NULs, at most n
// runes.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%.*s", n, s)
}
