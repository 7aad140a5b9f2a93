package benchkit

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// Fake is oauthtest's provider engine served on a free loopback port inside
// the driver process, with the client credentials ProviderYAML configures.
type Fake struct {
	*oauthtest.Provider
	srv *http.Server
}

// StartFake serves a fake provider; opts add to its base URL and client.
func StartFake(opts ...oauthtest.Option) (*Fake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opts = append([]oauthtest.Option{oauthtest.WithBaseURL("http://" + ln.Addr().String()),
		oauthtest.WithClient("bench-client", "bench-secret")}, opts...)
	p := oauthtest.NewHandler(opts...)
	f := &Fake{Provider: p, srv: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}}
	go f.srv.Serve(ln) //nolint:errcheck // ends with Close
	return f, nil
}

// Close stops serving.
func (f *Fake) Close() { f.srv.Close() }

// ProviderYAML is the configuration of a custom OAuth 2 provider "fast"
// that points at f, as the drivers' servers load it.
func (f *Fake) ProviderYAML() string {
	return fmt.Sprintf(`providers:
  - id: fast
    protocol: oauth2
    name: Fast
    client_id: %s
    client_secret: %s
    auth_url: %s
    token_url: %s
    api_base_url: %s
    userinfo_url: %s
    scopes: [read:user]
    profile: {id: id, username: login, name: name, email: email}
`, f.ClientID(), f.ClientSecret(), f.AuthURL(), f.TokenURL(), f.APIBaseURL(), f.UserinfoURL())
}
