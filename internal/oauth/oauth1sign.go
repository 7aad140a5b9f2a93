package oauth

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dghubble/oauth1"
)

// maxSignedForm caps a form body that must be read to be signed.
const maxSignedForm = 10 << 20

// sign1 signs an API request with OAuth 1.0a (RFC 5849 3.4) and puts the
// protocol parameters in the Authorization header. The signature base
// string is built here rather than by dghubble/oauth1's transport, which
// signs only the first value of a repeated parameter and ignores a form body
// whose content type carries a charset; dghubble's signers do the
// cryptography (HMAC-SHA1 or RSA-SHA1, as the dances use).
func (c *Client) sign1(p *Provider, t Token, req *http.Request) error {
	cfg, err := c.oauth1Config(p, "", nil)
	if err != nil {
		return err
	}
	params, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("oauth: call %s: %w", p.ID, ErrInvalidQuery)
	}
	if form, err := formBody(req); err != nil {
		return fmt.Errorf("oauth: call %s: %w", p.ID, err)
	} else {
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	proto := map[string]string{
		"oauth_consumer_key":     p.ConsumerKey,
		"oauth_nonce":            randomToken(),
		"oauth_signature_method": cfg.Signer.Name(),
		"oauth_timestamp":        strconv.FormatInt(c.now().Unix(), 10),
		"oauth_token":            t.AccessToken,
		"oauth_version":          "1.0",
	}
	for k, v := range proto {
		params[k] = append(params[k], v)
	}
	sig, err := cfg.Signer.Sign(t.TokenSecret, signatureBase1(req.Method, req.URL, params))
	if err != nil {
		return fmt.Errorf("oauth: call %s: signing: %w", p.ID, ErrMisconfigured)
	}
	proto["oauth_signature"] = sig
	keys := make([]string, 0, len(proto))
	for k := range proto {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var h strings.Builder
	h.WriteString("OAuth ")
	for i, k := range keys {
		if i > 0 {
			h.WriteString(", ")
		}
		fmt.Fprintf(&h, `%s="%s"`, oauth1.PercentEncode(k), oauth1.PercentEncode(proto[k]))
	}
	req.Header.Set("Authorization", h.String())
	return nil
}

// formBody reads a form-encoded body (RFC 5849 3.4.1.3.1 signs its
// parameters) and puts it back for sending; other bodies are not read.
func formBody(req *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if req.Body == nil || req.Body == http.NoBody || mt != "application/x-www-form-urlencoded" {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, maxSignedForm+1))
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if len(b) > maxSignedForm {
		return nil, fmt.Errorf("reading the request body: %w", &http.MaxBytesError{Limit: maxSignedForm})
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, ErrInvalidQuery
	}
	return form, nil
}

// signatureBase1 is the RFC 5849 3.4.1 signature base string: the method,
// the base string URI (lower-case scheme and host, no default port, the
// path as sent) and every parameter, repeated ones included, sorted.
func signatureBase1(method string, u *url.URL, params url.Values) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		host = h
	}
	pairs := make([][2]string, 0, len(params))
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, [2]string{oauth1.PercentEncode(k), oauth1.PercentEncode(v)})
		}
	}
	// By encoded key, then encoded value (3.4.1.3.2).
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	joined := make([]string, len(pairs))
	for i, kv := range pairs {
		joined[i] = kv[0] + "=" + kv[1]
	}
	base := scheme + "://" + host + u.EscapedPath()
	return strings.ToUpper(method) + "&" + oauth1.PercentEncode(base) + "&" + oauth1.PercentEncode(strings.Join(joined, "&"))
}
