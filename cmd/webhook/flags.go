package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ksguard/ksguard/internal/doctor"
	"github.com/ksguard/ksguard/internal/filewatch"
	"github.com/ksguard/ksguard/internal/fleet"
	"github.com/ksguard/ksguard/internal/hostsecret"
	"github.com/ksguard/ksguard/internal/policyreload"
	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/internal/validate"
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
	policyMode       string
	mode             string
	onMissingHost    string
	guarded          string
	breakGlassAnno   string
	breakGlassGroups stringList
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	def := validate.DefaultOptions()
	fs.StringVar(&p.policyDir, "policy-dir", "", "directory of Rego policies (*.rego) added to the embedded ones (see --policy-mode)")
	fs.StringVar(&p.policyMode, "policy-mode", validate.PolicyModeAdditive, "additive: --policy-dir's files join the embedded package ksguard.admission (new violation, advice and edits rules and helpers; built-in rules cannot be redefined); replace: they replace the embedded policies")
	fs.StringVar(&p.mode, "mode", def.Mode, "enforce: deny drift; warn: report denials as warnings")
	fs.StringVar(&p.onMissingHost, "on-missing-host", def.OnMissingHost, "deny or warn: what writes get while the host's jwtSecret is unavailable")
	fs.StringVar(&p.guarded, "guarded", def.GuardedNamespace+"/"+def.GuardedName, "NAMESPACE/NAME of the guarded ConfigMap")
	fs.StringVar(&p.breakGlassAnno, "break-glass-annotation", def.BreakGlassAnnotation, "annotation that turns denials into warnings for --break-glass-group members")
	fs.Var(&p.breakGlassGroups, "break-glass-group", "group allowed to use the break-glass annotation (repeatable; default system:masters)")
}

// options checks the flags and returns the decision options.
func (p *policyFlags) options() (validate.Options, error) {
	o := validate.DefaultOptions()
	if !slices.Contains(validate.PolicyModes, p.policyMode) {
		return o, fmt.Errorf("--policy-mode must be %s, not %q", strings.Join(validate.PolicyModes, " or "), p.policyMode)
	}
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
	guarded, err := parseKey("guarded", p.guarded)
	if err != nil {
		return o, err
	}
	o.GuardedNamespace, o.GuardedName = guarded.Namespace, guarded.Name
	o.BreakGlassAnnotation = p.breakGlassAnno
	if len(p.breakGlassGroups) > 0 {
		o.BreakGlassGroups = p.breakGlassGroups
	}
	return o, nil
}

// loadPolicy compiles the policies from --policy-dir, or the embedded ones.
// For a directory it also returns the digest of what it compiled, for
// policyreload.New.
func (p *policyFlags) loadPolicy(ctx context.Context) (*validate.Policy, string, error) {
	if p.policyDir == "" {
		mods, err := validate.LoadSources(p.policyMode, false)
		if err != nil {
			return nil, "", err
		}
		pol, err := validate.CompilePolicy(ctx, mods)
		return pol, "", err
	}
	if _, err := os.Stat(p.policyDir); err != nil {
		return nil, "", fmt.Errorf("--policy-dir: %w", err)
	}
	return policyreload.Load(ctx, p.policyDir, p.policyMode)
}

// readHostSecretFile reads the host's jwtSecret from a file (see
// hostsecret.ReadFile); no path means no host secret.
func readHostSecretFile(path string) (validate.HostSecret, error) {
	if path == "" {
		return validate.HostSecret{Problem: "no host secret was given"}, nil
	}
	return hostsecret.ReadFile(path)
}

