package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// openapiSeen counts what the validating wrapper checked in this test
// binary; TestMain reports it once.
var openapiSeen struct {
	responses   atomic.Int64 // answers checked against the document
	passthrough atomic.Int64 // of which provider answers through the proxy: status and headers only
	requests    atomic.Int64 // requests checked (those answered 2xx)
}

// TestMain runs the tests and then says how much of the traffic the test
// servers saw was checked against openapi.json.
func TestMain(m *testing.M) {
	code := m.Run()
	fmt.Printf("openapi: validated %d /api/v1 responses (%d of them provider answers through the proxy, status and headers only) and %d requests answered 2xx against openapi.json\n",
		openapiSeen.responses.Load(), openapiSeen.passthrough.Load(), openapiSeen.requests.Load())
	os.Exit(code)
}

// contract is openapi.json loaded and validated once, with a router over it
// and the routes that stand for paths and methods the document lacks.
type contract struct {
	doc        *openapi3.T
	router     routers.Router
	unknown    *openapi3.Operation // a path under /api/v1 the document does not have
	notAllowed *openapi3.Operation // a documented path asked with a method it does not list
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	// OpenAPI path parameters are one segment, but the proxy's {path} is
	// the rest of the URL: the router is given gorilla/mux's form of it,
	// {path:.*}, on a copy of the paths.
	routed := *doc
	routed.Paths = openapi3.NewPaths()
	for p, item := range doc.Paths.Map() {
		routed.Paths.Set(strings.Replace(p, "{path}", "{path:.*}", 1), item)
	}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, err
	}
	c := &contract{doc: doc, router: router}
	if c.unknown, err = unrouted(doc, "unknownPath"); err != nil {
		return nil, err
	}
	if c.notAllowed, err = unrouted(doc, "methodNotAllowed"); err != nil {
		return nil, err
	}
	return c, nil
})

// unrouted is an operation giving the answers x-unrouted-responses lists
// under key: what the API answers to a request no operation describes.
func unrouted(doc *openapi3.T, key string) (*openapi3.Operation, error) {
	ext, _ := doc.Extensions["x-unrouted-responses"].(map[string]any)
	refs, _ := ext[key].(map[string]any)
	if len(refs) == 0 {
		return nil, fmt.Errorf("openapi.json: x-unrouted-responses has no %s", key)
	}
	op := &openapi3.Operation{Responses: openapi3.NewResponses()}
	op.Responses.Delete("default")
	for status, v := range refs {
		ref, _ := v.(map[string]any)["$ref"].(string)
		name, ok := strings.CutPrefix(ref, "#/components/responses/")
		if !ok || doc.Components.Responses[name] == nil {
			return nil, fmt.Errorf("openapi.json: x-unrouted-responses.%s.%s: %q is not a components.responses $ref", key, status, ref)
		}
		op.Responses.Set(status, doc.Components.Responses[name])
	}
	return op, nil
}

// validateAgainstOpenAPI wraps a test server's handler so that every
// /api/v1 exchange is checked against openapi.json: every answer, problem
// documents included, must be one the document describes, and a request
// the server accepted (2xx) must be one the document allows. Requests
// tests send on purpose to be refused are not reported: the server said no.
// Failures are errors of t, the test that owns the server.
func validateAgainstOpenAPI(t *testing.T, next http.Handler) http.Handler {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		ex := c.exchange(r)
		rec := &recorder{ResponseWriter: w, keepBody: true}
		if !ex.proxy {
			ex.body = bufferBody(r)
		}
		next.ServeHTTP(rec, r)
		if rec.status == 0 { // nothing written: net/http answers 200
			rec.status, rec.header = http.StatusOK, w.Header().Clone()
		}
		for _, err := range c.check(ex, rec) {
			t.Errorf("openapi.json: %s %s answered %d: %v", r.Method, r.URL.RequestURI(), rec.status, err)
		}
	})
}

// exchange is one request as the document sees it.
type exchange struct {
	req    *http.Request // the request, HEAD asked as the GET it is served as
	route  *routers.Route
	params map[string]string
	head   bool   // HEAD served as GET: no body to check
	proxy  bool   // the provider proxy: the bodies are the caller's and the provider's
	body   []byte // the request body, when it was read whole
}

