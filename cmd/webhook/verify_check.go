package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/ksguard/ksguard/internal/validate"
)

// checkMessages checks that each pattern matches a message of its own and
// that no message is left over; what is wrong comes back, one line each.
func checkMessages(kind string, patterns, messages []string) []string {
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return []string{fmt.Sprintf("%s pattern %q is not a regular expression: %v", kind, p, err)}
		}
		res[i] = re
	}
	// A maximum matching of patterns to messages (augmenting paths): a
	// pattern that could take several messages does not steal the only
	// message another pattern matches.
	owner := make([]int, len(messages)) // pattern index + 1, 0 for none
	var try func(p int, seen []bool) bool
	try = func(p int, seen []bool) bool {
		for m, msg := range messages {
			if seen[m] || !res[p].MatchString(msg) {
				continue
			}
			seen[m] = true
			if owner[m] == 0 || try(owner[m]-1, seen) {
				owner[m] = p + 1
				return true
			}
		}
		return false
	}
	var out []string
	for p := range res {
		if !try(p, make([]bool, len(messages))) {
			out = append(out, fmt.Sprintf("no %s matches %q", kind, patterns[p]))
		}
	}
	for m, msg := range messages {
		if owner[m] == 0 {
			out = append(out, fmt.Sprintf("unexpected %s: %s", kind, msg))
		}
	}
	return out
}

// checkValues checks the scalar at each dotted path of the resulting
// document; a jwtSecret's value is never printed.
func checkValues(doc []byte, want map[string]string) []string {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil || len(root.Content) == 0 {
		return []string{fmt.Sprintf("the resulting %s cannot be read: %v", validate.ConfigKey, err)}
	}
	var out []string
	for _, path := range slices.Sorted(maps.Keys(want)) {
		n := root.Content[0]
		for _, key := range strings.Split(path, ".") {
			n = mappingValue(n, key)
			if n == nil {
				break
			}
		}
		switch {
		case n == nil:
			out = append(out, fmt.Sprintf("%s: not in the resulting %s, want %q", path, validate.ConfigKey, want[path]))
		case n.Kind != yaml.ScalarNode:
			out = append(out, fmt.Sprintf("%s: not a scalar in the resulting %s, want %q", path, validate.ConfigKey, want[path]))
		case n.Value != want[path] && strings.EqualFold(path[strings.LastIndex(path, ".")+1:], "jwtSecret"):
			out = append(out, fmt.Sprintf("%s (line %d): differs from the value the suite wants (not shown: a secret)", path, n.Line))
		case n.Value != want[path]:
			out = append(out, fmt.Sprintf("%s (line %d) is %q, want %q", path, n.Line, n.Value, want[path]))
		}
	}
	return out
}

// mappingValue returns the value of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// checkUnchanged checks that every line removed from or added to before
// (a line diff) sets one of the keys of the paths in values.
func checkUnchanged(before, after []byte, values map[string]string) []string {
	keys := map[string]bool{}
	for p := range values {
		keys[p[strings.LastIndex(p, ".")+1:]] = true
	}
	allowed := func(line string) bool {
		k, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		return ok && keys[strings.TrimPrefix(k, "- ")]
	}
	var out []string
	for _, d := range lineDiff(strings.Split(string(before), "\n"), strings.Split(string(after), "\n")) {
		if !allowed(d.text) && !strings.Contains(strings.ToLower(d.text), "jwtsecret") {
			out = append(out, fmt.Sprintf("line %d %s: %s", d.line, d.how, d.text))
		} else if !allowed(d.text) {
			out = append(out, fmt.Sprintf("line %d %s (a jwtSecret line, not shown)", d.line, d.how))
		}
	}
	return out
}

// lineChange is a line only one side of a diff has.
type lineChange struct {
	how  string // "removed" (line of before) or "added" (line of after)
	line int
	text string
}

// lineDiff returns the lines not in a longest common subsequence of a and b.
func lineDiff(a, b []string) []lineChange {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []lineChange
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, lineChange{"added", j + 1, b[j]})
			j++
		default:
			out = append(out, lineChange{"removed", i + 1, a[i]})
			i++
		}
	}
	return out
}
