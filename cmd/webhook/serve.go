package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/certrotation"
	"github.com/ksguard/ksguard/internal/hostsecret"
	"github.com/ksguard/ksguard/internal/memlimit"
	"github.com/ksguard/ksguard/internal/policyreload"
	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/webhook"
)

const serveUsage = `Usage: ksguard serve --host-secret=NAMESPACE/NAME|--host-secret-file=FILE [flags]

Serves the mutating (/mutate) and validating (/validate) webhooks for the
guarded ConfigMap over TLS, with /metrics, /healthz and /readyz, and runs
the restart signal: when the stored config changes, the ks-apiserver (or
ks-agent) Deployment is rolled, and the stored config is audited.

Flags:
`

// runServe runs the webhook server until SIGTERM or SIGINT.
func runServe(args []string, stderr io.Writer) int {
	var f serveFlags
	fs := flag.NewFlagSet("ksguard serve", flag.ContinueOnError)
	f.register(fs)
	if code, ok := parseArgs(fs, serveUsage, "", args, stderr); !ok {
		return code
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "ksguard serve: %v\n", err)
		return exitError
	}
	f.zap.DestWriter = stderr
	unsent := &unsentEvents{}
	log, decisions := newLoggers(&f.zap, unsent)
	ctrl.SetLogger(log)
	klog.SetLogger(log.WithName("client-go"))
	mem, err := memlimit.Apply(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard serve: %v\n", err)
		return exitError
	}
	log.Info("Go soft memory limit", "memoryLimit", mem.String(), "memoryLimitBytes", mem.Limit, "memoryLimitSource", mem.Source)

	ctx := ctrl.SetupSignalHandler()
	go func() {
		<-ctx.Done()
		unsent.stopping.Store(true)
	}()
	err = serve(ctx, &f, log, decisions)
	if n := unsent.writes.Load(); n > 0 {
		log.Info("some Events could not be sent before ksguard stopped (the shutdown cancelled their writes)", "failedWrites", n)
	}
	if err != nil {
		log.Error(err, "ksguard serve stopped")
		return exitError
	}
	return exitAllowed
}

// newLoggers builds ksguard's logger from the --zap-* flags, and beside it
// the decision logger: the same output, level and encoding, but never
// sampled. In production mode controller-runtime's zap drops repeats of a
// message beyond 100 a second (and keeps one in 100); other lines may be
// sampled, but an admission decision is an audit record, so every one is
// written. The main logger also leaves out, once ksguard is stopping,
// client-go's errors about Events it could not write, counting them in
// unsent instead (see unsentEvents).
func newLoggers(o *crzap.Options, unsent *unsentEvents) (log, decisions logr.Logger) {
	var unsampled zapcore.Core
	raw := crzap.NewRaw(crzap.UseFlagOptions(o), crzap.RawZapOpts(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		unsampled = c // the caller's options come before crzap wraps the core in its sampler
		return c
	})))
	decisionRaw := raw.WithOptions(zap.WrapCore(func(zapcore.Core) zapcore.Core { return unsampled }))
	raw = raw.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return unsentEventsCore{Core: c, unsent: unsent} }))
	return zapr.NewLogger(raw), zapr.NewLogger(decisionRaw)
}

// unsentEventsPrefix starts client-go's messages for an Event it could not
// write (tools/events and tools/record: "Unable to write event (may retry
// after sleeping)", "… (broadcaster is shut down)", "… (retry limit
// exceeded!)").
const unsentEventsPrefix = "Unable to write event"

// unsentEvents counts the Event writes that failed while ksguard stopped.
// controller-runtime stops its event broadcasters last and cancels the
// writes still in flight; client-go then logs each at error level, with a
// stack trace, although nothing is wrong. Those lines are left out and
// counted, and ksguard ends with one summary line.
type unsentEvents struct {
	stopping atomic.Bool  // set when the shutdown starts
	writes   atomic.Int64 // failed writes left out of the log
}

// unsentEventsCore is a zap core that leaves out client-go's lines about
// Events it could not write once ksguard is stopping, and counts them.
// Before that, they are logged as they are.
type unsentEventsCore struct {
	zapcore.Core
	unsent *unsentEvents
}

// With adds fields to the core, keeping the filter.
func (c unsentEventsCore) With(fields []zapcore.Field) zapcore.Core {
	return unsentEventsCore{Core: c.Core.With(fields), unsent: c.unsent}
}

// Check leaves out and counts a failed Event write during the shutdown.
func (c unsentEventsCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level >= zapcore.ErrorLevel && strings.HasPrefix(e.Message, unsentEventsPrefix) && c.unsent.stopping.Load() {
		c.unsent.writes.Add(1)
		return ce
	}
	return c.Core.Check(e, ce)
}

