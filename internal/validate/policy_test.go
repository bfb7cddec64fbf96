package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ksguard/ksguard/policies"
)

// TestPolicyEvalStopsWithItsContext: when the request's context ends (the
// API server's timeout, a client gone), the Rego evaluation stops and the
// decision fails with the cancellation, instead of running on. The rule
// added here would take hours.
func TestPolicyEvalStopsWithItsContext(t *testing.T) {
	modules, err := ReadModules(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	modules["slow.rego"] = `package ksguard.admission

r := numbers.range(1, 400)

violation contains "never" if {
	some a in r
	some b in r
	some c in r
	some d in r
	a + b + c + d < 0
}
`
	pol, err := CompilePolicy(context.Background(), modules)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvaluator(pol, DefaultOptions(), fp)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ev.Decide(ctx, updateRequest("authentication:\n  jwtSecret: x\n", hostSecret))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "cancel") {
			t.Fatalf("Decide after its context ended: %v, want the cancellation", err)
		}
	case <-time.After(time.Minute): // a bound on the hang, not a wait
		t.Fatal("the evaluation ran on for a minute after its context ended")
	}
}
