package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLineRE finds the line number in yaml.v3's syntax errors, so they can be reported
// as file:line like every other error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// loadFile reads the file and walks its node tree against topFields. Walking nodes
// (instead of decoding into structs) lets every message carry the exact key path and
// line, and lets ${VAR} be replaced in values after parsing, so a secret containing
// ": " or " #" can never change the file's structure.
func (l *loader) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	root, err := parseYAML(path, data)
	if err != nil || root == nil {
		return err
	}
	return l.mapping("", root, l.topFields())
}

// parseYAML returns the file's top-level mapping, or nil for an empty file.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		msg := yamlLineRE.ReplaceAllString(err.Error(), name+":$1: ")
		if msg == err.Error() {
			msg = name + ": " + msg
		}
		return nil, errors.New("config: " + msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s: only one YAML document is allowed", name)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: %s:%d: the file must be a mapping of keys to values", name, root.Line)
	}
	return root, nil
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty value ("key:", "~", "null"), which leaves the
// key at its default exactly as if it were absent.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// join builds a key path such as "sessions.idle_timeout".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping walks one YAML mapping, refusing unknown and repeated keys.
func (l *loader) mapping(path string, n *yaml.Node, fs fields) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s:%d: %s: keys must be plain words", l.file, k.Line, join(path, "?"))
		}
		key := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			return fmt.Errorf("config: %s:%d: %s: repeated key (first at line %d)", l.file, k.Line, key, first)
		}
		seen[k.Value] = k.Line
		t, ok := fs[k.Value]
		if !ok && k.Value == "<<" {
			return fmt.Errorf("config: %s:%d: unknown key %q (YAML merge keys are not supported)", l.file, k.Line, key)
		}
		if !ok {
			return fmt.Errorf("config: %s:%d: unknown key %q%s", l.file, k.Line, key, suggest(k.Value, fs))
		}
		if err := l.node(key, t, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// node stores the value n of key path into the target t.
func (l *loader) node(path string, t any, n *yaml.Node) error {
	n = resolve(n)
	at := origin{file: l.file, line: n.Line}
	if isNull(n) {
		return nil
	}
	switch t := t.(type) {
	case fields:
		if n.Kind != yaml.MappingNode {
			return at.errorf(path, "must be a mapping of keys to values, not %s", kindName(n))
		}
		l.origins[path] = at
		return l.mapping(path, n, t)
	case *[]Provider:
		return l.providers(path, n, t)
	case *[]Webhook:
		return l.webhooks(path, n, t)
	case *map[string]string:
		return l.stringMap(path, n, t, nil)
	case profileTarget:
		return l.stringMap(path, n, t.m, profileKeys())
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if !isList(t) {
			return at.errorf(path, "must be a single value, not a list")
		}
		return l.sequence(path, t, n)
	case yaml.ScalarNode:
		v, err := l.scalar(path, n)
		if err != nil {
			return err
		}
		return l.set(path, t, v)
	}
	return at.errorf(path, "must be a single value, not %s", kindName(n))
}

// isList reports whether t accepts a YAML list.
func isList(t any) bool {
	switch t.(type) {
	case *[]string, *[]netip.Prefix, *[][]byte:
		return true
	}
	return false
}

// kindName describes a node for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// scalar returns a scalar's text after ${VAR} interpolation.
func (l *loader) scalar(path string, n *yaml.Node) (value, error) {
	at := origin{file: l.file, line: n.Line}
	s, used, err := expand(n.Value, l.getenv)
	if err != nil {
		return value{}, at.errorf(path, "%v", err)
	}
	at.viaEnv = used
	return value{s, at}, nil
}

// sequence collects a YAML list of single values into the list target t.
func (l *loader) sequence(path string, t any, n *yaml.Node) error {
	items := make([]value, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		key := fmt.Sprintf("%s[%d]", path, i)
		if isNull(c) {
			items = append(items, value{at: origin{file: l.file, line: c.Line}})
			continue
		}
		if c.Kind != yaml.ScalarNode {
			return origin{file: l.file, line: c.Line}.errorf(key, "must be a single value, not %s", kindName(c))
		}
		v, err := l.scalar(key, c)
		if err != nil {
			return err
		}
		items = append(items, v)
	}
	l.origins[path] = origin{file: l.file, line: n.Line}
	return l.setList(path, t, items)
}

// stringMap reads a mapping of single values; when allowed is non-nil, only those keys.
func (l *loader) stringMap(path string, n *yaml.Node, out *map[string]string, allowed []string) error {
	at := origin{file: l.file, line: n.Line}
	if n.Kind != yaml.MappingNode {
		return at.errorf(path, "must be a mapping of keys to values, not %s", kindName(n))
	}
	l.origins[path] = at
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return fmt.Errorf("config: %s:%d: %s: keys must be plain words", l.file, k.Line, join(path, "?"))
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			return fmt.Errorf("config: %s:%d: unknown key %q (allowed: %s)", l.file, k.Line, key, strings.Join(allowed, ", "))
		}
		if _, dup := m[k.Value]; dup {
			return fmt.Errorf("config: %s:%d: %s: repeated key", l.file, k.Line, key)
		}
		if v.Kind != yaml.ScalarNode {
			return origin{file: l.file, line: v.Line}.errorf(key, "must be a single value, not %s", kindName(v))
		}
		sv, err := l.scalar(key, v)
		if err != nil {
			return err
		}
		m[k.Value] = sv.s
		l.origins[key] = sv.at
	}
	*out = m
	return nil
}

// providers reads the list of providers, each a mapping checked against providerFields.
func (l *loader) providers(path string, n *yaml.Node, out *[]Provider) error {
	return mappingList(l, path, n, out, "a list of providers", "a mapping with at least an id",
		func() Provider { return Provider{Timeout: defaultProviderTimeout} }, providerFields)
}

// mappingList reads a YAML list whose entries are mappings: each starts as
// fresh() (its defaults) and is filled through fieldsOf. list and entry
// describe what was expected, for messages.
func mappingList[T any](l *loader, path string, n *yaml.Node, out *[]T, list, entry string,
	fresh func() T, fieldsOf func(*T) fields) error {
	if n.Kind != yaml.SequenceNode {
		return origin{file: l.file, line: n.Line}.errorf(path, "must be %s, not %s", list, kindName(n))
	}
	items := make([]T, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		key := fmt.Sprintf("%s[%d]", path, i)
		at := origin{file: l.file, line: c.Line}
		if c.Kind != yaml.MappingNode {
			return at.errorf(key, "must be %s, not %s", entry, kindName(c))
		}
		l.origins[key] = at
		item := fresh()
		if err := l.mapping(key, c, fieldsOf(&item)); err != nil {
			return err
		}
		items = append(items, item)
	}
	*out = items
	return nil
}
