// Package policies holds ksguard's default Rego policies, embedded in the
// binary, and the JSON Schema of their input. A policy directory given with
// --policy-dir adds to them (or, with --policy-mode=replace, replaces them).
package policies

import "embed"

// FS holds the default policies (*.rego) and their tests (*_test.rego).
//
//go:embed *.rego
var FS embed.FS

// InputSchema is the JSON Schema of the policy input (input.schema.json):
// every policy is compiled against it, so a reference to a field the input
// does not have fails to compile.
//
//go:embed input.schema.json
var InputSchema []byte
