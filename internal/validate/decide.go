package validate

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Decision is the outcome of judging one Request.
type Decision struct {
	// Allowed is false when the write is denied.
	Allowed bool `json:"allowed"`
	// Denials are the reasons for a denial (empty when allowed).
	Denials []string `json:"denials"`
	// Warnings are shown to the client whether or not the write is allowed.
	Warnings []string `json:"warnings"`
	// Edits are the changes the policy asked for.
	Edits []Edit `json:"edits"`
	// Patch is the RFC 6902 JSON patch that makes the edits (empty when the
	// document is unchanged).
	Patch []PatchOperation `json:"patch"`
	// Document is kubesphere.yaml after the edits; nil when unchanged.
	Document []byte `json:"-"`
	// Waived are the denials warn mode turned into warnings (they are in
	// Warnings too, prefixed); empty in enforce mode.
	Waived []string `json:"-"`

	secrets []string // secret values seen while deciding, for HoldsSecret
	source  string   // how the decision was had: SourceMade, SourceCache or SourceJoined
}

// How a decision was had (Decision.Source).
const (
	// SourceMade is a decision made for the request.
	SourceMade = "made"
	// SourceCache is a decision the Evaluator had kept from a request that
	// differs in nothing the decision depends on.
	SourceCache = "hit"
	// SourceJoined is a decision the request waited for while it was made
	// for an equal request (such as the one Prepare made after a mutation).
	SourceJoined = "joined"
)

// Source says how the decision was had: SourceMade, SourceCache or
// SourceJoined.
func (d *Decision) Source() string { return d.source }

// PatchOperation is one RFC 6902 operation.
type PatchOperation struct {
	// Op is the operation ("replace" or "add").
	Op string `json:"op"`
	// Path is a JSON pointer into the ConfigMap.
	Path string `json:"path"`
	// Value is the new value.
	Value any `json:"value,omitempty"`
}

// WarnModePrefix starts the warning that stands for a denial in warn mode.
const WarnModePrefix = "ksguard (warn mode) would deny: "

// Evaluator judges requests with the current policy. Policies are swapped
// atomically by SetPolicy, so a reload never blocks or tears a decision.
type Evaluator struct {
	policy atomic.Pointer[Policy]
	opts   Options
	config any // the input's "config", an OPA value (converted once)
	fp     *Fingerprinter

	views     recent[*objectView] // see cache.go
	decisions recent[Decision]
	flights   flights // decisions being made, by key
}

// NewEvaluator returns an Evaluator for policy with opts; fp fingerprints the
// secrets (one per process).
func NewEvaluator(policy *Policy, opts Options, fp *Fingerprinter) *Evaluator {
	config := map[string]any{
		"guarded":       map[string]any{"namespace": opts.GuardedNamespace, "name": opts.GuardedName},
		"breakGlass":    map[string]any{"annotation": opts.BreakGlassAnnotation, "groups": opts.BreakGlassGroups},
		"onMissingHost": opts.OnMissingHost,
		"mode":          opts.Mode,
	}
	e := &Evaluator{opts: opts, fp: fp, config: config}
	if v, err := ast.InterfaceToValue(config); err == nil {
		e.config = v
	}
	e.policy.Store(policy)
	return e
}

// SetPolicy replaces the policy used by later decisions.
func (e *Evaluator) SetPolicy(p *Policy) { e.policy.Store(p) }

// Policy returns the policy in use.
func (e *Evaluator) Policy() *Policy { return e.policy.Load() }

// Options returns the options the Evaluator was made with.
func (e *Evaluator) Options() Options { return e.opts }

// Decide judges req. An error means the policy itself failed (a runtime
// error in Rego, or a result of the wrong shape); the caller decides what a
// failed decision means (the webhook denies).
func (e *Evaluator) Decide(ctx context.Context, req Request) (Decision, error) {
	p := e.policy.Load()
	obj, old := e.objects(req)
	key, cacheable := e.decisionKey(p, req, obj, old)
	if !cacheable {
		return e.decide(ctx, p, req, obj, old)
	}
	source := SourceCache
	for {
		if d, hit := e.decisions.get(key); hit {
			d = d.clone()
			d.source = source
			return d, nil
		}
		done, leader := e.flights.join(key)
		if leader {
			break
		}
		select { // the same decision is being made (see Prepare): wait for it
		case <-done:
		case <-ctx.Done():
			return Decision{}, ctx.Err()
		}
		if _, hit := e.decisions.get(key); !hit { // it failed: make it here
			return e.decide(ctx, p, req, obj, old)
		}
		source = SourceJoined
	}
	defer e.flights.land(key)
	d, err := e.decide(ctx, p, req, obj, old)
	if err == nil {
		e.decisions.put(key, d.clone())
	}
	return d, err
}