// parseKey reads the NAMESPACE/NAME value of --flag.
func parseKey(flag, s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("--%s must be NAMESPACE/NAME, not %q", flag, s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// serveFlags are the flags of `ksguard serve`.
type serveFlags struct {
	policy           policyFlags
	kubeconfig       string
	certDir          string
	webhookAddr      string
	metricsAddr      string
	probeAddr        string
	pprofAddr        string
	hostSecret       string
	hostSecretFile   string
	shutdownTimeout  time.Duration
	reloadPoll       time.Duration
	zap              crzap.Options
	restartTarget    string
	restartInterval  time.Duration
	configHashKey    string
	remediate        bool
	leaderElect      bool
	leaderElectionID string
	leaderElectionNS string
	tlsSecret        string
	tlsDNSNames      stringList
	tlsWebhookConfig string
	tlsCAValidity    time.Duration
	tlsValidity      time.Duration
	tlsSecretKey     types.NamespacedName // parsed from tlsSecret
	opts             validate.Options     // parsed from policy
	target           restart.Target       // parsed from restartTarget
	hostSecretKey    types.NamespacedName // parsed from hostSecret
	webhookHost      string               // parsed from webhookAddr
	webhookPort      int                  // parsed from webhookAddr
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	f.policy.register(fs)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the member cluster (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&f.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory holding the serving certificate tls.crt and key tls.key; reloaded when they change")
	fs.StringVar(&f.webhookAddr, "webhook-bind-address", ":9443", "HOST:PORT the webhooks (/mutate, /validate) are served on, over TLS")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "HOST:PORT of the Prometheus /metrics endpoint (0 turns it off)")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "HOST:PORT of /healthz and /readyz (0 turns them off)")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "", "HOST:PORT of Go's profiler, /debug/pprof (heap, CPU, goroutines), over plain HTTP without authentication (default: off). For diagnosis only: bind it to localhost (127.0.0.1:6060, reached with kubectl port-forward), never to an address others can reach, as profiles show the process's memory")
	fs.StringVar(&f.hostSecret, "host-secret", "", "NAMESPACE/NAME of a Secret on this cluster whose key jwtSecret holds the host cluster's jwtSecret; watched")
	fs.StringVar(&f.hostSecretFile, "host-secret-file", "", "file holding the host cluster's jwtSecret (one trailing newline ignored); watched")
	fs.DurationVar(&f.shutdownTimeout, "graceful-shutdown-timeout", 30*time.Second, "on SIGTERM, how long in-flight reviews may take to finish")
	fs.DurationVar(&f.reloadPoll, "file-poll-interval", filewatch.DefaultPollInterval, "how often --policy-dir and --host-secret-file are read again besides on file events")
	fs.StringVar(&f.restartTarget, "restart-target", restart.TargetAuto, "Deployment to roll when the stored config changes: auto (ks-apiserver, else ks-agent, in the guarded namespace), NAMESPACE/NAME, or none")
	fs.DurationVar(&f.restartInterval, "restart-min-interval", 10*time.Second, "how long the stored config must stay unchanged before the target is rolled: a burst of writes rolls once")
	fs.StringVar(&f.configHashKey, "config-hash-key-file", "", "file holding the key (at least 16 random bytes; a mounted Secret's key) of the config hash the restart signal records on the Deployment and ksguard_config_info exports; required unless --restart-target=none")
	fs.BoolVar(&f.remediate, "remediate", false, "write the policy's edits (accessTokenMaxAge 0s) back to a stored config that needs them, through the API server")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "elect one replica to run the restart controller and the audit (the webhooks run on every replica)")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "ksguard.io", "name of the Lease used for leader election")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", "", "namespace of that Lease (default: ksguard's own namespace when in a cluster)")
	fs.StringVar(&f.tlsSecret, "tls-secret", "", "NAMESPACE/NAME of a Secret in which ksguard keeps its own CA and serving certificate (created, renewed when a third of their validity is left, written to --cert-dir); for clusters without cert-manager")
	fs.Var(&f.tlsDNSNames, "tls-dns-name", "DNS name (or IP address) of the serving certificate --tls-secret keeps (repeatable; required with --tls-secret)")
	fs.StringVar(&f.tlsWebhookConfig, "tls-webhook-configuration", "", "name of the mutating and validating webhook configurations whose caBundle --tls-secret keeps")
	fs.DurationVar(&f.tlsCAValidity, "tls-ca-validity", 10*365*24*time.Hour, "validity of the CA --tls-secret creates")
	fs.DurationVar(&f.tlsValidity, "tls-validity", 365*24*time.Hour, "validity of the serving certificate --tls-secret creates")
	f.zap.BindFlags(fs)
}

