package devprovider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// The "revoked token" failure: the dance must succeed, so the app stores a
// connection, and its tokens must then be dead, as when a user revokes the
// app in the provider's settings. The tokens are revoked right after the
// app has read the user's profile, which is the last step of the dance.

// setRevokeAfter arms or disarms the revocation for a user.
func (p *Provider) setRevokeAfter(userID string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.revokeAfter[userID] = true
	} else {
		delete(p.revokeAfter, userID)
	}
}

func (p *Provider) anyRevokePending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.revokeAfter) > 0
}

// takeRevoke reports whether the user's tokens are to be revoked now, and
// disarms it.
func (p *Provider) takeRevoke(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	on := p.revokeAfter[userID]
	delete(p.revokeAfter, userID)
	return on
}

// serveUserinfoThenRevoke serves the userinfo endpoint and, when it answered
// the profile of a user whose tokens are to die, revokes them.
func (p *Provider) serveUserinfoThenRevoke(w http.ResponseWriter, r *http.Request) {
	tw := &teeWriter{ResponseWriter: w, status: http.StatusOK}
	p.engine.ServeHTTP(tw, r)
	if tw.status != http.StatusOK {
		return
	}
	var doc struct {
		ID any `json:"id"`
	}
	dec := json.NewDecoder(bytes.NewReader(tw.body.Bytes()))
	dec.UseNumber()
	if dec.Decode(&doc) != nil || doc.ID == nil {
		return
	}
	if id := fmt.Sprint(doc.ID); p.takeRevoke(id) {
		p.engine.RevokeUser(id)
	}
}

// teeWriter passes a response through and keeps a copy of its status and body.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (t *teeWriter) WriteHeader(status int) {
	t.status = status
	t.ResponseWriter.WriteHeader(status)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}
