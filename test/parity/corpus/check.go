package corpus

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// Loader reads a document as one KubeSphere version's ks-apiserver does; an
// error means ks-apiserver would not start.
type Loader func(doc []byte) (jwtSecret string, accessTokenMaxAge time.Duration, err error)

// Schema names, as the loaders' packages are named.
const (
	V3 = "v3"
	V4 = "v4"
)

// Applies reports whether the loader of schema reads doc, judged without
// ksguard: a document whose authentication section has an issuer key is
// read by v4, any other by v3, and a document that carries both v4's issuer
// and v3's oauthOptions (a hybrid), or that cannot be decoded at all, must
// satisfy both.
func Applies(doc []byte, schema string) bool {
	var top map[string]any
	if err := yaml.Unmarshal(doc, &top); err != nil {
		return true
	}
	var issuer, oauth bool
	for k, v := range top {
		if !strings.EqualFold(k, "authentication") {
			continue
		}
		var keys []string
		switch auth := v.(type) {
		case map[string]any:
			for ak := range auth {
				keys = append(keys, ak)
			}
		case map[any]any: // a mapping with keys that are not strings
			for ak := range auth {
				if s, ok := ak.(string); ok {
					keys = append(keys, s)
				}
			}
		}
		for _, ak := range keys {
			issuer = issuer || strings.EqualFold(ak, "issuer")
			oauth = oauth || strings.EqualFold(ak, "oauthOptions")
		}
	}
	if schema == V4 {
		return issuer
	}
	return !issuer || oauth
}

// Checker judges documents with ksguard's embedded policies and default
// options, as `ksguard eval` and the webhook do.
type Checker struct {
	ev *validate.Evaluator
}

// NewChecker compiles the embedded policies.
func NewChecker() (*Checker, error) {
	p, err := validate.LoadPolicy(context.Background(), policies.FS)
	if err != nil {
		return nil, fmt.Errorf("compiling the embedded policies: %w", err)
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		return nil, err
	}
	return &Checker{ev: validate.NewEvaluator(p, validate.DefaultOptions(), fp)}, nil
}

// Result is ksguard's decision on one document and what the loader made of it.
type Result struct {
	// Allowed is ksguard's answer.
	Allowed bool
	// Unsafe says why an allow is wrong: the loader cannot load the document
	// as it would be stored, or reads another jwtSecret than the host's, or
	// a non-zero accessTokenMaxAge. Empty when the decision is safe.
	Unsafe string
	// OverDenied is true when ksguard denied a document from which the
	// loader reads the host's jwtSecret cleanly (ksguard's edit would take
	// care of the accessTokenMaxAge).
	OverDenied bool
	// Denial is ksguard's first denial message.
	Denial string
}

// Check judges doc with ksguard and compares the outcome with load.
func (k *Checker) Check(doc []byte, host string, load Loader) (Result, error) {
	cm := &validate.ConfigMap{Data: map[string]string{validate.ConfigKey: string(doc)}}
	cm.Name, cm.Namespace = "kubesphere-config", "kubesphere-system"
	d, err := k.ev.Decide(context.Background(), validate.Request{
		Operation: validate.OperationCreate, Namespace: cm.Namespace, Name: cm.Name,
		User:   validate.UserInfo{Username: "parity", Groups: []string{"system:authenticated"}},
		Object: cm, Host: validate.HostSecret{Value: []byte(host), Source: "parity"},
	})
	if err != nil {
		return Result{}, fmt.Errorf("ksguard's decision failed: %w", err)
	}
	r := Result{Allowed: d.Allowed}
	if !d.Allowed {
		r.Denial = d.Denials[0]
		secret, _, err := load(doc)
		r.OverDenied = err == nil && secret == host
		return r, nil
	}
	stored := doc
	if d.Document != nil {
		stored = d.Document
	}
	secret, age, err := load(stored)
	switch {
	case err != nil:
		r.Unsafe = "the loader cannot load the stored document: " + err.Error()
	case secret != host:
		r.Unsafe = fmt.Sprintf("the loader reads a jwtSecret of %d bytes that is not the host's (%d bytes)", len(secret), len(host))
	case age != 0:
		r.Unsafe = fmt.Sprintf("the loader reads accessTokenMaxAge %v in the stored document", age)
	}
	if r.Unsafe != "" && d.Document != nil {
		r.Unsafe += fmt.Sprintf(" (after ksguard's edit, stored document %q)", stored)
	}
	return r, nil
}

