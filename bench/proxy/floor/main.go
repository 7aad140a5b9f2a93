// Command floor is the proxy benchmark's floor: the least a credentialed
// proxy in Go can do, run as its own process like Dancecard. It serves the
// proxy's route, forwards each call with httputil.ReverseProxy to the
// provider's API with a fixed token, and with -db reads one row per call
// first, as any proxy that checks a revocable credential must. The driver
// measures it beside the direct call and Dancecard, so the report can say
// how much of Dancecard's added latency any Go proxy hop (and one database
// round trip) costs on the same machine. It is not a product and has no
// security of its own.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dancecard/dancecard/internal/postgres"
)

const prefix = "/api/v1/providers/fast/api/"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	api := flag.String("api", "", "the provider's API base URL")
	db := flag.String("db", "", "a database URL: read one row per call before forwarding it")
	flag.Parse()
	token := os.Getenv("FLOOR_TOKEN")
	target, err := url.Parse(*api)
	if err != nil || target.Host == "" || token == "" {
		return fmt.Errorf("need -api URL and FLOOR_TOKEN")
	}
	var lookUp func(context.Context) error
	if *db != "" {
		pool, err := postgres.Open(context.Background(), *db)
		if err != nil {
			return err
		}
		defer pool.Close()
		lookUp = func(ctx context.Context) error {
			var id int64
			return pool.QueryRow(ctx, `SELECT id FROM connections WHERE provider = $1 ORDER BY id LIMIT 1`, "fast").Scan(&id)
		}
	}
	rp := &httputil.ReverseProxy{
		// Dancecard's own pool to a provider: one idle connection per client.
		Transport: &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = target.Scheme, target.Host, target.Host
			pr.Out.URL.Path = target.Path + strings.TrimPrefix(pr.In.URL.Path, prefix)
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Set("Authorization", "Bearer "+token)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc(prefix, func(w http.ResponseWriter, r *http.Request) {
		if lookUp != nil {
			if err := lookUp(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		rp.ServeHTTP(w, r)
	})
	return http.ListenAndServe(*addr, mux)
}
