package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ksguard/ksguard/internal/doctor"
)

const doctorUsage = `Usage:
  ksguard doctor --member-context NAME [--member-context NAME ...] [--host-context NAME] [flags]
  ksguard doctor --all-members [--host-context NAME] [flags]
  ksguard doctor --host-secret-file FILE [--member-context NAME ...] [flags]
  ksguard doctor ... --fix [--yes]

Answers "why are users sent back to the login page?" for a KubeSphere host
cluster and its members: the checks of the KubeSphere FAQ "Restore the Host
Cluster Access to A Member Cluster" (jwtSecret, accessTokenMaxAge, overrides
on ks-apiserver, sources that revert a fix, restart pending, clock skew,
ksguard itself, log lines), each with a hint. Secrets are compared here and
never printed. Only the table, JSON or short output goes to stdout.

With --fix, doctor shows the changes that repair what failed (secrets shown
as "(the host's jwtSecret)"), asks unless --yes, makes them through each
member's API server, and checks again; the output is the second run's.

Exit status: 0 every check passed (warnings allowed), 1 a check failed,
2 doctor could not run.

Flags:
`

func runDoctor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f doctorFlags
	fs := flag.NewFlagSet("ksguard doctor", flag.ContinueOnError)
	f.register(fs)
	if code, ok := parseArgs(fs, doctorUsage, "", args, stderr); !ok {
		return code
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "ksguard doctor: %v\n", err)
		return exitError
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	report, err := f.run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard doctor: %v\n", err)
		return exitError
	}
	if f.fix && f.repair(ctx, report, stdin, stderr) {
		if report, err = f.run(ctx); err != nil { // check again, from fresh readings
			fmt.Fprintf(stderr, "ksguard doctor: %v\n", err)
			return exitError
		}
	}
	var out bytes.Buffer
	if err := report.Write(&out, f.output); err != nil {
		fmt.Fprintf(stderr, "ksguard doctor: %v\n", err)
		return exitError
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return exitError
	}
	if report.Failed() {
		return exitDenied
	}
	return exitAllowed
}

// repair shows the changes that fix the report's failures, asks (unless
// --yes), and makes them. It reports whether anything was written.
func (f *doctorFlags) repair(ctx context.Context, report *doctor.Report, stdin io.Reader, stderr io.Writer) bool {
	changes, manual := report.Plan()
	for _, m := range manual {
		fmt.Fprintf(stderr, "ksguard doctor --fix cannot change: %s\n", m)
	}
	if len(changes) == 0 {
		fmt.Fprintln(stderr, "ksguard doctor --fix: nothing to change")
		return false
	}
	fmt.Fprintln(stderr, "ksguard doctor --fix will make these changes:")
	for _, c := range changes {
		fmt.Fprintf(stderr, "  %s: %s: %s\n", c.Cluster, c.Object, c.What)
	}
	if !f.yes {
		fmt.Fprint(stderr, "Make them? [y/N] ")
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if answer := strings.ToLower(strings.TrimSpace(line)); answer != "y" && answer != "yes" {
			fmt.Fprintln(stderr, "ksguard doctor --fix: nothing changed")
			return false
		}
	}
	for _, c := range changes {
		if err := c.Apply(ctx); err != nil {
			fmt.Fprintf(stderr, "ksguard doctor --fix: %v\n", err)
			continue
		}
		fmt.Fprintf(stderr, "ksguard doctor --fix: done: %s: %s\n", c.Cluster, c.Object)
	}
	return true
}

// run reaches the clusters the flags name and examines them.
func (f *doctorFlags) run(ctx context.Context) (*doctor.Report, error) {
	host := doctor.Target{Name: f.hostContext}
	var opts doctor.Options
	opts.Since, opts.NoProbe = f.since, f.noProbe
	if f.hostSecretFile != "" {
		hs, err := readHostSecretFile(f.hostSecretFile)
		if err != nil {
			return nil, err
		}
		if hs.Value == nil {
			return nil, fmt.Errorf("--host-secret-file %s: %s", f.hostSecretFile, hs.Problem)
		}
		opts.HostSecret, host.Name = hs.Value, ""
	} else {
		cfg, name, err := f.restConfig(f.hostContext)
		if err != nil {
			return nil, fmt.Errorf("the host cluster: %w", err)
		}
		host.Name, host.Config = name, cfg
	}
	var members []doctor.Target
	if f.allMembers {
		found, err := doctor.DiscoverMembers(ctx, host.Config)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("the host %s knows no member cluster (no Cluster object without the label %s)", host.Name, doctor.HostClusterLabel)
		}
		members = found
	}
	names := f.memberContexts
	if len(names) == 0 && !f.allMembers {
		names = []string{""} // --host-secret-file alone: the current context is the member
	}
	for _, name := range names {
		cfg, resolved, err := f.restConfig(name)
		members = append(members, doctor.Target{Name: resolved, Config: cfg, Err: err})
	}
	return doctor.Run(ctx, host, members, opts), nil
}

// restConfig loads a context of the kubeconfig ("" for the current one)
// and returns its name.
func (f *doctorFlags) restConfig(context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	if context == "" {
		context = raw.CurrentContext
	}
	if _, ok := raw.Contexts[context]; !ok {
		return nil, context, fmt.Errorf("context %q is not in the kubeconfig", context)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, context, fmt.Errorf("context %s: %w", context, err)
	}
	return cfg, context, nil
}