// check validates the flags that are not checked by their parsers.
func (f *serveFlags) check() error {
	if (f.hostSecret == "") == (f.hostSecretFile == "") {
		return errors.New("give exactly one of --host-secret=NAMESPACE/NAME and --host-secret-file=FILE: ksguard needs the host cluster's jwtSecret")
	}
	var err error
	if f.opts, err = f.policy.options(); err != nil {
		return err
	}
	if f.hostSecret != "" {
		if f.hostSecretKey, err = parseKey("host-secret", f.hostSecret); err != nil {
			return err
		}
	}
	host, port, err := net.SplitHostPort(f.webhookAddr)
	if err != nil {
		return fmt.Errorf("--webhook-bind-address must be HOST:PORT: %w", err)
	}
	if f.webhookPort, err = strconv.Atoi(port); err != nil || f.webhookPort <= 0 || f.webhookPort > 65535 {
		return fmt.Errorf("--webhook-bind-address: port %q is not a number from 1 to 65535", port)
	}
	f.webhookHost = host
	switch f.restartTarget {
	case restart.TargetAuto:
		f.target = restart.Target{Mode: restart.TargetAuto, Key: types.NamespacedName{Namespace: f.opts.GuardedNamespace}}
	case restart.TargetNone:
		f.target = restart.Target{Mode: restart.TargetNone}
	default:
		key, err := parseKey("restart-target", f.restartTarget)
		if err != nil {
			return fmt.Errorf("%w (or auto, or none)", err)
		}
		f.target = restart.Target{Key: key}
	}
	if f.target.Mode != restart.TargetNone && f.configHashKey == "" {
		return fmt.Errorf("--restart-target=%s needs --config-hash-key-file: the config holds the jwtSecret, so the hash recorded on the Deployment must be keyed, or whoever can read Deployments could test guesses of the secret against it. "+
			"Give a file holding at least %d random bytes that every replica shares (the chart mounts one from a Secret it creates; locally: head -c 32 /dev/urandom > key), or turn the restart signal off with --restart-target=none", f.restartTarget, restart.MinKeyBytes)
	}
	if f.tlsSecret != "" {
		if f.tlsSecretKey, err = parseKey("tls-secret", f.tlsSecret); err != nil {
			return err
		}
		if len(f.tlsDNSNames) == 0 {
			return errors.New("--tls-secret needs at least one --tls-dns-name: the Service's DNS name, e.g. ksguard.ksguard-system.svc")
		}
		if f.tlsValidity <= 0 || f.tlsCAValidity <= f.tlsValidity {
			return fmt.Errorf("--tls-validity (%v) must be positive and shorter than --tls-ca-validity (%v)", f.tlsValidity, f.tlsCAValidity)
		}
	} else if len(f.tlsDNSNames) > 0 || f.tlsWebhookConfig != "" {
		return errors.New("--tls-dns-name and --tls-webhook-configuration are for --tls-secret, which is not set")
	}
	if f.shutdownTimeout < 0 || f.reloadPoll <= 0 || f.restartInterval < 0 {
		return errors.New("--graceful-shutdown-timeout and --restart-min-interval must not be negative, and --file-poll-interval must be positive")
	}
	return nil
}

// doctorFlags are ksguard doctor's flags, named as kubectl names them.
type doctorFlags struct {
	kubeconfig     string
	hostContext    string
	memberContexts stringList
	allMembers     bool
	hostSecretFile string
	output         string
	since          time.Duration
	timeout        time.Duration
	noProbe        bool
	fix            bool
	yes            bool
}

