// Package policyreload keeps the Rego policies of a --policy-dir serving:
// it recompiles them when the directory changes and swaps them into the
// evaluator. In both policy modes (validate.PolicyModeAdditive, the
// directory's files joining the embedded policies, and
// validate.PolicyModeReplace) the directory is what is watched. A policy that fails to compile leaves the last good one
// serving; the compiler's message is logged and the failure counted in
// ksguard_policy_reloads_total{result="failure"}.
package policyreload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/ksguard/ksguard/internal/filewatch"
	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// Reloader recompiles the policies in a directory when they change.
type Reloader struct {
	dir  string
	mode string
	poll time.Duration
	ev   *validate.Evaluator
	log  logr.Logger

	mu   sync.Mutex
	seen string // digest of the sources last compiled, good or bad
}

// Load compiles the policies in dir, composed for mode with the embedded
// ones (validate.ComposeModules), once, for the start of the process: an
// error stops ksguard with the compiler's message.
func Load(ctx context.Context, dir, mode string) (*validate.Policy, string, error) {
	mods, err := validate.ReadDirModules(os.DirFS(dir), dir, false)
	if err != nil {
		return nil, "", err
	}
	pol, err := compile(ctx, mode, mods)
	if err != nil {
		return nil, "", fmt.Errorf("loading policies from %s (--policy-mode=%s): %w", dir, mode, err)
	}
	return pol, digest(mods), nil
}

// compile composes the directory's modules for mode and compiles them.
func compile(ctx context.Context, mode string, mods map[string]string) (*validate.Policy, error) {
	embedded, err := validate.EmbeddedModules(false)
	if err != nil {
		return nil, err
	}
	composed, err := validate.ComposeModules(mode, embedded, mods)
	if err != nil {
		return nil, err
	}
	return validate.CompilePolicy(ctx, composed)
}

// New returns a Reloader that swaps the policies of ev when the files in
// dir change, composing them for mode; loaded is the digest Load returned
// for the policies ev has.
func New(dir, mode, loaded string, ev *validate.Evaluator, poll time.Duration, log logr.Logger) *Reloader {
	return &Reloader{dir: dir, mode: mode, poll: poll, ev: ev, log: log.WithValues("policyDir", dir, "policyMode", mode), seen: loaded}
}

// Start watches the directory until ctx is done.
func (r *Reloader) Start(ctx context.Context) error {
	return filewatch.Run(ctx, r.log, r.dir, r.poll, func() { r.Reload(ctx) })
}

// NeedLeaderElection is false: every replica serves policies.
func (r *Reloader) NeedLeaderElection() bool { return false }

// Reload reads the directory and, if its policies changed, compiles them
// and swaps them in (or keeps the old ones when they do not compile).
func (r *Reloader) Reload(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mods, err := validate.ReadDirModules(os.DirFS(r.dir), r.dir, false)
	if err != nil {
		if r.seen != "unreadable" {
			r.seen = "unreadable"
			metrics.PolicyReloads.WithLabelValues(metrics.ReloadFailure).Inc()
			r.log.Error(err, "policy reload failed; the last good policies keep serving")
		}
		return
	}
	d := digest(mods)
	if d == r.seen {
		return
	}
	r.seen = d
	pol, err := compile(ctx, r.mode, mods)
	if err != nil {
		metrics.PolicyReloads.WithLabelValues(metrics.ReloadFailure).Inc()
		r.log.Error(err, "policy reload failed; the last good policies keep serving")
		return
	}
	r.ev.SetPolicy(pol)
	metrics.PolicyReloads.WithLabelValues(metrics.ReloadSuccess).Inc()
	r.log.Info("policies reloaded", "files", pol.Files())
}

// digest identifies a set of modules by their paths and content.
func digest(mods map[string]string) string {
	paths := make([]string, 0, len(mods))
	for p := range mods {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%d:%s%d:%s", len(p), p, len(mods[p]), mods[p])
	}
	return hex.EncodeToString(h.Sum(nil))
}
