package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/hostsecret"
	"github.com/ksguard/ksguard/internal/validate"
)

// maxInputBytes bounds what eval reads from one file: a ConfigMap is at most
// 1 MiB, and a review carries two of them.
const maxInputBytes = 4 << 20

type evalFlags struct {
	policy         policyFlags
	file           string
	old            string
	review         string
	hostSecretFile string
	operation      string
	namespace      string
	user           string
	groups         stringList
	webhook        string
	showSecrets    bool
	explain        bool
}

// evalOutput is what eval prints for a ConfigMap.
type evalOutput struct {
	Allowed  bool                      `json:"allowed"`
	Denials  []string                  `json:"denials"`
	Warnings []string                  `json:"warnings"`
	Patch    []validate.PatchOperation `json:"patch"`
	Object   *validate.ConfigMap       `json:"object"`
	// Explain is there with --explain.
	Explain *validate.Explanation `json:"explain,omitempty"`
}

const evalUsage = `Usage:
  ksguard eval -f CONFIGMAP.yaml --host-secret-file FILE [--old OLD.yaml] [--operation CREATE|UPDATE|DELETE] [--policy-dir DIR] [--user NAME --group G ...]
  ksguard eval --review ADMISSIONREVIEW.json --host-secret-file FILE

Judges a ConfigMap the way the webhook does and prints the decision as JSON.
With --explain, the JSON also holds "explain": the policy input exactly as
Rego sees it (secrets as fingerprints) and, for each denial, warning and
edit, the rules (FILE:LINE) that produced it.
Exit status: 0 allowed, 1 denied, 2 the command could not run.

Flags:
`

func runEval(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f evalFlags
	flags := flag.NewFlagSet("ksguard eval", flag.ContinueOnError)
	flags.StringVar(&f.file, "f", "", "ConfigMap manifest to judge (YAML or JSON; - for standard input)")
	flags.StringVar(&f.old, "old", "", "the stored ConfigMap, for an UPDATE")
	flags.StringVar(&f.review, "review", "", "an admission.k8s.io/v1 AdmissionReview to answer (- for standard input)")
	flags.StringVar(&f.hostSecretFile, "host-secret-file", "", "file holding the host cluster's jwtSecret (one trailing newline is ignored)")
	flags.StringVar(&f.operation, "operation", "", "CREATE, UPDATE or DELETE (default: UPDATE with --old, else CREATE)")
	flags.StringVar(&f.namespace, "namespace", "", "namespace for a manifest that names none (default: the guarded namespace)")
	flags.StringVar(&f.user, "user", "", "user making the write")
	flags.Var(&f.groups, "group", "group of the user (repeatable)")
	flags.StringVar(&f.webhook, "webhook", string(admission.Mutating), "with --review: answer as the mutate or the validate webhook")
	flags.BoolVar(&f.showSecrets, "show-secrets", false, "print jwtSecret values in the object and patch (redacted by default)")
	flags.BoolVar(&f.explain, "explain", false, "add the policy input as Rego sees it (secrets as fingerprints) and, for each denial, warning and edit, the rule (FILE:LINE) that produced it")
	f.policy.register(flags)
	if code, ok := parseArgs(flags, evalUsage, " (the ConfigMap goes after -f)", args, stderr); !ok {
		return code
	}
	code, err := evaluate(context.Background(), &f, stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard eval: %v\n", err)
		return exitError
	}
	return code
}