func (f *doctorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.hostContext, "host-context", "", "the host cluster's context (default: the current context)")
	fs.Var(&f.memberContexts, "member-context", "a member cluster's context (repeatable; with --host-secret-file, default: the current context)")
	fs.BoolVar(&f.allMembers, "all-members", false, "examine every member the host knows (its Cluster objects, reached through their kubeconfigs)")
	fs.StringVar(&f.hostSecretFile, "host-secret-file", "", "compare with the jwtSecret in this file instead of reading the host cluster (when only members can be reached)")
	fs.StringVar(&f.output, "o", doctor.FormatTable, "output format: "+strings.Join(doctor.Formats, ", "))
	fs.DurationVar(&f.since, "since", time.Hour, "how far back ks-apiserver's logs are read")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
	fs.BoolVar(&f.noProbe, "no-probe", false, "skip the live probe of ksguard (two server-side dry-run updates of kubesphere-config)")
	fs.BoolVar(&f.fix, "fix", false, "repair what failed, through each member's API server (ksguard judges the writes): show the changes, ask, make them, check again")
	fs.BoolVar(&f.yes, "yes", false, "with --fix: make the changes without asking")
}

func (f *doctorFlags) check() error {
	switch {
	case !slices.Contains(doctor.Formats, f.output):
		return fmt.Errorf("-o %s: want one of %s", f.output, strings.Join(doctor.Formats, ", "))
	case len(f.memberContexts) == 0 && !f.allMembers && f.hostSecretFile == "":
		return errors.New("name the members: --member-context NAME (repeatable) or --all-members (or give --host-secret-file to examine the current context as a member)")
	case f.allMembers && f.hostSecretFile != "":
		return errors.New("--all-members discovers the members on the host cluster, so it cannot be used with --host-secret-file")
	case f.yes && !f.fix:
		return errors.New("--yes only goes with --fix")
	case f.since <= 0 || f.timeout <= 0:
		return errors.New("--since and --timeout must be positive")
	}
	return nil
}

// testFlags are the flags of `ksguard test`, named as opa test names them.
type testFlags struct {
	verbose    bool
	run        string
	coverage   bool
	threshold  float64
	output     string
	policyMode string
}

func (f *testFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.verbose, "v", false, "print every test, with the trace and print() output of failures")
	fs.StringVar(&f.run, "run", "", "run only the tests whose full name (data.PACKAGE.test_NAME) matches this regular expression")
	fs.BoolVar(&f.coverage, "coverage", false, "report which policy lines the tests evaluate")
	fs.Float64Var(&f.threshold, "threshold", 0, "with --coverage: fail (exit 2) when coverage is below this percentage")
	fs.StringVar(&f.output, "o", "pretty", "output format: pretty or json")
	fs.StringVar(&f.policyMode, "policy-mode", validate.PolicyModeAdditive, "how DIR's files combine with the embedded policies: "+strings.Join(validate.PolicyModes, " or "))
}

func (f *testFlags) check() error {
	switch {
	case f.output != "pretty" && f.output != "json":
		return fmt.Errorf("-o %s: want pretty or json", f.output)
	case f.threshold < 0 || f.threshold > 100:
		return fmt.Errorf("--threshold %v: want a percentage from 0 to 100", f.threshold)
	case f.threshold > 0 && !f.coverage:
		return errors.New("--threshold needs --coverage")
	case !slices.Contains(validate.PolicyModes, f.policyMode):
		return fmt.Errorf("--policy-mode %s: want %s", f.policyMode, strings.Join(validate.PolicyModes, " or "))
	}
	return nil
}

// fleetFlags are the flags of `ksguard fleet` and `ksguard fleet status`
// (status takes the ones marked shared).
type fleetFlags struct {
	// shared
	kubeconfig    string
	hostConfig    string
	memberSecret  string
	concurrency   int
	memberTimeout time.Duration
	output        string // status only

	// the controller
	syncMemberConfig bool
	resync           time.Duration
	backoffBase      time.Duration
	backoffMax       time.Duration
	metricsAddr      string
	probeAddr        string
	leaderElect      bool
	leaderElectionID string
	leaderElectionNS string
	zap              crzap.Options

	hostConfigKey   types.NamespacedName // parsed from hostConfig
	memberSecretKey types.NamespacedName // parsed from memberSecret
}

