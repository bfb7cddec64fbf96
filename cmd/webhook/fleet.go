package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ksguard/ksguard/internal/fleet"
	"github.com/ksguard/ksguard/internal/metrics"
)

const fleetUsage = `Usage: ksguard fleet [flags]
       ksguard fleet status [flags]

Runs on the KubeSphere host cluster and keeps every member's ksguard host
Secret (default ksguard-system/ksguard-host-jwt, key jwtSecret) equal to the
host's current jwtSecret, read from the host's own kubesphere-config. The
members are the host's Cluster objects without the label
cluster-role.kubesphere.io/host, reached through spec.connection.kubeconfig.
When the host's value changes, it is pushed to every member at once, so each
member's ksguard accepts the host's (and KubeSphere's) writes of the new
value. The host is never written. Each member's state (in-sync, stale,
not-installed, unreachable, refused) is reported by an Event on its Cluster
object, the ksguard_fleet_* metrics and a log line when it changes.

'ksguard fleet status' prints every member's state, computed on the spot
with dry-run writes (no controller needed); exit 0 when all are in sync,
1 otherwise, 2 when it could not run.

Flags:
`

// runFleet runs `ksguard fleet` until SIGTERM or SIGINT, or `ksguard fleet
// status`.
func runFleet(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "status" {
		return runFleetStatus(args[1:], stdout, stderr)
	}
	var f fleetFlags
	fs := flag.NewFlagSet("ksguard fleet", flag.ContinueOnError)
	f.register(fs)
	if code, ok := parseArgs(fs, fleetUsage, " (the only subcommand is status)", args, stderr); !ok {
		return code
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "ksguard fleet: %v\n", err)
		return exitError
	}
	f.zap.DestWriter = stderr
	log, _ := newLoggers(&f.zap, &unsentEvents{})
	ctrl.SetLogger(log)
	klog.SetLogger(log.WithName("client-go"))
	if err := runFleetController(ctrl.SetupSignalHandler(), &f, log); err != nil {
		log.Error(err, "ksguard fleet stopped")
		return exitError
	}
	return exitAllowed
}

// runFleetController runs the manager with the fleet controller until ctx
// is done.
func runFleetController(ctx context.Context, f *fleetFlags, log logr.Logger) error {
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "ksguard-fleet/" + version
	// Events about many members at once (a rotation) need more than
	// client-go's default 5 requests a second to the host.
	cfg.QPS, cfg.Burst = 20, 50
	metrics.RegisterFleet()
	mgr, err := ctrl.NewManager(cfg, manager.Options{
		Logger: log,
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// The host's kubesphere-config alone, not every ConfigMap.
			&corev1.ConfigMap{}: {
				Namespaces: map[string]cache.Config{f.hostConfigKey.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", f.hostConfigKey.Name),
			},
		}},
		// Cluster objects are read as unstructured: serve them from the
		// cache too.
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                       metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:        f.probeAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              f.leaderElectionID,
		LeaderElectionNamespace:       f.leaderElectionNS,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	r := &fleet.Reconciler{
		Client:           mgr.GetClient(),
		Events:           mgr.GetEventRecorder("ksguard-fleet"),
		HostConfig:       f.hostConfigKey,
		Secret:           f.memberSecretKey,
		SyncMemberConfig: f.syncMemberConfig,
		Concurrency:      f.concurrency,
		MemberTimeout:    f.memberTimeout,
		Resync:           f.resync,
		BackoffBase:      f.backoffBase,
		BackoffMax:       f.backoffMax,
		UserAgent:        cfg.UserAgent,
		Log:              log.WithName("fleet"),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the fleet controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting ksguard fleet", "version", version, "hostConfig", f.hostConfig, "memberSecret", f.memberSecret,
		"syncMemberConfig", f.syncMemberConfig, "concurrency", f.concurrency, "memberTimeout", f.memberTimeout.String(),
		"resyncPeriod", f.resync.String(), "leaderElect", f.leaderElect)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the manager: %w", err)
	}
	log.Info("ksguard fleet stopped")
	return nil
}

const fleetStatusUsage = `Usage: ksguard fleet status [--kubeconfig HOST] [-o table|json] [flags]

Prints every member's state: whether its ksguard host Secret holds the host's
current jwtSecret (in-sync), does not and would take it (stale), cannot be
written because ksguard is not installed (not-installed), because the member
cannot be reached (unreachable) or because the member refuses (refused, with
its answer). Needed writes are tried as server-side dry runs: nothing is
written. No secret is printed. Exit status: 0 all in sync, 1 not, 2 could
not run.

Flags:
`

// runFleetStatus prints the members' states.
func runFleetStatus(args []string, stdout, stderr io.Writer) int {
	var f fleetFlags
	fs := flag.NewFlagSet("ksguard fleet status", flag.ContinueOnError)
	f.registerStatus(fs)
	if code, ok := parseArgs(fs, fleetStatusUsage, "", args, stderr); !ok {
		return code
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "ksguard fleet status: %v\n", err)
		return exitError
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard fleet status: %v\n", err)
		return exitError
	}
	cfg.UserAgent = "ksguard-fleet/" + version
	members, err := fleet.Check(context.Background(), cfg, fleet.CheckOptions{
		HostConfig: f.hostConfigKey, Secret: f.memberSecretKey,
		Concurrency: f.concurrency, MemberTimeout: f.memberTimeout, UserAgent: cfg.UserAgent,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ksguard fleet status: %v\n", err)
		return exitError
	}
	if err := fleet.WriteStatus(stdout, members, f.output); err != nil {
		return exitError
	}
	if !fleet.AllInSync(members) {
		return exitDenied
	}
	return exitAllowed
}