func evaluate(ctx context.Context, f *evalFlags, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if (f.file == "") == (f.review == "") {
		return exitError, errors.New("give exactly one of -f CONFIGMAP.yaml and --review REVIEW.json")
	}
	opts, err := f.policy.options()
	if err != nil {
		return exitError, err
	}
	host, err := readHostSecretFile(f.hostSecretFile)
	if err != nil {
		return exitError, err
	}
	policy, _, err := f.policy.loadPolicy(ctx)
	if err != nil {
		return exitError, err
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		return exitError, err
	}
	ev := validate.NewEvaluator(policy, opts, fp)
	if f.review != "" && f.explain {
		return exitError, errors.New("--explain goes with -f: to explain a review, save its object (and oldObject) as manifests")
	}
	if f.review != "" {
		// The response stays the webhook's own (which does not warn clients
		// of a weak host value): the warning goes to stderr.
		if w := weakHostWarning(host); w != "" {
			fmt.Fprintf(stderr, "ksguard eval: warning: %s\n", w)
		}
		return answerReview(ctx, ev, f, host, stdin, stdout)
	}
	req, err := f.request(host, opts, stdin)
	if err != nil {
		return exitError, err
	}
	d, err := ev.Decide(ctx, req)
	if err != nil {
		return exitError, err
	}
	out := evalOutput{Allowed: d.Allowed, Denials: d.Denials, Warnings: d.Warnings, Patch: d.Patch, Object: patched(req, d)}
	if f.explain {
		if out.Explain, err = ev.Explain(ctx, req, d); err != nil {
			return exitError, err
		}
	}
	if w := weakHostWarning(host); w != "" {
		out.Warnings = append(out.Warnings, w)
		if out.Explain != nil {
			out.Explain.Warnings = append(out.Explain.Warnings, validate.Explained{Message: w, Rules: []validate.RuleRef{}})
		}
	}
	if !f.showSecrets {
		// Secrets are replaced in the structured output, before it is
		// encoded; the messages hold none (the policy sees fingerprints).
		out.Object = d.RedactObject(out.Object)
		out.Patch = validate.RedactPatch(out.Patch)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return exitError, fmt.Errorf("encoding the decision: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return exitError, err
	}
	if !d.Allowed {
		return exitDenied, nil
	}
	return exitAllowed, nil
}

// request builds the Request for -f (and --old).
func (f *evalFlags) request(host validate.HostSecret, opts validate.Options, stdin io.Reader) (validate.Request, error) {
	obj, err := readConfigMap(f.file, stdin)
	if err != nil {
		return validate.Request{}, err
	}
	var old *validate.ConfigMap
	if f.old != "" {
		if old, err = readConfigMap(f.old, stdin); err != nil {
			return validate.Request{}, err
		}
	}
	return newRequest(f.operation, f.namespace, obj, old, validate.UserInfo{Username: f.user, Groups: f.groups}, host, opts)
}

// newRequest builds the Request for obj (and the stored old) as eval and
// verify judge it: the operation is UPDATE when old is given, else CREATE,
// unless operation names one; a manifest without a namespace is in
// namespace (default: the guarded one).
func newRequest(operation, namespace string, obj, old *validate.ConfigMap, user validate.UserInfo, host validate.HostSecret, opts validate.Options) (validate.Request, error) {
	op := strings.ToUpper(operation)
	if op == "" {
		op = validate.OperationCreate
		if old != nil {
			op = validate.OperationUpdate
		}
	}
	ns := namespace
	if ns == "" {
		ns = opts.GuardedNamespace
	}
	for _, cm := range []*validate.ConfigMap{obj, old} {
		if cm != nil && cm.Namespace == "" {
			cm.Namespace = ns
		}
	}
	req := validate.Request{
		Operation: op,
		User:      user,
		Namespace: obj.Namespace,
		Name:      obj.Name,
		Object:    obj,
		OldObject: old,
		Host:      host,
	}
	switch op {
	case validate.OperationCreate:
		if old != nil {
			return req, errors.New("--old makes no sense with --operation CREATE")
		}
	case validate.OperationUpdate:
		if old == nil {
			req.OldObject = obj // an UPDATE that changes nothing
		}
	case validate.OperationDelete:
		// A DELETE carries the stored object only.
		req.Object, req.OldObject = nil, obj
	default:
		return req, fmt.Errorf("--operation must be CREATE, UPDATE or DELETE, not %q", operation)
	}
	return req, nil
}

// answerReview answers an AdmissionReview as the webhook would.
func answerReview(ctx context.Context, ev *validate.Evaluator, f *evalFlags, host validate.HostSecret, stdin io.Reader, stdout io.Writer) (int, error) {
	b, err := readInput(f.review, stdin)
	if err != nil {
		return exitError, err
	}
	review, err := admission.DecodeReview(b, true)
	if err != nil {
		return exitError, fmt.Errorf("reading %s: %w", f.review, err)
	}
	req, err := admission.ToRequest(review.Request, host)
	if err != nil {
		return exitError, err
	}
	d, err := ev.Decide(ctx, req)
	if err != nil {
		return exitError, err
	}
	resp, err := admission.Response(review.Request.UID, admission.Webhook(f.webhook), d)
	if err != nil {
		return exitError, err
	}
	if !f.showSecrets && len(resp.Patch) > 0 {
		if resp.Patch, err = redactPatch(resp.Patch); err != nil {
			return exitError, err
		}
	}
	enc, err := json.MarshalIndent(admission.ReviewOf(resp), "", "  ")
	if err != nil {
		return exitError, fmt.Errorf("encoding the response: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", enc); err != nil {
		return exitError, err
	}
	if !resp.Allowed {
		return exitDenied, nil
	}
	return exitAllowed, nil
}

// patched returns the object after the decision's patch (or the object as
// given when there is none; nil for a DELETE).
func patched(req validate.Request, d validate.Decision) *validate.ConfigMap {
	if req.Object == nil {
		return nil
	}
	cm := req.Object.DeepCopy()
	if d.Document != nil {
		cm.Data[validate.ConfigKey] = string(d.Document)
	}
	return cm
}

// redactPatch redacts an encoded JSON patch: it decodes it, redacts its
// operations (validate.RedactPatch) and encodes them again.
func redactPatch(patch []byte) ([]byte, error) {
	var ops []validate.PatchOperation
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, fmt.Errorf("reading the patch to redact it: %w", err)
	}
	b, err := json.Marshal(validate.RedactPatch(ops))
	if err != nil {
		return nil, fmt.Errorf("encoding the redacted patch: %w", err)
	}
	return b, nil
}

// weakHostWarning returns the warning for a weak host jwtSecret (see
// hostsecret.Weak), or "" when it is not weak. It gives the length, never
// the value.
func weakHostWarning(h validate.HostSecret) string {
	if !hostsecret.Weak(h.Value) {
		return ""
	}
	return hostsecret.WeakWarning(h.Source, len(h.Value))
}

// readConfigMap reads a ConfigMap manifest (YAML or JSON).
func readConfigMap(path string, stdin io.Reader) (*validate.ConfigMap, error) {
	b, err := readInput(path, stdin)
	if err != nil {
		return nil, err
	}
	return parseConfigMap(b, path)
}

// parseConfigMap reads a ConfigMap manifest (YAML or JSON) from b, read
// from path (named in errors).
func parseConfigMap(b []byte, path string) (*validate.ConfigMap, error) {
	cm := &validate.ConfigMap{}
	if err := yaml.UnmarshalStrict(b, cm); err != nil {
		hint := ""
		if strings.Contains(err.Error(), `unknown field "authentication"`) {
			hint = "; this looks like a kubesphere.yaml document: -f takes the ConfigMap manifest that holds it under data: kubesphere.yaml: |"
		}
		return nil, fmt.Errorf("reading the ConfigMap manifest %s: %w%s", displayName(path), err, hint)
	}
	if cm.Kind != "" && (cm.Kind != "ConfigMap" || (cm.APIVersion != "" && cm.APIVersion != "v1")) {
		return nil, fmt.Errorf("%s holds a %s %s, not a v1 ConfigMap", displayName(path), cm.APIVersion, cm.Kind)
	}
	if cm.Name == "" {
		return nil, fmt.Errorf("%s: the ConfigMap has no metadata.name", displayName(path))
	}
	return cm, nil
}

// readInput reads a file, or standard input for "-", up to maxInputBytes.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", displayName(path), err)
	}
	if len(b) > maxInputBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; a ConfigMap cannot be", displayName(path), maxInputBytes)
	}
	return b, nil
}

func displayName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}
