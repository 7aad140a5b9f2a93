package oauthtest

import (
	"sync"
	"time"
)

// grant is what one consent produced; codes and tokens point at it.
type grant struct {
	user        User
	clientID    string
	scopes      []string
	openid      bool
	nonce       string
	expiresIn   time.Duration // 0: the knob decides
	failRefresh bool
}

type authCode struct {
	grant       *grant
	redirectURI string
	challenge   string
	expires     time.Time
}

type issued struct {
	grant   *grant
	expires time.Time // zero: never
}

// requestToken is OAuth 1's temporary credential, authorised once the user
// consents (verifier set).
type requestToken struct {
	secret, callback, consumer string
	verifier                   string
	grant                      *grant
	expires                    time.Time
}

// access1 is an OAuth 1 access token.
type access1 struct {
	secret string
	grant  *grant
}

// store keeps everything the fake has issued. Expired entries are pruned
// every so often so that a long benchmark run does not grow without bound.
type store struct {
	mu       sync.Mutex
	codes    map[string]*authCode
	access   map[string]issued
	refresh  map[string]issued
	requests map[string]*requestToken
	access1  map[string]access1
	nonces   map[string]time.Time // OAuth 1 nonces seen, until they expire
	inserts  int
}

func newStore() *store {
	return &store{
		codes: map[string]*authCode{}, access: map[string]issued{}, refresh: map[string]issued{},
		requests: map[string]*requestToken{}, access1: map[string]access1{}, nonces: map[string]time.Time{},
	}
}

// inserted counts an insert and prunes expired entries every 1024 of them.
// Callers hold s.mu.
func (s *store) inserted(now time.Time) {
	s.inserts++
	if s.inserts%1024 != 0 {
		return
	}
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
	for _, m := range []map[string]issued{s.access, s.refresh} {
		for k, t := range m {
			if !t.expires.IsZero() && now.After(t.expires) {
				delete(m, k)
			}
		}
	}
	for k, r := range s.requests {
		if now.After(r.expires) {
			delete(s.requests, k)
		}
	}
	for k, exp := range s.nonces {
		if now.After(exp) {
			delete(s.nonces, k)
		}
	}
}

func (s *store) putCode(code string, c *authCode, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = c
	s.inserted(now)
}

// takeCode returns the code's entry and forgets it: codes are single use.
func (s *store) takeCode(code string, now time.Time) *authCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[code]
	delete(s.codes, code)
	if c == nil || now.After(c.expires) {
		return nil
	}
	return c
}

func (s *store) putTokens(access, refresh string, g *grant, expires, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[access] = issued{grant: g, expires: expires}
	if refresh != "" {
		s.refresh[refresh] = issued{grant: g, expires: now.Add(30 * 24 * time.Hour)}
	}
	s.inserted(now)
}

func (s *store) lookupAccess(token string, now time.Time) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.access[token]
	if !ok || (!t.expires.IsZero() && now.After(t.expires)) {
		return nil
	}
	return t.grant
}

func (s *store) lookupRefresh(token string, now time.Time) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refresh[token]
	if !ok || now.After(t.expires) {
		return nil
	}
	return t.grant
}

func (s *store) dropRefresh(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refresh, token)
}

// revoke forgets a token and, as RFC 7009 recommends, every token of the
// same grant. It reports whether the token was known.
func (s *store) revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.access[token]
	if !ok {
		t, ok = s.refresh[token]
	}
	if !ok {
		return false
	}
	s.dropGrant(func(g *grant) bool { return g == t.grant })
	return true
}

func (s *store) revokeUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropGrant(func(g *grant) bool { return g.user.ID == id })
}

// dropGrant deletes every token whose grant matches. Callers hold s.mu.
func (s *store) dropGrant(match func(*grant) bool) {
	for _, m := range []map[string]issued{s.access, s.refresh} {
		for k, t := range m {
			if match(t.grant) {
				delete(m, k)
			}
		}
	}
	for k, t := range s.access1 {
		if match(t.grant) {
			delete(s.access1, k)
		}
	}
}

func (s *store) putRequest(token string, r *requestToken, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[token] = r
	s.inserted(now)
}

// request returns a copy of a live request token.
func (s *store) request(token string, now time.Time) (requestToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[token]
	if r == nil || now.After(r.expires) {
		return requestToken{}, false
	}
	return *r, true
}

// authorizeRequest records the consent on a request token.
func (s *store) authorizeRequest(token, verifier string, g *grant) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[token]
	if r == nil {
		return false
	}
	r.verifier, r.grant = verifier, g
	return true
}

// takeRequest forgets a request token: it is exchanged once.
func (s *store) takeRequest(token string) *requestToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[token]
	delete(s.requests, token)
	return r
}

func (s *store) putAccess1(token string, a access1, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access1[token] = a
	s.inserted(now)
}

func (s *store) lookupAccess1(token string) (access1, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access1[token]
	return a, ok
}

// useNonce records an OAuth 1 nonce; it reports false when it was seen.
func (s *store) useNonce(key string, expires, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, seen := s.nonces[key]; seen && now.Before(exp) {
		return false
	}
	s.nonces[key] = expires
	s.inserted(now)
	return true
}
