// Package doctor holds `ksguard doctor`'s checks: the KubeSphere FAQ
// "Restore the Host Cluster Access to A Member Cluster" automated across a
// host cluster and its members, with a hint for every failure.
//
// Like linkerd's pkg/healthcheck, checks are a registry: each has a stable
// ID, a category, a severity and a hint, and runs against a Snapshot of one
// member read once through its API server (and the host's, to compare
// with). Every reading of kubesphere.yaml goes through internal/validate,
// so doctor reads the document exactly as the webhook and ks-apiserver do.
// Secrets are compared in this process and never printed, not even hashed.
package doctor

import "context"

// Severity says what a failed check means.
type Severity string

const (
	// SeverityError: users are (or will be) sent back to the login page.
	SeverityError Severity = "error"
	// SeverityWarning: not broken now, but a fix may be undone or is not
	// in force yet.
	SeverityWarning Severity = "warning"
)

// Status is a check's outcome.
type Status string

const (
	// StatusOK: the check passed.
	StatusOK Status = "ok"
	// StatusFailed: the check failed; the severity says how badly.
	StatusFailed Status = "failed"
	// StatusNotChecked: the check could not run here (no logs without a
	// kubelet, no permission to read a Secret); it does not fail the run.
	StatusNotChecked Status = "not-checked"
)

// Category groups checks in the output.
type Category string

// Categories, in output order.
const (
	CategoryCluster Category = "cluster"
	CategorySecret  Category = "jwtSecret"
	CategoryMaxAge  Category = "accessTokenMaxAge"
	CategoryRestart Category = "restart"
	CategoryClock   Category = "clock"
	CategoryKsguard Category = "ksguard"
	CategoryLogs    Category = "logs"
)

// Outcome is what one check found.
type Outcome struct {
	// Status is ok, failed or not checked.
	Status Status
	// Detail says what was found (never a secret).
	Detail string
	// Hint says what to do: the command or the value to change.
	Hint string
}

// Check is one of doctor's checks.
type Check struct {
	// ID is stable across releases (scripts match on it).
	ID string
	// Category groups it in the output.
	Category Category
	// Description says what passing means ("the jwtSecret equals the host's").
	Description string
	// Severity is what a failure means.
	Severity Severity
	// Run inspects a member's snapshot against the host's.
	Run func(ctx context.Context, env *Env) Outcome
}

// ok, failed and notChecked build outcomes.
func ok(detail string) Outcome { return Outcome{Status: StatusOK, Detail: detail} }

func failed(detail, hint string) Outcome {
	return Outcome{Status: StatusFailed, Detail: detail, Hint: hint}
}

func notChecked(why string) Outcome { return Outcome{Status: StatusNotChecked, Detail: why} }
