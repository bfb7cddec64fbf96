// Command ksguard guards the kubesphere-config ConfigMap of a KubeSphere
// member cluster. Subcommands:
//
//	ksguard serve   serve the mutating and validating webhooks
//	ksguard eval    judge a ConfigMap (or an AdmissionReview) offline
//	ksguard certs   write a CA and a serving certificate to a directory
//	ksguard doctor  check a host cluster and its members (the FAQ's checks)
//	ksguard fleet   on the host: keep every member's ksguard on the host's jwtSecret
//	ksguard test    run the Rego tests of the policies (and of a policy directory)
//	ksguard fmt     format Rego policies with OPA's formatter
//	ksguard verify  check declarative suites of writes and expected decisions
//	ksguard version print the version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is stamped at build time (-ldflags -X main.version=...).
var version = "dev"

// Exit statuses, shared by every subcommand.
const (
	exitAllowed = 0 // the write is allowed (or the command succeeded)
	exitDenied  = 1 // the write is denied
	exitError   = 2 // the command itself could not run
)

const usage = `ksguard guards kubesphere-config on KubeSphere member clusters.

Usage:
  ksguard serve --host-secret NAMESPACE/NAME [flags]                 serve the webhooks (TLS)
  ksguard eval -f CONFIGMAP.yaml --host-secret-file FILE [flags]   judge a ConfigMap offline
  ksguard eval --review REVIEW.json --host-secret-file FILE        answer an AdmissionReview
  ksguard certs --dir DIR --host NAME [--host NAME ...]            write a CA and a serving certificate
  ksguard doctor --member-context NAME | --all-members [flags]     why are users sent back to the login page?
  ksguard fleet [flags] | ksguard fleet status [flags]             on the host: keep every member's ksguard on its jwtSecret
  ksguard test [-v] [--run REGEX] [--coverage] [DIR...]            run the policies' Rego tests (with DIR's)
  ksguard fmt [--check|-w] [DIR...]                                format Rego policies (opa fmt)
  ksguard verify [--run REGEX] [-o FORMAT] SUITE.yaml...           check suites of writes and expected decisions
  ksguard version                                                  print the version

Run 'ksguard serve -h', 'ksguard eval -h', 'ksguard certs -h', 'ksguard doctor -h', 'ksguard test -h', 'ksguard fmt -h' or 'ksguard verify -h' for the flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the subcommand in args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "eval":
		return runEval(args[1:], stdin, stdout, stderr)
	case "certs":
		return runCerts(args[1:], stdout, stderr)
	case "doctor":
		return runDoctor(args[1:], stdin, stdout, stderr)
	case "fleet":
		return runFleet(args[1:], stdout, stderr)
	case "test":
		return runTest(args[1:], stdout, stderr)
	case "fmt":
		return runFmt(args[1:], stdout, stderr)
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return exitAllowed
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitAllowed
	}
	fmt.Fprintf(stderr, "ksguard: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

// parseArgs parses a subcommand's args into fs, whose -h prints usage and
// the flags to stderr. ok is false when the subcommand must stop at once
// with status code: after -h, a bad flag, or a stray argument (hint says
// what to do instead).
func parseArgs(fs *flag.FlagSet, usage, hint string, args []string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitAllowed, false
		}
		return exitError, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q%s\n", fs.Name(), fs.Arg(0), hint)
		return exitError, false
	}
	return exitAllowed, true
}
