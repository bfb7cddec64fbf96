package validate

import "testing"

// FastAgrees is fastAgrees for the external tests (which may import
// packages that import validate, such as test/parity/corpus).
func FastAgrees(t testing.TB, schema string, text []byte) bool { return fastAgrees(t, schema, text) }
