package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportDirection keeps imports running one way: domain packages know
// nothing of HTTP or HTML, nothing imports httpserver or cmd/server, and
// each domain package reaches only the packages below it.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/dancecard/dancecard/"
	allowed := map[string][]string{
		"internal/postgres":  {},
		"internal/config":    {},
		"internal/ratelimit": {},
		"internal/paging":    {},
		"internal/events":    {"internal/postgres"},
		"internal/mail":      {"internal/postgres", "internal/events"},
		"internal/oauth":     {"internal/config"},
		"internal/accounts":  {"internal/postgres", "internal/events", "internal/mail"},
		"internal/admin":     {"internal/postgres", "internal/events", "internal/paging"},
		"internal/links":     {"internal/postgres", "internal/events", "internal/mail", "internal/accounts", "internal/config", "internal/oauth"},
	}
	forbidden := []string{"github.com/labstack/echo", "github.com/a-h/templ", mod + "web", mod + "internal/httpserver", mod + "cmd/"}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
			// migrations is the embedded schema internal/postgres applies.
			if rest, found := strings.CutPrefix(dep, mod); found && rest != pkg && rest != "migrations" && !slices.Contains(ok, rest) {
				t.Errorf("%s imports %s, which is not below it", pkg, rest)
			}
		}
	}
}
