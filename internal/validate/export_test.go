package validate

import "testing"

// FastAgrees is fastAgrees for the external tests (which may import
// packages that import validate, such as test/parity/corpus).
func FastAgrees(t testing.TB, schema string, text []byte) bool { return fastAgrees(t, schema, text) }

// TreeAnswers reports for how many of the two loaders configFromTree built
// text's config (after checking it against their YAML libraries).
func TreeAnswers(t testing.TB, text []byte) int { return len(treeAgrees(t, text)) }
