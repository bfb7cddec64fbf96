// Package validatetest gives tests outside internal/validate an Evaluator
// of the embedded policies, as `ksguard serve` builds one by default.
package validatetest

import (
	"context"
	"testing"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// NewEvaluator returns an Evaluator of the embedded policies with
// validate.DefaultOptions and a fresh Fingerprinter; it fails tb when the
// policies do not compile.
func NewEvaluator(tb testing.TB) *validate.Evaluator {
	tb.Helper()
	pol, err := validate.LoadPolicy(context.Background(), policies.FS)
	if err != nil {
		tb.Fatal(err)
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		tb.Fatal(err)
	}
	return validate.NewEvaluator(pol, validate.DefaultOptions(), fp)
}
