// Package policies holds ksguard's default Rego policies, embedded in the
// binary. A policy directory given with --policy-dir replaces them.
package policies

import "embed"

// FS holds the default policies (*.rego) and their tests (*_test.rego).
//
//go:embed *.rego
var FS embed.FS
