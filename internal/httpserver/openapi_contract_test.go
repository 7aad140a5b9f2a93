package httpserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/links"
)

// enumOf returns the enum of components.schemas.name as strings.
func enumOf(t *testing.T, c *contract, name string) []string {
	t.Helper()
	s := c.doc.Components.Schemas[name]
	if s == nil {
		t.Fatalf("openapi.json has no components.schemas.%s", name)
	}
	var out []string
	for _, v := range s.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func asStrings[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIEnumsFollowTheCode keeps the document's enums and the
// provider id pattern in step with the code they describe.
func TestOpenAPIEnumsFollowTheCode(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := enumOf(t, c, "EventKind"), asStrings(events.Kinds()); !slices.Equal(got, want) {
		t.Errorf("EventKind enum = %v,\nevents.Kinds() = %v", got, want)
	}
	// The scopes, lowest first, each allowing the ones before it.
	scopes := []accounts.Scope{accounts.ScopeRead, accounts.ScopeProxy, accounts.ScopeAdmin}
	if got := enumOf(t, c, "Scope"); !slices.Equal(got, asStrings(scopes)) {
		t.Errorf("Scope enum = %v, want %v", got, scopes)
	}
	for i, s := range scopes {
		for j, want := range scopes {
			if s.Allows(want) != (j <= i) {
				t.Errorf("%s.Allows(%s) = %v: the document says scopes are ordered read < proxy < admin", s, want, s.Allows(want))
			}
		}
	}
	statuses := []links.Status{links.StatusActive, links.StatusExpiring, links.StatusNeedsReauth, links.StatusRevoked}
	if got := enumOf(t, c, "ConnectionStatus"); !slices.Equal(got, admin.Statuses) || !slices.Equal(got, asStrings(statuses)) {
		t.Errorf("ConnectionStatus enum = %v, admin.Statuses = %v, links statuses = %v", got, admin.Statuses, statuses)
	}
	// Provider ids: what the configuration file accepts is what the
	// document's pattern allows.
	pattern := c.doc.Components.Schemas["ProviderID"].Value
	for _, id := range []string{"github", "a", "0", "my-sso_2", strings.Repeat("a", 32), strings.Repeat("a", 33),
		"GitHub", "-x", "_x", "a.b", "a b", "é"} {
		schemaOK := pattern.VisitJSON(id, openapi3.EnableJSONSchema2020()) == nil
		if configOK := configAcceptsProviderID(t, id); configOK != schemaOK {
			t.Errorf("provider id %q: the configuration accepts it: %v, openapi.json's ProviderID: %v", id, configOK, schemaOK)
		}
	}
}

// configAcceptsProviderID loads a configuration file with one provider of
// that id and reports whether the id passed.
func configAcceptsProviderID(t *testing.T, id string) bool {
	t.Helper()
	quoted, _ := json.Marshal(id)
	path := filepath.Join(t.TempDir(), "dancecard.yaml")
	text := "base_url: https://dc.example.com\ntoken_keys: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" +
		"providers:\n  - {id: " + string(quoted) + ", preset: github, client_id: a, client_secret: b}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, func(string) string { return "" })
	return err == nil || !strings.Contains(err.Error(), "providers[0].id")
}

// TestOpenAPIMethodsAreTheRouters asks every documented path with every
// method: one the document lists is routed (HEAD too wherever GET is), and
// any other answers 405 with an Allow header naming exactly the
// documented methods. The wrapper checks each answer against the document.
func TestOpenAPIMethodsAreTheRouters(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	anon := ts.browser(t)
	fill := strings.NewReplacer("{id}", "1", "{provider}", "hub", "{path}", "user")
	order := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	for p, item := range c.doc.Paths.Map() {
		documented := item.Operations()
		var allow []string
		for _, m := range order {
			if documented[m] != nil || m == "HEAD" && documented["GET"] != nil {
				allow = append(allow, m)
			}
		}
		for _, m := range append(slices.Clone(order), "TRACE") {
			req, _ := http.NewRequest(m, ts.URL+"/api/v1"+fill.Replace(p), nil)
			r := anon.do(req)
			switch {
			case slices.Contains(allow, m) && r.Status == http.StatusMethodNotAllowed:
				t.Errorf("%s %s: 405, but openapi.json documents it", m, p)
			case !slices.Contains(allow, m) && (r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != strings.Join(allow, ", ")):
				t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", m, p, r.Status, r.Header.Get("Allow"), strings.Join(allow, ", "))
			}
		}
	}
}