// decide makes the decision on req with p.
func (e *Evaluator) decide(ctx context.Context, p *Policy, req Request, obj, old *objectView) (Decision, error) {
	input, secrets := e.input(req, obj, old)
	d := Decision{Denials: []string{}, Warnings: []string{}, Edits: []Edit{}, Patch: []PatchOperation{}, secrets: secrets, source: SourceMade}
	r, err := p.eval(ctx, input)
	if err != nil {
		return Decision{}, err // not kept: a failure is retried
	}
	d.Denials = append(d.Denials, r.deny...)
	d.Warnings = append(d.Warnings, r.warn...)
	if len(r.edits) > 0 {
		d.Edits = r.edits
		if err := d.applyEdits(obj, req.Operation); err != nil {
			d.Denials = append(d.Denials, err.Error())
		}
	}
	d.withholdQuotedSecrets(req.User.Username, obj, old)
	if e.opts.Mode == ModeWarn && len(d.Denials) > 0 {
		for _, m := range d.Denials {
			d.Warnings = append(d.Warnings, WarnModePrefix+m)
		}
		d.Waived, d.Denials = d.Denials, []string{}
	}
	d.Allowed = len(d.Denials) == 0
	return d, nil
}

// input builds the policy input for req from the views of its objects. It
// returns every secret value seen (for HoldsSecret); the input itself holds
// fingerprints only, so no message the policy makes can hold a secret, and
// messages are never searched for one.
func (e *Evaluator) input(req Request, obj, old *objectView) (map[string]any, []string) {
	input := map[string]any{
		"operation": req.Operation,
		"dryRun":    req.DryRun,
		"userInfo":  map[string]any{"username": req.User.Username, "groups": req.User.Groups},
		"namespace": req.Namespace,
		"name":      req.Name,
		"object":    viewInput(obj),
		"oldObject": viewInput(old),
		"host":      e.hostInput(req.Host),
		"config":    e.config,
	}
	var secrets []string
	if req.Host.Value != nil {
		secrets = append(secrets, string(req.Host.Value))
	}
	for _, v := range []*objectView{obj, old} {
		if v != nil {
			secrets = append(secrets, v.secrets...)
		}
	}
	return input, secrets
}

// applyEdits makes the policy's edits to the object's document, one after
// the other, and records the patch.
func (d *Decision) applyEdits(obj *objectView, op string) error {
	if obj == nil || obj.doc == nil || (op != OperationCreate && op != OperationUpdate) {
		return fmt.Errorf("the policy asked for edits, but only the %s of a CREATE or UPDATE can be edited", ConfigKey)
	}
	doc, text := obj.doc, obj.doc.Text
	var made []string
	for i, ed := range d.Edits {
		if i > 0 {
			doc = ParseDocument(text) // the next edit works on the edited text
		}
		var err error
		if text, err = doc.Set(ed.Path, ed.Value); err != nil {
			return err
		}
		msg := fmt.Sprintf("ksguard set %s to %s", ed.Path, ed.Value)
		if ed.Reason != "" {
			msg += ": " + ed.Reason
		}
		made = append(made, msg)
	}
	if bytes.Equal(text, obj.doc.Text) {
		return nil
	}
	d.Warnings = append(d.Warnings, made...)
	d.Document = text
	d.Patch = []PatchOperation{{Op: "replace", Path: "/data/" + jsonPointerEscape(ConfigKey), Value: string(text)}}
	return nil
}

func (e *Evaluator) hostInput(h HostSecret) map[string]any {
	in := map[string]any{"available": h.Value != nil, "source": h.Source, "problem": h.Problem}
	if h.Value != nil {
		in["fingerprint"] = e.fp.Sum(h.Value)
	}
	return in
}

// sameContent reports whether two ConfigMaps look the same to the policy.
func sameContent(a, b *ConfigMap) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.Namespace == b.Namespace &&
		maps.Equal(a.Data, b.Data) && maps.Equal(a.Annotations, b.Annotations) && maps.Equal(a.Labels, b.Labels) &&
		maps.EqualFunc(a.BinaryData, b.BinaryData, bytes.Equal)
}

func viewInput(v *objectView) any {
	if v == nil {
		return nil
	}
	return v.input
}

// jsonPointerEscape escapes a key for a JSON pointer (RFC 6901).
func jsonPointerEscape(k string) string {
	out := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '~':
			out = append(out, '~', '0')
		case '/':
			out = append(out, '~', '1')
		default:
			out = append(out, k[i])
		}
	}
	return string(out)
}
