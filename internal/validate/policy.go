package validate

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// PolicyPackage is the Rego package whose deny, warn and edits sets make the
// decision.
const PolicyPackage = "ksguard.admission"

// resultModule is compiled with every policy: it gathers the three sets
// ksguard reads, with empty defaults, so that the query evaluates only the
// rules the decision needs (not every helper of the package) and a policy
// may leave any of them out.
const resultModule = `package ksguard.internal.result

default deny := set()

deny := data.ksguard.admission.deny

default warn := set()

warn := data.ksguard.admission.warn

default edits := set()

edits := data.ksguard.admission.edits

result := {"deny": deny, "warn": warn, "edits": edits}
`

// resultModuleFile names the result module in compiler messages.
const resultModuleFile = "(ksguard)/result.rego"

// Policy is a compiled set of Rego modules with its query prepared once.
// It is safe for concurrent use.
type Policy struct {
	id      uint64 // unique per compiled policy: part of every cached decision's key
	query   rego.PreparedEvalQuery
	files   []string
	modules map[string]*ast.Module // parsed, for Explain
}

// policyIDs numbers compiled policies.
var policyIDs atomic.Uint64

// Files lists the Rego files the policy was compiled from.
func (p *Policy) Files() []string { return p.files }

// ReadModules reads every .rego file under fsys (recursively), leaving out
// tests (*_test.rego). The map is keyed by path.
func ReadModules(fsys fs.FS) (map[string]string, error) {
	return readRego(fsys, false)
}

// ReadModulesWithTests is ReadModules with the *_test.rego files included.
func ReadModulesWithTests(fsys fs.FS) (map[string]string, error) {
	return readRego(fsys, true)
}

func readRego(fsys fs.FS, tests bool) (map[string]string, error) {
	mods := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path != "." && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir // e.g. ..data in a mounted ConfigMap
			}
			return nil
		}
		if !strings.HasSuffix(path, ".rego") || (!tests && strings.HasSuffix(path, "_test.rego")) {
			return nil
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return fmt.Errorf("reading policy %s: %w", path, err)
		}
		mods[path] = string(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no .rego files found: a policy directory needs at least package %s", PolicyPackage)
	}
	return mods, nil
}

// CompilePolicy compiles Rego modules (path to source) and prepares the
// decision query. The error carries the compiler's messages with file and
// line.
func CompilePolicy(ctx context.Context, modules map[string]string) (*Policy, error) {
	files := sortedKeys(modules)
	result, err := ast.ParseModuleWithOpts(resultModuleFile, resultModule, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("compiling ksguard's result module: %w", err)
	}
	parsed, err := ParseModules(modules)
	if err != nil {
		return nil, err
	}
	compiler, err := newCompiler()
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){
		rego.Query("data.ksguard.internal.result.result"),
		rego.Compiler(compiler),
		rego.ParsedModule(result),
		rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(true),
	}
	hasPackage := false
	for _, f := range files {
		m := parsed[f]
		hasPackage = hasPackage || m.Package.Path.String() == "data."+PolicyPackage
		opts = append(opts, rego.ParsedModule(m))
	}
	if !hasPackage {
		return nil, fmt.Errorf("compiling policy: no module declares package %s (files: %s)", PolicyPackage, strings.Join(files, ", "))
	}
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compiling policy: %w", err)
	}
	return &Policy{id: policyIDs.Add(1), query: q, files: files, modules: parsed}, nil
}

// LoadPolicy reads and compiles the policies under fsys.
func LoadPolicy(ctx context.Context, fsys fs.FS) (*Policy, error) {
	mods, err := ReadModules(fsys)
	if err != nil {
		return nil, err
	}
	return CompilePolicy(ctx, mods)
}

// result is what the policy package decided.
type result struct {
	deny, warn []string
	edits      []Edit
}

// eval runs the prepared query on input. The input is converted to an OPA
// value here, directly: rego.EvalInput would round-trip it through JSON.
// Cancelling ctx stops the evaluation, through a callback on ctx rather than
// the goroutine OPA would start for every evaluation to watch it.
func (p *Policy) eval(ctx context.Context, input map[string]any) (result, error) {
	in, err := ast.InterfaceToValue(input)
	if err != nil {
		return result{}, fmt.Errorf("building the policy input: %w", err)
	}
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(in), rego.EvalExternalCancel(cancel))
	if err != nil {
		return result{}, fmt.Errorf("evaluating policy: %w", err)
	}
	var r result
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return r, nil // package undefined: nothing to say
	}
	pkg, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return r, fmt.Errorf("evaluating policy: the result is a %T, not an object", rs[0].Expressions[0].Value)
	}
	if r.deny, err = messages(pkg, "deny"); err != nil {
		return r, err
	}
	if r.warn, err = messages(pkg, "warn"); err != nil {
		return r, err
	}
	r.edits, err = edits(pkg["edits"])
	return r, err
}

// messages reads a set of strings (deny, warn) from the package result.
func messages(pkg map[string]any, rule string) ([]string, error) {
	v, ok := pkg[rule]
	if !ok {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy rule %s.%s must be a set of strings, got %T", PolicyPackage, rule, v)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("policy rule %s.%s must hold strings, got %T", PolicyPackage, rule, it)
		}
		out = append(out, s)
	}
	return out, nil
}

// Edit is a change the policy asks for: set the value at Path (in
// kubesphere.yaml) to the string Value.
type Edit struct {
	// Path is the list of keys from the document's root.
	Path Path `json:"path"`
	// Value is the string to write.
	Value string `json:"value"`
	// Reason says why; once the edit is made, the client is warned
	// "ksguard set PATH to VALUE: REASON".
	Reason string `json:"reason,omitempty"`
}

// edits reads the edits set: objects {"path": [keys] or "a.b.c", "value":
// string, "reason": optional string}.
func edits(v any) ([]Edit, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy rule %s.edits must be a set of {path, value} objects, got %T", PolicyPackage, v)
	}
	out := make([]Edit, 0, len(items))
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy rule %s.edits must hold {path, value} objects, got %T", PolicyPackage, it)
		}
		var e Edit
		switch p := obj["path"].(type) {
		case string:
			e.Path = strings.Split(p, ".")
		case []any:
			for _, k := range p {
				ks, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("policy rule %s.edits: path keys must be strings, got %T", PolicyPackage, k)
				}
				e.Path = append(e.Path, ks)
			}
		default:
			return nil, fmt.Errorf("policy rule %s.edits: path must be a list of keys or a dotted string, got %T", PolicyPackage, obj["path"])
		}
		if r, has := obj["reason"]; has {
			if e.Reason, ok = r.(string); !ok {
				return nil, fmt.Errorf("policy rule %s.edits: reason at %s must be a string, got %T", PolicyPackage, e.Path, r)
			}
		}
		if e.Value, ok = obj["value"].(string); !ok {
			return nil, fmt.Errorf("policy rule %s.edits: value at %s must be a string, got %T", PolicyPackage, e.Path, obj["value"])
		}
		if len(e.Path) == 0 {
			return nil, fmt.Errorf("policy rule %s.edits: empty path", PolicyPackage)
		}
		out = append(out, e)
	}
	return out, nil
}
