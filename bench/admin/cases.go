package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// benchCase is one page or JSON list with its query string.
type benchCase struct {
	Name string
	Path string // with query
	JSON bool
	Deep int  // pages to walk (following the next cursor) before measuring
	Back bool // then one page back (following the previous cursor)
	Goal time.Duration
}

// cases lists what is measured: every list with each filter alone, the
// combinations, searches that match many, few and no rows, every sort in
// both directions, and pages deep into the table, forward and back. Every
// list page also counts (or estimates) its total.
func cases(env *benchEnv) []benchCase {
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format("2006-01-02") }
	lists := map[string][]string{
		"users": {"", "sort=email&dir=asc", "sort=email&dir=desc", "dir=asc", "q=example", "q=lovelace",
			"q=lovelace12345", "q=zzqqxx", "q=lovelace&sort=email&dir=asc", "q=ada&dir=asc",
			"role=admin", "role=user", "role=admin&sort=email", "state=disabled", "state=active&sort=email&dir=asc",
			"verified=yes", "verified=no", "verified=yes&sort=email", "mfa=on", "mfa=off", "mfa=on&sort=email&dir=asc",
			"role=user&state=active&verified=no&mfa=off", "q=lovelace&role=user&state=active"},
		"connections": {"", "provider=github", "provider=dropbox", "status=needs_reauth", "status=revoked&provider=dropbox",
			"sort=last_used", "sort=last_used&dir=asc", "sort=last_used&provider=gitlab&status=expiring&dir=asc",
			"q=lovelace", "q=lovelace&provider=github&status=needs_reauth", "q=example", "q=zzqqxx", "q=zzqqxx&sort=last_used",
			"q=turing12&sort=last_used&dir=asc", "provider=nosuchprovider"},
		"events": {"", "kind=login_failed", "kind=admin_user_disabled", "user_id=12345", "provider=github",
			"since=" + day(7), "since=" + day(21) + "&until=" + day(20), "kind=connection_created&provider=dropbox",
			"kind=login_completed&since=" + day(3), "kind=login_failed&provider=github", "provider=github&until=" + day(400),
			"user_id=54321&kind=connection_created"},
	}
	names := []string{"users", "connections", "events"}
	var out []benchCase
	out = append(out, benchCase{Name: "dashboard", Path: "/admin/", Goal: goalDashboard},
		benchCase{Name: "html deliveries", Path: "/admin/deliveries", Goal: goalList},
		benchCase{Name: "html mail", Path: "/admin/mail", Goal: goalList},
		benchCase{Name: "html user page (connections, sessions, events)", Path: "/admin/users/12345", Goal: goalList})
	for _, list := range names {
		for _, q := range lists[list] {
			label := q
			if label == "" {
				label = "(no filter)"
			}
			out = append(out,
				benchCase{Name: "html " + list + " " + label, Path: "/admin/" + list + "?" + q, Goal: goalList},
				benchCase{Name: "json " + list + " " + label, Path: "/api/v1/admin/" + list + "?" + q, JSON: true, Goal: goalList})
		}
		deep := []string{"limit=200", "limit=200&dir=asc"}
		if list == "events" { // the event log is always newest first
			deep = []string{"limit=200", "limit=200&kind=connection_created"}
		}
		for _, q := range deep {
			out = append(out,
				benchCase{Name: "html " + list + " page 51 " + q, Path: "/admin/" + list + "?" + q, Deep: 50, Goal: goalList},
				benchCase{Name: "json " + list + " page 51 " + q, Path: "/api/v1/admin/" + list + "?" + q, JSON: true, Deep: 50, Goal: goalList},
				benchCase{Name: "html " + list + " page 51, back to 50 " + q, Path: "/admin/" + list + "?" + q, Deep: 50, Back: true, Goal: goalList},
				benchCase{Name: "json " + list + " page 51, back to 50 " + q, Path: "/api/v1/admin/" + list + "?" + q, JSON: true, Deep: 50, Back: true, Goal: goalList})
		}
	}
	return out
}

var (
	nextHref = regexp.MustCompile(`rel="next" href="([^"]+)"`)
	prevHref = regexp.MustCompile(`rel="prev" href="([^"]+)"`)
)

// next returns the path of the page after body, "" on the last page.
func next(c benchCase, path, body string) (string, error) {
	return follow(c, path, body, nextHref, "next_cursor")
}

// prev returns the path of the page before body, "" on the first page.
func prev(c benchCase, path, body string) (string, error) {
	return follow(c, path, body, prevHref, "prev_cursor")
}

func follow(c benchCase, path, body string, link *regexp.Regexp, member string) (string, error) {
	if !c.JSON {
		m := link.FindStringSubmatch(body)
		if m == nil {
			return "", nil
		}
		return strings.ReplaceAll(m[1], "&amp;", "&"), nil
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return "", err
	}
	cursor, _ := p[member].(string)
	if cursor == "" {
		return "", nil
	}
	u, _ := url.Parse(path)
	q := u.Query()
	q.Set("cursor", cursor)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// walk follows c's next links Deep pages from its path, and one previous
// link when c goes Back, and returns the page to measure.
func walk(ctx context.Context, env *benchEnv, c benchCase, client *http.Client, bearer string) (string, error) {
	path := c.Path
	var body string
	for i := 0; i < c.Deep; i++ {
		b, err := env.get(ctx, client, path, bearer)
		if err != nil {
			return "", err
		}
		nextPath, err := next(c, path, b)
		if err != nil || nextPath == "" {
			return "", fmt.Errorf("only %d pages deep: %v", i, err)
		}
		path, body = nextPath, b
	}
	if !c.Back {
		return path, nil
	}
	b, err := env.get(ctx, client, path, bearer)
	if err != nil {
		return "", err
	}
	body = b
	back, err := prev(c, path, body)
	if err != nil || back == "" {
		return "", fmt.Errorf("no previous page after %d pages: %v", c.Deep, err)
	}
	return back, nil
}

// rows counts a page's rows.
func rows(c benchCase, body string) int {
	if c.JSON {
		var p struct{ Items []json.RawMessage }
		_ = json.Unmarshal([]byte(body), &p)
		return len(p.Items)
	}
	return max(strings.Count(body, "<tr")-1, 0)
}

type result struct {
	Name          string
	Path          string
	P50, P99, Max time.Duration
	Rows          int
	Goal          time.Duration
	Met           bool
}

func measureAll(ctx context.Context, env *benchEnv, cs []benchCase, n int) ([]result, error) {
	var out []result
	for _, c := range cs {
		r, err := measure(ctx, env, c, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func measure(ctx context.Context, env *benchEnv, c benchCase, n int) (result, error) {
	client, bearer := env.browser, ""
	if c.JSON {
		client, bearer = env.api, env.token
	}
	path, err := walk(ctx, env, c, client, bearer)
	if err != nil {
		return result{}, err
	}
	lat := make([]time.Duration, 0, n)
	var body string
	for i := 0; i < n+3; i++ {
		start := time.Now()
		b, err := env.get(ctx, client, path, bearer)
		if err != nil {
			return result{}, err
		}
		if i >= 3 {
			lat = append(lat, time.Since(start))
		}
		body = b
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{Name: c.Name, Path: path, P50: lat[len(lat)/2], P99: lat[(len(lat)*99+99)/100-1], Max: lat[len(lat)-1],
		Rows: rows(c, body), Goal: c.Goal}
	r.Met = r.P99 < c.Goal
	return r, nil
}
