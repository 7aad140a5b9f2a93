package config

import (
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as a config file: whatever they are, Load must
// return a config or an error, never panic.
func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile("../../configs/dancecard.example.yaml"); err == nil {
		f.Add(example)
	}
	seeds := []string{
		"", "~", "- a", "a: &x [*x]", valid, valid + oauth1, valid + oauth2,
		valid + "providers: [&p {id: a, preset: github}, *p]\n",
		"dev: true\nlog: {level: ${L}}\ntoken_keys: [${K}, '']\n",
		"providers:\n  - {id: x, protocol: oauth1, consumer_key: k, signature_method: RSA-SHA1, private_key: ${PEM}}\n",
		"sessions: {idle_timeout: 1h, <<: {x: y}}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	vars := map[string]string{
		"L": "debug", "K": testKey, "PEM": fakePEM, "DANCECARD_DEV": "1",
		"DANCECARD_PROVIDERS_X_TIMEOUT": "1s", "GITHUB_CLIENT_ID": "id",
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := t.TempDir() + "/dancecard.yaml"
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, env(vars))
		if (c == nil) == (err == nil) {
			t.Fatalf("Load returned config %v and error %v; want exactly one", c, err)
		}
	})
}