// registerShared registers the flags `fleet` and `fleet status` share.
func (f *fleetFlags) registerShared(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)")
	def := validate.DefaultOptions()
	fs.StringVar(&f.hostConfig, "host-config", def.GuardedNamespace+"/"+def.GuardedName, "NAMESPACE/NAME of the host's kubesphere-config, whose jwtSecret members get")
	fs.StringVar(&f.memberSecret, "member-secret", fleet.DefaultSecret.String(), "NAMESPACE/NAME of the ksguard host Secret on every member (key jwtSecret); a Cluster's annotation ksguard.io/host-secret: NAMESPACE/NAME overrides it")
	fs.IntVar(&f.concurrency, "concurrency", 10, "how many members are synced at once")
	fs.DurationVar(&f.memberTimeout, "member-timeout", 10*time.Second, "how long each request to a member may take (dial included)")
}

// register registers the flags of `ksguard fleet`.
func (f *fleetFlags) register(fs *flag.FlagSet) {
	f.registerShared(fs)
	fs.BoolVar(&f.syncMemberConfig, "sync-member-config", false, "also write the host's jwtSecret into each member's kubesphere-config (through its API server, so its ksguard judges the write and rolls ks-apiserver) and, on v3, ks-installer's ClusterConfiguration and Secret kubesphere-secret")
	fs.DurationVar(&f.resync, "resync-period", 5*time.Minute, "how often a member in sync is checked again (besides on changes of the host's config and of its Cluster object)")
	fs.DurationVar(&f.backoffBase, "member-backoff", time.Second, "first wait before a member that is not in sync is tried again; doubled after each failure in a row")
	fs.DurationVar(&f.backoffMax, "member-backoff-max", 5*time.Minute, "longest wait before a member that is not in sync is tried again")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "HOST:PORT of the Prometheus /metrics endpoint (0 turns it off)")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "HOST:PORT of /healthz and /readyz (0 turns them off)")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "elect one replica to sync the members")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "ksguard-fleet.ksguard.io", "name of the Lease used for leader election")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", "", "namespace of that Lease (default: ksguard's own namespace when in a cluster)")
	f.zap.BindFlags(fs)
}

// registerStatus registers the flags of `ksguard fleet status`.
func (f *fleetFlags) registerStatus(fs *flag.FlagSet) {
	f.registerShared(fs)
	fs.StringVar(&f.output, "o", "table", "output format: table or json")
}

// check validates the flags.
func (f *fleetFlags) check() error {
	var err error
	if f.hostConfigKey, err = parseKey("host-config", f.hostConfig); err != nil {
		return err
	}
	if f.memberSecretKey, err = parseKey("member-secret", f.memberSecret); err != nil {
		return err
	}
	switch {
	case f.concurrency < 1:
		return fmt.Errorf("--concurrency %d: want at least 1", f.concurrency)
	case f.memberTimeout <= 0:
		return errors.New("--member-timeout must be positive")
	case f.output != "" && f.output != "table" && f.output != "json":
		return fmt.Errorf("-o %s: want table or json", f.output)
	case f.output == "" && (f.resync <= 0 || f.backoffBase <= 0 || f.backoffMax < f.backoffBase):
		return errors.New("--resync-period and --member-backoff must be positive, and --member-backoff-max at least --member-backoff")
	}
	return nil
}

// fmtFlags are the flags of `ksguard fmt`.
type fmtFlags struct {
	check bool
	write bool
}

func (f *fmtFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.check, "check", false, "exit 1 when a file is not formatted (for CI)")
	fs.BoolVar(&f.write, "w", false, "rewrite the files that are not formatted")
}

// verifyFlags are the flags of `ksguard verify`.
type verifyFlags struct {
	run    string
	output string
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.run, "run", "", "judge only the cases whose SUITE/CASE name matches this regular expression")
	fs.StringVar(&f.output, "o", "pretty", "output format: pretty, json or junit")
}

// check checks the flags and the number of suites; it returns --run compiled.
func (f *verifyFlags) check(suites int) (*regexp.Regexp, error) {
	if f.output != "pretty" && f.output != "json" && f.output != "junit" {
		return nil, fmt.Errorf("-o %s: want pretty, json or junit", f.output)
	}
	if suites == 0 {
		return nil, errors.New("name at least one SUITE.yaml")
	}
	if f.run == "" {
		return nil, nil
	}
	re, err := regexp.Compile(f.run)
	if err != nil {
		return nil, fmt.Errorf("--run: %w", err)
	}
	return re, nil
}