// exchange finds r's operation. A path or method the document lacks gets a
// route to the answers the API gives for those (404, 405 and their kin).
func (c *contract) exchange(r *http.Request) *exchange {
	ex := &exchange{req: r}
	route, params, err := c.router.FindRoute(r)
	if errors.Is(err, routers.ErrMethodNotAllowed) && r.Method == http.MethodHead {
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		if rt, ps, gerr := c.router.FindRoute(get); gerr == nil {
			ex.req, route, params, err, ex.head = get, rt, ps, nil, true
		}
	}
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		route = &routers.Route{Spec: c.doc, PathItem: &openapi3.PathItem{}, Method: r.Method, Operation: c.notAllowed}
	case err != nil:
		route = &routers.Route{Spec: c.doc, PathItem: &openapi3.PathItem{}, Method: r.Method, Operation: c.unknown}
	}
	ex.route, ex.params = route, params
	ex.proxy = slices.Contains(route.Operation.Tags, "proxy")
	return ex
}

// maxBuffered is the largest request body kept for checking; tests of the
// body limit send more, and those are refused anyway.
const maxBuffered = 1 << 20

// bufferBody reads r's body for checking and puts back an equal one. A
// body over maxBuffered is left to stream and is not checked (nil).
func bufferBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBuffered+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil || len(buf) > maxBuffered {
		return nil
	}
	return buf
}

type readCloser struct {
	io.Reader
	io.Closer
}

// check validates the answer, and the request if the answer was 2xx.
func (c *contract) check(ex *exchange, rec *recorder) []error {
	var errs []error
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:   true,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: ex.req, PathParams: ex.params, Route: ex.route, Options: opts}
	if rec.status >= 200 && rec.status < 300 && ex.route.PathItem != nil && ex.route.Path != "" {
		req := ex.req.Clone(context.Background())
		req.Body = io.NopCloser(bytes.NewReader(ex.body))
		ropts := *opts
		ropts.ExcludeRequestBody = ex.proxy || ex.body == nil
		openapiSeen.requests.Add(1)
		if err := openapi3filter.ValidateRequest(context.Background(),
			&openapi3filter.RequestValidationInput{Request: req, PathParams: ex.params, Route: ex.route, Options: &ropts}); err != nil {
			errs = append(errs, fmt.Errorf("the server accepted a request the document forbids: %w", err))
		}
	}
	passthrough := ex.proxy && rec.header.Get("Content-Security-Policy") == proxyCSP
	ropts := *opts
	ropts.ExcludeResponseBody = ex.head || passthrough
	if ex.proxy && !passthrough && ex.route.Operation.Responses.Status(rec.status) == nil {
		errs = append(errs, fmt.Errorf("status %d of Dancecard's own answer is not documented for %s", rec.status, ex.route.Operation.OperationID))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status, Header: rec.header, Options: &ropts}
	out.SetBodyBytes(rec.body.Bytes())
	openapiSeen.responses.Add(1)
	if passthrough {
		openapiSeen.passthrough.Add(1)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		errs = append(errs, fmt.Errorf("the answer does not match the document: %w", err))
	}
	// Through the proxy a 401, 429 or 503 may be the provider's, so the
	// operation cannot require Dancecard's headers; its own must have them
	// all the same, as everywhere else under /api/v1.
	if ex.proxy && !passthrough && c.unknown.Responses.Status(rec.status) != nil {
		own := *ex.route
		own.Operation = c.unknown
		out := &openapi3filter.ResponseValidationInput{Status: rec.status, Header: rec.header, Options: &ropts,
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: ex.req, PathParams: ex.params, Route: &own}}
		out.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			errs = append(errs, fmt.Errorf("Dancecard's own answer is not the one documented everywhere else: %w", err))
		}
	}
	if strings.HasPrefix(rec.header.Get("Content-Type"), "application/problem+json") && !ex.head {
		var p struct{ Status int }
		if err := json.Unmarshal(rec.body.Bytes(), &p); err == nil && p.Status != rec.status {
			errs = append(errs, fmt.Errorf("the problem document says status %d", p.Status))
		}
	}
	return errs
}

// proxyCSP is the policy the proxy serves a provider's answer with, which
// tells it from Dancecard's own.
const proxyCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// recorder passes an answer through and keeps its status, headers and
// (unless it is a provider's) body.
type recorder struct {
	http.ResponseWriter
	status   int
	header   http.Header
	body     bytes.Buffer
	keepBody bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.header = r.ResponseWriter.Header().Clone()
		r.keepBody = r.header.Get("Content-Security-Policy") != proxyCSP
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.keepBody {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
