// Command load is ksguard's side-by-side load harness (`make bench-load`):
// through one real kube-apiserver and etcd (envtest, test/harness) it sends
// the same writes of the guarded ConfigMap (a document with
// accessTokenMaxAge 2h, which a guard edits to 0s, and a harmless change)
// with no webhook, with a no-op webhook (test/load/noop, built by the run), with
// `ksguard serve` (the real binary) and, when an opa binary is found, with
// `opa run --server` and an equivalent Rego policy. The contenders take
// turns in interleaved rounds behind identical webhook configurations (the
// chart's; only the URL differs), so noise on a shared machine spreads
// evenly. A direct mode then posts AdmissionReviews over TLS straight to
// each server at a fixed concurrency, for throughput. It prints one table
// per mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	cfg := defaultConfig()
	cfg.register(flag.CommandLine)
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}
