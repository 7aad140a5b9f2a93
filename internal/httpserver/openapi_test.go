package httpserver

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
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

// loadOpenAPI loads and validates the served document with kin-openapi,
// as an OpenAPI 3.1 document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiDoc)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIDescribesEveryRoute walks the router: every /api/v1 route and
// method must be in the document, and every documented operation must be
// a route, so the document can neither lag behind nor invent.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080")
	s := New(Options{BaseURL: base})
	doc := loadOpenAPI(t)
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
		if item := doc.Paths.Value(p); item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s (%s) is not in openapi.json", key, r.Path)
		}
	}
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			if key := m + " " + p; !routed[key] {
				t.Errorf("openapi.json documents %s, which is not a route", key)
			}
		}
	}
	if len(routed) < 7 {
		t.Fatalf("found only %d API routes: is the walk broken?", len(routed))
	}
}

// TestOpenAPIDocumentIsComplete holds the document to what the linters
// (spectral's oas ruleset) ask and a client generator needs: every
// operation tagged with a declared tag, summarised, described and with a
// 2xx answer; every parameter, response, schema and property described.
func TestOpenAPIDocumentIsComplete(t *testing.T) {
	doc := loadOpenAPI(t)
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %q has no description", tag.Name)
		}
		tags[tag.Name] = true
	}
	used := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			where := m + " " + p
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s: operationId %q, summary %q, description %q: all are needed", where, op.OperationID, op.Summary, op.Description)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s has no tags", where)
			}
			for _, tag := range op.Tags {
				used[tag] = true
				if !tags[tag] {
					t.Errorf("%s: tag %q is not declared in the top-level tags", where, tag)
				}
			}
			success := false
			for status := range op.Responses.Map() {
				success = success || strings.HasPrefix(status, "2")
			}
			if !success {
				t.Errorf("%s documents no 2xx answer", where)
			}
			for _, prm := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if prm.Value.Description == "" {
					t.Errorf("%s: parameter %s has no description", where, prm.Value.Name)
				}
				describedSchema(t, where+" parameter "+prm.Value.Name, prm.Value.Schema)
			}
		}
	}
	for tag := range tags {
		if !used[tag] {
			t.Errorf("tag %q is declared but no operation uses it", tag)
		}
	}
	for name, prm := range doc.Components.Parameters {
		if prm.Value.Description == "" {
			t.Errorf("components.parameters.%s has no description", name)
		}
	}
	for name, r := range doc.Components.Responses {
		for ct, mt := range r.Value.Content {
			describedSchema(t, "components.responses."+name+" "+ct, mt.Schema)
		}
	}
	for name, h := range doc.Components.Headers {
		if h.Value.Description == "" {
			t.Errorf("components.headers.%s has no description", name)
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ref := doc.Components.Schemas[name]
		if ref.Value.Description == "" {
			t.Errorf("components.schemas.%s has no description", name)
		}
		describedSchema(t, "components.schemas."+name, ref)
	}
}

// describedSchema fails for each property of s (and of the objects inside
// it) that has no description; referenced schemas are checked where they
// are defined.
func describedSchema(t *testing.T, where string, s *openapi3.SchemaRef) {
	t.Helper()
	if s == nil || s.Ref != "" || s.Value == nil {
		return
	}
	for name, p := range s.Value.Properties {
		if p.Ref == "" && p.Value.Description == "" {
			t.Errorf("%s: property %s has no description", where, name)
		}
		describedSchema(t, where+"."+name, p)
	}
	describedSchema(t, where+"[]", s.Value.Items)
	for _, sub := range slices.Concat(s.Value.AllOf, s.Value.AnyOf, s.Value.OneOf) {
		describedSchema(t, where, sub)
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
