package validate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Explanation says what the policy saw of a request and which rule produced
// each denial, warning and edit of its decision.
type Explanation struct {
	// Input is the policy input exactly as Rego sees it: secrets are
	// fingerprints, and a string that holds a secret anyway is "[redacted]".
	Input any `json:"input"`
	// Denials, Warnings and Edits follow the decision's, in its order.
	Denials  []Explained `json:"denials"`
	Warnings []Explained `json:"warnings"`
	Edits    []Explained `json:"edits"`
}

// Explained is one message (or edit) of a decision and the rules that
// produced it. No rule means ksguard itself made it (an edit that could not
// be made safely, a warning about the host's jwtSecret).
type Explained struct {
	// Message is the denial or warning, or "set PATH to VALUE" for an edit.
	Message string `json:"message"`
	// Rules are where it comes from, most specific first.
	Rules []RuleRef `json:"rules"`
}

// RuleRef names one definition of a rule.
type RuleRef struct {
	// Rule is the rule's name in package ksguard.admission (violation,
	// advice, edits, deny, warn).
	Rule string `json:"rule"`
	// Location is FILE:LINE of the definition; embedded files are named
	// EmbeddedPrefix + file.
	Location string `json:"location"`
}

// explainedRules are the rules whose definitions an explanation tells
// apart, the most specific first: a denial is explained by the violation
// that made it before the deny rule that forwards it.
var explainedRules = []string{"violation", "advice", "edits", "deny", "warn"}

// explainPrefix names the copies of rule definitions Explain evaluates.
const explainPrefix = "ksguard_explain_"

// Explain evaluates req again with every definition of the rules in
// explainedRules evaluated on its own, and ties each message and edit of d
// (the decision Decide made for req) to the definitions that produce it.
func (e *Evaluator) Explain(ctx context.Context, req Request, d Decision) (*Explanation, error) {
	p := e.policy.Load()
	obj, old := e.objects(req)
	input, secrets := e.input(req, obj, old)
	val, err := ast.InterfaceToValue(input)
	if err != nil {
		return nil, fmt.Errorf("building the policy input: %w", err)
	}
	asRego, err := ast.JSON(val)
	if err != nil {
		return nil, fmt.Errorf("building the policy input: %w", err)
	}
	defs, produced, err := p.evalDefinitions(ctx, val)
	if err != nil {
		return nil, err
	}
	x := &Explanation{Input: redactStrings(asRego, secrets), Denials: []Explained{}, Warnings: []Explained{}, Edits: []Explained{}}
	// sources lists the definitions of rule whose values include want.
	sources := func(want func(any) bool, rules ...string) []RuleRef {
		for _, rule := range rules {
			var out []RuleRef
			for i, def := range defs {
				if def.Rule != rule {
					continue
				}
				for _, v := range produced[i] {
					if want(v) {
						out = append(out, def)
						break
					}
				}
			}
			if len(out) > 0 {
				return out
			}
		}
		return []RuleRef{}
	}
	message := func(m string) func(any) bool { return func(v any) bool { return v == m } }
	denial := func(m string) Explained {
		return Explained{Message: m, Rules: sources(message(m), "violation", "deny")}
	}
	editWarnings := map[string]Explained{}
	for _, ed := range d.Edits {
		ex := Explained{Message: fmt.Sprintf("set %s to %s", ed.Path, ed.Value), Rules: sources(func(v any) bool {
			got, err := edits([]any{v})
			return err == nil && len(got) == 1 && got[0].Path.String() == ed.Path.String() && got[0].Value == ed.Value && got[0].Reason == ed.Reason
		}, "edits")}
		x.Edits = append(x.Edits, ex)
		w := fmt.Sprintf("ksguard set %s to %s", ed.Path, ed.Value)
		if ed.Reason != "" {
			w += ": " + ed.Reason
		}
		editWarnings[w] = Explained{Message: w, Rules: ex.Rules}
	}
	for _, m := range d.Denials {
		x.Denials = append(x.Denials, denial(m))
	}
	for _, w := range d.Warnings {
		switch ex, isEdit := editWarnings[w]; {
		case isEdit:
			x.Warnings = append(x.Warnings, ex)
		case strings.HasPrefix(w, WarnModePrefix):
			ex := denial(strings.TrimPrefix(w, WarnModePrefix))
			ex.Message = w
			x.Warnings = append(x.Warnings, ex)
		default:
			// A warning that carries a violation (break-glass) names it too.
			rules := sources(message(w), "advice", "warn")
			rules = append(rules, sources(func(v any) bool {
				s, ok := v.(string)
				return ok && s != "" && s != w && strings.HasSuffix(w, s)
			}, "violation")...)
			x.Warnings = append(x.Warnings, Explained{Message: w, Rules: rules})
		}
	}
	return x, nil
}

// evalDefinitions evaluates, on input, a copy of each definition of the
// rules in explainedRules in package ksguard.admission, each under a name
// of its own, and returns the definitions and what each produced.
func (p *Policy) evalDefinitions(ctx context.Context, input ast.Value) ([]RuleRef, [][]any, error) {
	compiler, err := newCompiler()
	if err != nil {
		return nil, nil, err
	}
	opts := []func(*rego.Rego){rego.Compiler(compiler), rego.SetRegoVersion(ast.RegoV1), rego.StrictBuiltinErrors(true)}
	var defs []RuleRef
	var query strings.Builder
	query.WriteString("{")
	for _, file := range p.files {
		m := p.modules[file].Copy()
		if m.Package.Path.String() == "data."+PolicyPackage {
			for _, r := range p.modules[file].Rules {
				name := ruleName(r)
				if !slices.Contains(explainedRules, name) || r.Head.RuleKind() != ast.MultiValue || len(r.Head.Ref()) != 1 {
					continue
				}
				c := r.Copy()
				v := ast.Var(explainPrefix + strconv.Itoa(len(defs)))
				c.Head.Name = v
				c.Head.Reference = ast.Ref{ast.VarTerm(string(v))}
				c.Module = m
				m.Rules = append(m.Rules, c)
				fmt.Fprintf(&query, "%q: data.%s.%s, ", strconv.Itoa(len(defs)), PolicyPackage, v)
				defs = append(defs, RuleRef{Rule: name, Location: fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)})
			}
		}
		opts = append(opts, rego.ParsedModule(m))
	}
	query.WriteString("}")
	opts = append(opts, rego.Query(query.String()), rego.ParsedInput(input))
	rs, err := rego.New(opts...).Eval(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("evaluating the policy's rules one by one: %w", err)
	}
	produced := make([][]any, len(defs))
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return defs, produced, nil
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("evaluating the policy's rules one by one: got a %T", rs[0].Expressions[0].Value)
	}
	for i := range defs {
		produced[i], _ = obj[strconv.Itoa(i)].([]any)
	}
	return defs, produced, nil
}

// redactStrings replaces, value by value, every string of v that holds one
// of secrets with "[redacted]".
func redactStrings(v any, secrets []string) any {
	switch x := v.(type) {
	case string:
		if containsAny(x, secrets) {
			return "[redacted]"
		}
	case map[string]any:
		for k, item := range x {
			x[k] = redactStrings(item, secrets)
		}
	case []any:
		for i, item := range x {
			x[i] = redactStrings(item, secrets)
		}
	}
	return v
}
