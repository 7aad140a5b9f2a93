package browsertest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored from npm (see axe/README.md). It is
// evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern, so no page has to allow it.
//
//go:embed axe/axe.min.js
var axeSource string

// Violation is one axe-core rule the page breaks, with the elements that
// break it.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // "minor", "moderate", "serious" or "critical"
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []Node `json:"nodes"`
}

// Node is one element a Violation found: its CSS selector path, its HTML and
// what axe says is wrong with it.
type Node struct {
	Target  string `json:"target"`
	HTML    string `json:"html"`
	Summary string `json:"summary"`
}

// Serious reports whether the violation is of impact "serious" or
// "critical", the two levels a page must never reach.
func (v Violation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// String names the rule, its impact, and every element it found, so a
// failing test says where to look.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
	}
	return b.String()
}

// axeRun runs every axe-core rule that is not experimental on the whole
// document and returns the violations as JSON, flattened to what Violation
// holds (axe's targets are arrays, nested for shadow roots and frames).
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({target: [].concat(n.target).flat(Infinity).join(" "), html: n.html, summary: n.failureSummary || ""})),
}))))`

// Axe runs axe-core in the page the browser shows and returns every
// violation it finds, of any impact. It injects axe-core first unless the
// page already has it.
func (c *Browser) Axe() []Violation {
	c.t.Helper()
	loaded, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		c.t.Fatalf("look for axe-core: %v", err)
	}
	if !loaded {
		// The source ends with an expression, not a value to return.
		if _, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](axeSource+"\n;true")); err != nil {
			c.t.Fatalf("inject axe-core: %v", err)
		}
	}
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		loc, _ := chromedp.Run(c.ctx, chromedp.Location())
		c.t.Fatalf("run axe-core (at %s): %v", loc, err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		c.t.Fatalf("axe-core's result: %v", err)
	}
	return vs
}
