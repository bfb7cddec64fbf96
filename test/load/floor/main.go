// Command floor is the load harness's measure of the stack's own memory: a
// process that links and initialises what ksguard serve is built on —
// controller-runtime's manager, client and webhook server, and OPA's rego —
// and does nothing else. Its idle RSS, read beside ksguard's, is the part of
// ksguard's memory that comes with the chosen libraries before any of
// ksguard's own work.
//
// It prints "ready" once initialised and waits for SIGTERM or SIGINT.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/open-policy-agent/opa/v1/rego"
	_ "sigs.k8s.io/controller-runtime/pkg/client"
	_ "sigs.k8s.io/controller-runtime/pkg/manager"
	_ "sigs.k8s.io/controller-runtime/pkg/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
}
