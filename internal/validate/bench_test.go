package validate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// bigDocument returns a member document padded to about size bytes with the
// kind of bulk a real kubesphere-config carries (sections of settings).
func bigDocument(size int) string {
	var b strings.Builder
	b.WriteString(readTestdataOnce("documents/v3.4.1-member-rendered.yaml"))
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "extension%d:\n  enabled: true\n  endpoint: http://svc-%d.kubesphere-system.svc:8080\n  replicas: %d\n  labels: [a, b, c]\n", i, i, i%5)
	}
	return b.String()
}

var testdataCache = map[string]string{}

func readTestdataOnce(name string) string {
	if s, ok := testdataCache[name]; ok {
		return s
	}
	var t testing.T
	s := readTestdata(&t, name)
	testdataCache[name] = s
	return s
}

func benchmarkDecide(b *testing.B, doc string) {
	ev := newTestEvaluator(b)
	req := updateRequest(doc, hostSecret)
	ctx := context.Background()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, err := ev.Decide(ctx, req)
		if err != nil || !d.Allowed {
			b.Fatalf("decision: %v %+v", err, d.Denials)
		}
	}
}

// BenchmarkDecideTypical is one decision on a typical member document (the
// ks-installer v3.4.1 render, about 1.2 KiB): allowed, nothing to edit. The
// same request every time: since the Evaluator keeps its recent decisions,
// this is a cache hit (a re-sent write, ks-installer re-applying an
// unchanged config, the validating webhook after a mutation that changed
// nothing); BenchmarkDecideTypicalMiss is a new text.
func BenchmarkDecideTypical(b *testing.B) {
	benchmarkDecide(b, readTestdataOnce("documents/v3.4.1-member-rendered.yaml"))
}

// BenchmarkDecideTypicalEdit is a typical document that needs the edit.
func BenchmarkDecideTypicalEdit(b *testing.B) {
	benchmarkDecide(b, readTestdataOnce("documents/v3.4.1-host-rendered.yaml"))
}

// BenchmarkDecide512KiB is one decision on a 512 KiB document.
func BenchmarkDecide512KiB(b *testing.B) {
	benchmarkDecide(b, bigDocument(512<<10))
}

// BenchmarkParseTypical is the YAML parse alone, for comparison.
func BenchmarkParseTypical(b *testing.B) {
	doc := []byte(readTestdataOnce("documents/v3.4.1-member-rendered.yaml"))
	b.ReportAllocs()
	for b.Loop() {
		ParseDocument(doc)
	}
}

// BenchmarkDecideParallel is the typical decision from every core at once:
// the prepared query is shared, as in the server.
func BenchmarkDecideParallel(b *testing.B) {
	ev := newTestEvaluator(b)
	req := updateRequest(readTestdataOnce("documents/v3.4.1-member-rendered.yaml"), hostSecret)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ev.Decide(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchmarkWrite is one write as the API server makes it: the mutating
// webhook judges a fresh text (a comment differs each time), and the
// validating webhook judges what the mutation produced.
func benchmarkWrite(b *testing.B, doc string) {
	ev := newTestEvaluator(b)
	ctx := context.Background()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		text := doc + "# write " + strconv.Itoa(n) + "\n"
		d, err := ev.Decide(ctx, updateRequest(text, hostSecret))
		if err != nil || !d.Allowed {
			b.Fatalf("mutating decision: %v %+v", err, d.Denials)
		}
		if d.Document != nil {
			text = string(d.Document)
		}
		if d, err = ev.Decide(ctx, updateRequest(text, hostSecret)); err != nil || !d.Allowed || d.Document != nil {
			b.Fatalf("validating decision: %v %+v", err, d.Denials)
		}
	}
}

// BenchmarkWriteTypical is one write (mutate, then validate) of the
// typical member document: nothing to edit.
func BenchmarkWriteTypical(b *testing.B) {
	benchmarkWrite(b, readTestdataOnce("documents/v3.4.1-member-rendered.yaml"))
}

// BenchmarkWriteTypicalEdit is one write of a document that needs the 0s
// edit: the mutation edits, the validation finds nothing left to do.
func BenchmarkWriteTypicalEdit(b *testing.B) {
	benchmarkWrite(b, readTestdataOnce("documents/v3.4.1-host-rendered.yaml"))
}

// BenchmarkDecideTypicalMiss is one decision on a new text of the typical
// member document (a comment differs each time), whose old object is the
// text before it (kept from the decision before, as the API server's old
// object is the previous stored write): the view of the new text and the
// decision are made, nothing is edited.
func BenchmarkDecideTypicalMiss(b *testing.B) {
	ev := newTestEvaluator(b)
	doc := readTestdataOnce("documents/v3.4.1-member-rendered.yaml")
	ctx := context.Background()
	b.ReportAllocs()
	prev := guardedConfigMap(doc)
	n := 0
	for b.Loop() {
		n++
		req := updateRequest(doc+"# write "+strconv.Itoa(n)+"\n", hostSecret)
		req.OldObject = prev
		d, err := ev.Decide(ctx, req)
		if err != nil || !d.Allowed || d.Document != nil {
			b.Fatalf("decision: %v %+v", err, d.Denials)
		}
		prev = req.Object
	}
}

// BenchmarkPolicyEval is the Rego evaluation alone, on the policy input of
// a typical member document's UPDATE: what a miss spends in OPA.
func BenchmarkPolicyEval(b *testing.B) {
	ev := newTestEvaluator(b)
	req := updateRequest(readTestdataOnce("documents/v3.4.1-member-rendered.yaml"), hostSecret)
	obj, old := ev.objects(req)
	input, _ := ev.input(req, obj, old)
	p := ev.policy.Load()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := p.eval(ctx, input); err != nil || len(r.deny) > 0 {
			b.Fatalf("eval: %v %v", err, r.deny)
		}
	}
}
