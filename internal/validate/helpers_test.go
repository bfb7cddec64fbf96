package validate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ksguard/ksguard/policies"
)

// hostSecret is the host cluster's jwtSecret in the test documents (the
// example secret of KubeSphere's documentation).
const hostSecret = "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU"

// newTestEvaluator compiles the embedded policies with the default options.
func newTestEvaluator(t testing.TB, mutate ...func(*Options)) *Evaluator {
	t.Helper()
	p, err := LoadPolicy(context.Background(), policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	for _, m := range mutate {
		m(&o)
	}
	return NewEvaluator(p, o, fp)
}

// guardedConfigMap returns the guarded ConfigMap holding doc.
func guardedConfigMap(doc string) *ConfigMap {
	cm := &ConfigMap{Data: map[string]string{ConfigKey: doc}}
	cm.Name, cm.Namespace = "kubesphere-config", "kubesphere-system"
	return cm
}

// updateRequest is an UPDATE of the guarded ConfigMap to doc.
func updateRequest(doc, host string) Request {
	cm := guardedConfigMap(doc)
	return Request{
		Operation: OperationUpdate, Namespace: cm.Namespace, Name: cm.Name,
		User:   UserInfo{Username: "admin", Groups: []string{"system:authenticated"}},
		Object: cm, OldObject: cm.DeepCopy(),
		Host: HostSecret{Value: []byte(host), Source: "test"},
	}
}

// readTestdata reads a file under testdata/.
func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inputAsRego returns a policy input exactly as Rego sees it, as plain Go
// values (views are OPA values inside it).
func inputAsRego(t testing.TB, input map[string]any) any {
	t.Helper()
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ast.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testDocuments reads every document under testdata/documents, by file
// name; it fails t when there is none.
func testDocuments(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "documents", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no documents under testdata/documents: %v", err)
	}
	docs := make(map[string][]byte, len(files))
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = text
	}
	return docs
}
