package httpserver

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openapiMethods are the methods an OpenAPI path item can describe.
var openapiMethods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

var echoParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// openapiPath turns an echo route path under /api/v1 into the document's
// form: :id becomes {id}, a trailing * becomes {path}.
func openapiPath(echoPath string) string {
	p := strings.TrimPrefix(echoPath, "/api/v1")
	p = echoParam.ReplaceAllString(p, "{$1}")
	if strings.HasSuffix(p, "*") {
		p = strings.TrimSuffix(p, "*") + "{path}"
	}
	return p
}

// TestOpenAPIDescribesEveryRoute walks the router: every /api/v1 route and
// method must be in the document, and every documented operation must be
// a route, so the document can neither lag behind nor invent.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080")
	s := New(Options{BaseURL: base})
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	routed := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Name, "glob..func1") || r.Method == "echo_route_not_found" {
			continue
		}
		if !slices.Contains(openapiMethods, r.Method) {
			continue // methods OpenAPI cannot describe (PROPFIND, ...) are documented in prose
		}
		p := openapiPath(r.Path)
		if p == "/{path}" {
			continue // the API's not-found catch-all
		}
		key := r.Method + " " + p
		routed[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s (%s) is not in openapi.json", key, r.Path)
		}
	}
	ids := map[string]string{}
	for p, item := range doc.Paths {
		for m, op := range item {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			key := strings.ToUpper(m) + " " + p
			if !routed[key] {
				t.Errorf("openapi.json documents %s, which is not a route", key)
			}
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s has no operationId", key)
			} else if other, dup := ids[id]; dup {
				t.Errorf("operationId %q used by %s and %s", id, other, key)
			}
			ids[id] = key
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s has no responses", key)
			}
		}
	}
	if len(routed) < 7 {
		t.Fatalf("found only %d API routes: is the walk broken?", len(routed))
	}
}

// TestOpenAPIRefsResolve checks every $ref in the document points at
// something that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if !resolves(doc, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Fatal("no $ref found")
	}
}

func resolves(doc map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
