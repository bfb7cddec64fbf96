package validate

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

// FormatPolicy formats a Rego v1 source as opa fmt does. The error names the
// file and line of a source that does not parse.
func FormatPolicy(file string, src []byte) ([]byte, error) {
	out, err := format.SourceWithOpts(file, src, format.Opts{RegoVersion: ast.RegoV1, ParserOptions: &ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}})
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w", file, err)
	}
	return out, nil
}