// CompareReading compares ksguard's own reading of doc as KubeSphere of
// schema (validate.ReadAsKubeSphere, the reading its decisions rest on) with
// the real loader's: the same jwtSecret and accessTokenMaxAge, or both
// failing to load. It returns what differs, or "". Documents with keys that
// differ only by case, or dotted keys on a guarded path, are skipped: viper
// folds and flattens them in Go's random map order, so the real loader's own
// reading changes from run to run (ksguard refuses them).
func (k *Checker) CompareReading(doc []byte, schema string, load Loader) string {
	for _, f := range validate.ParseDocument(doc).Findings {
		if f.Kind == validate.FindingCaseVariantKey || f.Kind == validate.FindingDottedKey {
			return ""
		}
	}
	vs := validate.SchemaV3
	if schema == V4 {
		vs = validate.SchemaV4
	}
	got, gotErr := validate.ReadAsKubeSphere(vs, doc)
	gotSecret, gotAge := got.JWTSecret, got.AccessTokenMaxAge
	wantSecret, wantAge, wantErr := load(doc)
	switch {
	case (gotErr != nil) != (wantErr != nil):
		return fmt.Sprintf("ksguard's load error %v, the loader's %v", gotErr, wantErr)
	case gotErr != nil:
		return ""
	case gotSecret != wantSecret:
		return fmt.Sprintf("jwtSecret %q, the loader reads %q", gotSecret, wantSecret)
	case gotAge != wantAge:
		return fmt.Sprintf("accessTokenMaxAge %v, the loader reads %v", gotAge, wantAge)
	}
	return ""
}

// Run checks every case of the corpus that schema's loader reads, fails t
// for each unsafe allow, and logs the figures: cases, allows, denials, and
// over-denials grouped by ksguard's message.
func Run(t *testing.T, schema string, load Loader) {
	t.Helper()
	k, err := NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	var checked, allowed, unsafe, over, misread int
	overBy := map[string]int{}
	examples := map[string][]string{}
	for _, c := range Cases() {
		if !Applies([]byte(c.Doc), schema) {
			continue
		}
		checked++
		r, err := k.Check([]byte(c.Doc), c.Host, load)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if r.Allowed {
			allowed++
		}
		if why := k.CompareReading([]byte(c.Doc), schema, load); why != "" {
			misread++
			t.Errorf("ksguard's reading differs from the loader's for %s: %s", c.Name, why)
		}
		if r.Unsafe != "" {
			unsafe++
			t.Errorf("unsafe allow %s: %s\ndocument:\n%s", c.Name, r.Unsafe, c.Doc)
		}
		if r.OverDenied {
			over++
			kind := messageKind(r.Denial)
			overBy[kind]++
			if len(examples[kind]) < 3 {
				examples[kind] = append(examples[kind], c.Name)
			}
		}
		if c.Host == StrongHost && strings.Contains(r.Denial, c.Host) {
			t.Errorf("%s: the denial shows the host's secret", c.Name)
		}
	}
	t.Logf("%s loader: %d documents checked, %d allowed, %d denied, %d unsafe allows, %d over-denials, %d misread",
		schema, checked, allowed, checked-allowed, unsafe, over, misread)
	kinds := make([]string, 0, len(overBy))
	for k := range overBy {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("  over-denied %4d: %s (e.g. %s)", overBy[k], k, strings.Join(examples[k], ", "))
	}
	if checked < 1000 {
		t.Fatalf("only %d documents checked: the corpus is not being generated", checked)
	}
}

// messageKind shortens a denial to its first clause, for grouping.
func messageKind(msg string) string {
	if i := strings.IndexAny(msg, ":;("); i > 0 {
		msg = msg[:i]
	}
	if len(msg) > 100 {
		msg = msg[:100]
	}
	return msg
}

// Fuzz is the FuzzParity target of a loader's module: for any document its
// loader reads and any host secret, no unsafe allow and no misread. The
// corpus's structural variants are the seeds, beside the module's
// testdata/fuzz.
func Fuzz(f *testing.F, schema string, load Loader) {
	for _, c := range Seeds() {
		f.Add(c.Doc, c.Host)
	}
	k, err := NewChecker()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc, host string) {
		if host == "" || !Applies([]byte(doc), schema) {
			return
		}
		r, err := k.Check([]byte(doc), host, load)
		if err != nil {
			t.Fatal(err)
		}
		if r.Unsafe != "" {
			t.Fatalf("unsafe allow: %s\ndocument: %q\nhost: %q", r.Unsafe, doc, host)
		}
		if why := k.CompareReading([]byte(doc), schema, load); why != "" {
			t.Fatalf("ksguard reads the document differently from the loader: %s\ndocument: %q", why, doc)
		}
	})
}
