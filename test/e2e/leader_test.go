package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

// leaseHolder returns the holder of the Lease name in leaseNS ("" while
// none holds it).
func leaseHolder(t *testing.T, name string) string {
	t.Helper()
	l := &coordinationv1.Lease{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: leaseNS, Name: name}, l); err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// becameLeaderLine is the debug line of the Event leader election records
// when a replica takes the Lease, naming the replica's identity.
var becameLeaderLine = regexp.MustCompile(`"msg":"(\S+) became leader"`)

// becameLeader returns the identity k took the Lease with, from its log.
func becameLeader(t *testing.T, k *harness.Ksguard) string {
	t.Helper()
	m := becameLeaderLine.FindStringSubmatch(k.Logs())
	if m == nil {
		t.Fatal("ksguard's log does not say it became leader")
	}
	return m[1]
}

// waitLog waits until k has logged a line holding every one of subs.
func waitLog(t *testing.T, k *harness.Ksguard, what string, subs ...string) {
	t.Helper()
	eventually(t, what, func() error {
		for _, line := range strings.Split(k.Logs(), "\n") {
			all := true
			for _, s := range subs {
				all = all && strings.Contains(line, s)
			}
			if all {
				return nil
			}
		}
		return fmt.Errorf("no log line with %q", subs)
	})
}

// TestLeaderElection runs two replicas with --leader-elect, the Lease in
// ksguard's own namespace. The follower serves the webhooks and runs no
// controller: no audit, no restart, no ksguard_config_info or
// ksguard_drift, while the Lease names the leader. Stopped in the middle of
// a burst of writes, the leader hands over: the new leader rolls exactly
// once, for the last config.
func TestLeaderElection(t *testing.T) {
	const id = "ksguard-e2e-failover"
	c, _ := newClient(t)
	createDeployment(t, "ks-apiserver")
	timeout := 3000
	nextDoc := func() string {
		timeout++
		return strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", fmt.Sprintf("timeout: %d", timeout), 1)
	}
	args := []string{"--host-secret", guardedNS + "/" + secretName, "--restart-min-interval", "2s",
		"--leader-elect", "--leader-election-namespace", leaseNS, "--leader-election-id", id}

	// The leader starts first, on an address the API server does not call.
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	leader := startKsguard(t, append(args, "--webhook-bind-address", addr)...)
	waitLog(t, leader, "the first replica acquires the Lease", "Successfully acquired lease", `"lock":"`+leaseNS+"/"+id+`"`)
	first := leaseHolder(t, id)
	if want := becameLeader(t, leader); first != want {
		t.Fatalf("the Lease is held by %q; the leader is %q", first, want)
	}
	// The follower serves the webhooks the API server calls.
	follower := startKsguard(t, args...)
	waitLog(t, follower, "the second replica tries the Lease", "Attempting to acquire leader lease", `"lock":"`+leaseNS+"/"+id+`"`)

	t.Run("the follower runs no controller", func(t *testing.T) {
		if err := put(c, nextDoc()); err != nil { // judged by the follower's webhooks
			t.Fatal(err)
		}
		hash := storedHash(t)
		waitRolledFor(t, "ks-apiserver", hash)
		waitAudited(t, leader, hash)
		waitGauge(t, leader, "ksguard_drift", 0, `check="policy"`)
		if h := leaseHolder(t, id); h != first {
			t.Errorf("the Lease is held by %q, not the leader %q", h, first)
		}
		for _, m := range []string{"ksguard_config_info", "ksguard_drift", "ksguard_restarts_total"} {
			if _, found, err := follower.Sample(m); err != nil || found {
				t.Errorf("the follower exports %s (%v): it runs the controller", m, err)
			}
		}
		for _, line := range []string{`"controller":"restart"`, `"logger":"audit"`, `"logger":"restart"`} {
			if got := grepLines(follower.Logs(), line); got != "" {
				t.Errorf("the follower logged controller activity:\n%s", got)
			}
		}
		if v := metric(t, follower, "ksguard_decisions_total", `webhook="validate"`); v < 1 {
			t.Errorf("the follower made no decision: it is not the one serving the webhooks")
		}
	})

	t.Run("stopped in the middle of a burst, the leader hands over and the new leader rolls once, for the last config", func(t *testing.T) {
		before := deploymentState(t, "ks-apiserver")
		start := time.Now()
		for i := range 6 {
			if i == 3 {
				if err := leader.Terminate(); err != nil {
					t.Fatal(err)
				}
			}
			if err := put(c, nextDoc()); err != nil {
				t.Fatal(err)
			}
		}
		if err := leader.Stop(); err != nil {
			t.Fatalf("the leader did not stop cleanly: %v", err)
		}
		last := storedHash(t)
		s := waitRolledFor(t, "ks-apiserver", last)
		if s.restartedAt == before.restartedAt {
			t.Fatalf("not rolled: %+v", s)
		}
		waitLog(t, follower, "the follower takes the Lease", "Successfully acquired lease", `"lock":"`+leaseNS+"/"+id+`"`)
		if h, want := leaseHolder(t, id), becameLeader(t, follower); h != want || h == first {
			t.Errorf("after the handover the Lease is held by %q; the new leader is %q, the old one %q", h, want, first)
		}
		harness.WaitCount(t, 1, "ksguard_restarts_total", []string{`result="restarted"`}, follower) // the new leader rolled once
		var rolls []string
		for _, e := range eventsFor(t, "ks-apiserver", "Restarted") {
			if e.EventTime.After(start) {
				rolls = append(rolls, e.Note)
			}
		}
		if len(rolls) != 1 || !strings.Contains(rolls[0], last) {
			t.Errorf("Restarted Events since the burst: %q; want one, for %s", rolls, last)
		}
	})
}

// TestSecondSignal: a second SIGTERM while ksguard waits for an in-flight
// review makes it exit at once.
func TestSecondSignal(t *testing.T) {
	k, err := cluster.StartKsguard(ctx, bin, nil, logLevel, "--host-secret", guardedNS+"/"+secretName,
		"--restart-target=none", "--graceful-shutdown-timeout=5m")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Stop()
		assertNoSecret(t, "ksguard's log", k.Logs())
	})
	conn, _ := holdReview(t, k)
	defer conn.Close()
	if err := k.Terminate(); err != nil {
		t.Fatal(err)
	}
	waitLog(t, k, "the webhook server is shutting down", "Shutting down webhook server")
	if exited, err := k.Exited(); exited {
		t.Fatalf("ksguard exited (%v) with a review in flight after one SIGTERM", err)
	}
	if err := k.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited, err := k.Wait(5 * time.Second)
	if !exited {
		t.Fatal("ksguard still runs 5s after a second SIGTERM")
	}
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("after a second SIGTERM ksguard exited with %v, want status 1", err)
	}
}
