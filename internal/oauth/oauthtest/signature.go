package oauthtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file checks OAuth 1.0a signatures from first principles (RFC 5849
// section 3), independently of the client library, so a signing bug in the
// client fails the tests instead of being mirrored by the fake.

// signed is a verified OAuth 1 request's protocol parameters.
type signed map[string]string

// secretFunc returns the token secret for oauth_token, if the token is known.
type secretFunc func(token string) (string, bool)

// verifySignature checks r's OAuth 1 signature. It returns the protocol
// parameters, or the RFC 5849 / oauth_problem code of what is wrong.
func (p *Provider) verifySignature(r *http.Request, cfg config, secretOf secretFunc) (signed, string) {
	all, oauth, ok := collect(r)
	switch {
	case !ok:
		return nil, "parameter_rejected"
	case oauth["oauth_consumer_key"] == "" || oauth["oauth_signature"] == "":
		return nil, "parameter_absent"
	case !same(oauth["oauth_consumer_key"], cfg.consumer):
		return nil, "consumer_key_unknown"
	case oauth["oauth_version"] != "" && oauth["oauth_version"] != "1.0":
		return nil, "version_rejected"
	}
	now := p.now()
	ts, err := strconv.ParseInt(oauth["oauth_timestamp"], 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 10*time.Minute {
		return nil, "timestamp_refused"
	}
	tokenSecret := ""
	if tok := oauth["oauth_token"]; tok != "" {
		if tokenSecret, ok = secretOf(tok); !ok {
			return nil, "token_rejected"
		}
	}
	base := signatureBase(r.Method, requestURL(r, cfg), all)
	sig, err := base64.StdEncoding.DecodeString(oauth["oauth_signature"])
	if err != nil {
		return nil, "signature_invalid"
	}
	switch oauth["oauth_signature_method"] {
	case "HMAC-SHA1":
		mac := hmac.New(sha1.New, []byte(encode(cfg.consSc)+"&"+encode(tokenSecret)))
		mac.Write([]byte(base))
		if !hmac.Equal(mac.Sum(nil), sig) {
			return nil, "signature_invalid"
		}
	case "RSA-SHA1":
		if cfg.rsaPub == nil {
			return nil, "signature_method_rejected"
		}
		sum := sha1.Sum([]byte(base))
		if rsa.VerifyPKCS1v15(cfg.rsaPub, crypto.SHA1, sum[:], sig) != nil {
			return nil, "signature_invalid"
		}
	default:
		return nil, "signature_method_rejected"
	}
	// The nonce is checked last so that a bad request does not burn it.
	if !p.store.useNonce(oauth["oauth_consumer_key"]+"\x00"+oauth["oauth_timestamp"]+"\x00"+oauth["oauth_nonce"],
		now.Add(20*time.Minute), now) || oauth["oauth_nonce"] == "" {
		return nil, "nonce_used"
	}
	return oauth, ""
}

// collect gathers the request's parameters (RFC 5849 3.4.1.3.1): the query,
// a form-encoded body, and the Authorization header's protocol parameters
// except realm and oauth_signature. It also returns the protocol parameters
// on their own, wherever they were sent.
func collect(r *http.Request) (all [][2]string, oauth map[string]string, ok bool) {
	oauth = map[string]string{}
	add := func(k, v string) {
		if strings.HasPrefix(k, "oauth_") {
			if _, dup := oauth[k]; dup {
				ok = false
			}
			oauth[k] = v
		}
		if k != "oauth_signature" && k != "realm" {
			all = append(all, [2]string{k, v})
		}
	}
	ok = true
	if h := r.Header.Get("Authorization"); h != "" {
		hp, good := parseAuthorization(h)
		if !good {
			return nil, nil, false
		}
		for k, v := range hp {
			add(k, v)
		}
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			add(k, v)
		}
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err != nil {
				return nil, nil, false
			}
			for k, vs := range r.PostForm {
				for _, v := range vs {
					add(k, v)
				}
			}
		}
	}
	return all, oauth, ok
}

// parseAuthorization parses `OAuth k="v", ...` (RFC 5849 3.5.1).
func parseAuthorization(h string) (map[string]string, bool) {
	if len(h) < 6 || !strings.EqualFold(h[:6], "OAuth ") {
		return nil, false
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(h[6:], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, found := strings.Cut(part, "=")
		if !found || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, false
		}
		key, err1 := url.PathUnescape(strings.TrimSpace(k))
		val, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out[key] = val
	}
	return out, true
}

// requestURL is the base string URI (RFC 5849 3.4.1.2) of the request as
// the client addressed it: the configured base URL's scheme and host, and
// the path the client sent (r.RequestURI survives http.StripPrefix).
func requestURL(r *http.Request, cfg config) string {
	scheme, host := cfg.base.Scheme, cfg.base.Host
	if host == "" {
		scheme, host = "http", r.Host
		if r.TLS != nil {
			scheme = "https"
		}
	}
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if h, port, found := strings.Cut(host, ":"); found &&
		((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if path == "" || !strings.HasPrefix(path, "/") {
		path = r.URL.EscapedPath()
	}
	return scheme + "://" + host + path
}

// signatureBase builds the signature base string (RFC 5849 3.4.1).
func signatureBase(method, baseURL string, params [][2]string) string {
	enc := make([][2]string, len(params))
	for i, kv := range params {
		enc[i] = [2]string{encode(kv[0]), encode(kv[1])}
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	pairs := make([]string, len(enc))
	for i, kv := range enc {
		pairs[i] = kv[0] + "=" + kv[1]
	}
	return strings.ToUpper(method) + "&" + encode(baseURL) + "&" + encode(strings.Join(pairs, "&"))
}

// encode is RFC 5849 3.6 percent-encoding: everything but unreserved
// characters, with upper-case hex digits.
func encode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