// serve builds the manager with the webhook server and runs it until ctx
// is done. decisions is the unsampled logger of the webhooks' decisions.
func serve(ctx context.Context, f *serveFlags, log, decisions logr.Logger) error {
	opts := f.opts
	policy, digest, err := f.policy.loadPolicy(ctx)
	if err != nil {
		return err // a policy that does not compile at start stops ksguard
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		return err
	}
	ev := validate.NewEvaluator(policy, opts, fp)
	var hasher *restart.Hasher // none: no config hash is published
	if f.configHashKey != "" {
		if hasher, err = restart.ReadKeyFile(f.configHashKey); err != nil {
			return fmt.Errorf("--config-hash-key-file: %w", err)
		}
	}

	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "ksguard/" + version

	var rotator *certrotation.Rotator
	if f.tlsSecret != "" {
		// Uncached: the RBAC grants the one Secret by name.
		c, err := client.New(cfg, client.Options{})
		if err != nil {
			return fmt.Errorf("creating the client for --tls-secret: %w", err)
		}
		rotator = certrotation.New(c, certrotation.Options{
			Secret: f.tlsSecretKey, DNSNames: f.tlsDNSNames, WebhookConfiguration: f.tlsWebhookConfig,
			CAValidity: f.tlsCAValidity, Validity: f.tlsValidity, CertDir: f.certDir,
		}, log.WithName("tls"))
		// The webhook server needs the files before it starts.
		if _, err := rotator.Sync(ctx); err != nil {
			return fmt.Errorf("--tls-secret: %w", err)
		}
	}

	// Watch the guarded ConfigMap only (restart controller and audit).
	cacheOpts := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {
			Namespaces: map[string]cache.Config{opts.GuardedNamespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", opts.GuardedName),
		},
	}}
	if f.hostSecret != "" {
		// Watch the one Secret, not every Secret: the RBAC grants only it.
		cacheOpts.ByObject[&corev1.Secret{}] = cache.ByObject{
			Namespaces: map[string]cache.Config{f.hostSecretKey.Namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", f.hostSecretKey.Name),
		}
	}
	mgr, err := ctrl.NewManager(cfg, manager.Options{
		Logger:                  log,
		Cache:                   cacheOpts,
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		GracefulShutdownTimeout: &f.shutdownTimeout,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        f.leaderElectionID,
		LeaderElectionNamespace: f.leaderElectionNS,
		// Step down at once on SIGTERM, so the next replica takes over the
		// restart controller without waiting for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
		WebhookServer: crwebhook.NewServer(crwebhook.Options{
			Host:    f.webhookHost,
			Port:    f.webhookPort,
			CertDir: f.certDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) {
				c.MinVersion = tls.VersionTLS12
				// HTTP/1.1 only: HTTP/2 rapid-reset attacks (CVE-2023-44487)
				// cost more than multiplexing gains for a webhook.
				c.NextProtos = []string{"http/1.1"}
			}},
		}),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}

	var host hostsecret.Source
	if f.hostSecret != "" {
		s := hostsecret.NewSecret(f.hostSecretKey, mgr.GetCache(), log.WithName("host-secret"))
		if err := mgr.AddReadyzCheck("host-secret", s.Synced); err != nil {
			return err
		}
		host = s
		if err := mgr.Add(s); err != nil {
			return err
		}
	} else {
		s := hostsecret.NewFile(f.hostSecretFile, f.reloadPoll, log.WithName("host-secret"))
		host = s
		if err := mgr.Add(s); err != nil {
			return err
		}
	}
	if rotator != nil {
		if err := mgr.Add(rotator); err != nil {
			return err
		}
	}
	if f.policy.policyDir != "" {
		if err := mgr.Add(policyreload.New(f.policy.policyDir, f.policy.policyMode, digest, ev, f.reloadPoll, log.WithName("policy"))); err != nil {
			return err
		}
	}

	rec := &restart.Reconciler{
		Client: mgr.GetClient(),
		Reader: mgr.GetAPIReader(),
		Events: mgr.GetEventRecorder("ksguard"),
		Auditor: &restart.Auditor{
			Evaluator: ev, Host: host.HostSecret,
			Client: mgr.GetClient(), Remediate: f.remediate, Log: log.WithName("audit"),
		},
		Guarded:     types.NamespacedName{Namespace: opts.GuardedNamespace, Name: opts.GuardedName},
		Target:      f.target,
		MinInterval: f.restartInterval,
		Hasher:      hasher,
		Log:         log.WithName("restart"),
	}
	if err := rec.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the restart controller: %w", err)
	}

	hooks := mgr.GetWebhookServer()
	for _, w := range []admission.Webhook{admission.Mutating, admission.Validating} {
		hooks.Register("/"+string(w), &webhook.Handler{Webhook: w, Decider: ev, Host: host.HostSecret, Log: decisions.WithName("decision")})
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook-server", hooks.StartedChecker()); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("policy", func(*http.Request) error {
		if ev.Policy() == nil {
			return errors.New("no policy is compiled")
		}
		return nil
	}); err != nil {
		return err
	}

	hs := host.HostSecret()
	log.Info("starting ksguard", "version", version, "mode", opts.Mode, "onMissingHost", opts.OnMissingHost,
		"guarded", opts.GuardedNamespace+"/"+opts.GuardedName, "policies", policySource(f.policy.policyDir, policy), "policyMode", f.policy.policyMode,
		"hostSecret", hostSourceName(f), "hostSecretAvailable", hs.Value != nil,
		"restartTarget", f.restartTarget, "restartMinInterval", f.restartInterval.String(), "configHashKeyID", configHashKeyID(hasher), "remediate", f.remediate, "leaderElect", f.leaderElect, "tls", tlsSourceName(f))
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the manager: %w", err)
	}
	log.Info("ksguard stopped")
	return nil
}

// restConfig loads the kubeconfig given, or the usual defaults.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := crconfig.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("finding the cluster (no --kubeconfig given): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("reading --kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

func policySource(dir string, p *validate.Policy) string {
	if dir == "" {
		return "embedded"
	}
	return fmt.Sprintf("%s (%d files)", dir, len(p.Files()))
}

func hostSourceName(f *serveFlags) string {
	if f.hostSecret != "" {
		return "Secret " + f.hostSecret
	}
	return "file " + f.hostSecretFile
}

// configHashKeyID names the config-hash key for the start line (never the
// key itself).
func configHashKeyID(h *restart.Hasher) string {
	if h == nil {
		return "none (no config hash is published)"
	}
	return h.KeyID()
}

func tlsSourceName(f *serveFlags) string {
	if f.tlsSecret != "" {
		return "Secret " + f.tlsSecret + " (self-managed)"
	}
	return "directory " + f.certDir
}
