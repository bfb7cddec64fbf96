package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// policyFlags are the flags that shape decisions, shared by every
// subcommand that decides.
type policyFlags struct {
	policyDir        string
	mode             string
	onMissingHost    string
	guarded          string
	breakGlassAnno   string
	breakGlassGroups stringList
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	def := validate.DefaultOptions()
	fs.StringVar(&p.policyDir, "policy-dir", "", "directory of Rego policies (*.rego) that replace the embedded ones")
	fs.StringVar(&p.mode, "mode", def.Mode, "enforce: deny drift; warn: report denials as warnings")
	fs.StringVar(&p.onMissingHost, "on-missing-host", def.OnMissingHost, "deny or warn: what writes get while the host's jwtSecret is unavailable")
	fs.StringVar(&p.guarded, "guarded", def.GuardedNamespace+"/"+def.GuardedName, "NAMESPACE/NAME of the guarded ConfigMap")
	fs.StringVar(&p.breakGlassAnno, "break-glass-annotation", def.BreakGlassAnnotation, "annotation that turns denials into warnings for --break-glass-group members")
	fs.Var(&p.breakGlassGroups, "break-glass-group", "group allowed to use the break-glass annotation (repeatable; default system:masters)")
}

// options checks the flags and returns the decision options.
func (p *policyFlags) options() (validate.Options, error) {
	o := validate.DefaultOptions()
	switch p.mode {
	case validate.ModeEnforce, validate.ModeWarn:
		o.Mode = p.mode
	default:
		return o, fmt.Errorf("--mode must be enforce or warn, not %q", p.mode)
	}
	switch p.onMissingHost {
	case "deny", "warn":
		o.OnMissingHost = p.onMissingHost
	default:
		return o, fmt.Errorf("--on-missing-host must be deny or warn, not %q", p.onMissingHost)
	}
	ns, name, ok := strings.Cut(p.guarded, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return o, fmt.Errorf("--guarded must be NAMESPACE/NAME, not %q", p.guarded)
	}
	o.GuardedNamespace, o.GuardedName = ns, name
	o.BreakGlassAnnotation = p.breakGlassAnno
	if len(p.breakGlassGroups) > 0 {
		o.BreakGlassGroups = p.breakGlassGroups
	}
	return o, nil
}

// loadPolicy compiles the policies from --policy-dir, or the embedded ones.
func (p *policyFlags) loadPolicy(ctx context.Context) (*validate.Policy, error) {
	if p.policyDir == "" {
		return validate.LoadPolicy(ctx, policies.FS)
	}
	if _, err := os.Stat(p.policyDir); err != nil {
		return nil, fmt.Errorf("--policy-dir: %w", err)
	}
	pol, err := validate.LoadPolicy(ctx, os.DirFS(p.policyDir))
	if err != nil {
		return nil, fmt.Errorf("loading policies from %s: %w", p.policyDir, err)
	}
	return pol, nil
}

// readHostSecretFile reads the host's jwtSecret from a file: the file holds
// the secret's bytes; one trailing newline is ignored.
func readHostSecretFile(path string) (validate.HostSecret, error) {
	if path == "" {
		return validate.HostSecret{Problem: "no host secret was given"}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return validate.HostSecret{}, fmt.Errorf("reading the host secret: %w", err)
	}
	b = trimNewline(b)
	if len(b) == 0 {
		return validate.HostSecret{Source: "file " + path, Problem: "the host secret file " + path + " is empty"}, nil
	}
	return validate.HostSecret{Value: b, Source: "file " + path}, nil
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
