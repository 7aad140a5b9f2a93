package httpserver

import (
	"strings"
	"testing"
)

func TestMatchRoute(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/", true},
		{"/", "/x", false},
		{"/profile", "/profile", true},
		{"/profile", "/profile/", false},
		{"/admin/", "/admin/", true},
		{"/admin/", "/admin", false},
		{"/admin/users/:id", "/admin/users/7", true},
		{"/admin/users/:id", "/admin/users/", false},
		{"/admin/users/:id", "/admin/users/7/x", false},
		{"/static/*", "/static/style.css", true},
		{"/static/*", "/static/", true},
		{"/api/v1/providers/:provider/api/*", "/api/v1/providers/hub/api/a/b", true},
		{"/api/v1/providers/:provider/api/*", "/api/v1/providers/hub/other", false},
	} {
		pat := strings.Split(strings.TrimPrefix(tc.pattern, "/"), "/")
		if got := matchRoute(pat, tc.path); got != tc.want {
			t.Errorf("%s ~ %s = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
