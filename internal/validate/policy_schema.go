package validate

import (
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/ksguard/ksguard/policies"
)

// inputSchema parses policies.InputSchema once.
var inputSchema = sync.OnceValues(func() (*ast.SchemaSet, error) {
	var schema any
	if err := util.UnmarshalJSON(policies.InputSchema, &schema); err != nil {
		return nil, fmt.Errorf("reading policies/input.schema.json: %w", err)
	}
	set := ast.NewSchemaSet()
	set.Put(ast.SchemaRootRef, schema)
	return set, nil
})

// newCompiler returns the Rego compiler every policy is compiled with, for
// serving and for tests alike: Rego v1, type-checked against the input
// schema (policies/input.schema.json), so that a reference to a field the
// input does not have (input.object.setings) fails to compile with its file
// and line.
func newCompiler() (*ast.Compiler, error) {
	schemas, err := inputSchema()
	if err != nil {
		return nil, err
	}
	return ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithSchemas(schemas).
		WithUseTypeCheckAnnotations(true), nil
}
