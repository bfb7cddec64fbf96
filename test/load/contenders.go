package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksguard/ksguard/test/harness"
)

// opaPolicy is the Rego policy OPA serves: the same job as ksguard's
// (refuse a jwtSecret other than the host's, set accessTokenMaxAge to 0s),
// done the generic way (yaml.unmarshal, a JSONPatch of the re-marshalled
// document).
//
//go:embed opa_policy.rego
var opaPolicy string

// contenders returns the contenders of a run: no webhook, the no-op,
// ksguard, and OPA when cfg.opa exists.
func (r *runner) contenders() []contender {
	cs := []contender{
		{name: "no webhook"},
		{name: "no-op webhook", start: r.startNoop},
		{name: "ksguard serve", start: r.startKsguard},
	}
	for _, bin := range r.cfg.compare {
		cs = append(cs, contender{name: "ksguard serve (" + filepath.Base(bin) + ")", start: func(ctx context.Context) (*server, error) {
			return r.startKsguardBin(ctx, bin)
		}})
	}
	if _, err := os.Stat(r.cfg.opa); err == nil {
		cs = append(cs, contender{name: "opa run --server", start: r.startOPA})
	}
	return cs
}

// startKsguard runs the real `ksguard serve`, reading the host's jwtSecret
// from its Secret as the chart configures it.
func (r *runner) startKsguard(ctx context.Context) (*server, error) {
	return r.startKsguardBin(ctx, r.bin)
}

// startKsguardBin is startKsguard for the ksguard binary bin (another
// build, for -compare), with more flags.
func (r *runner) startKsguardBin(ctx context.Context, bin string, flags ...string) (*server, error) {
	k, err := r.cluster.StartKsguard(ctx, bin, nil, append([]string{"--host-secret", guardedNS + "/" + hostSecretName}, flags...)...)
	if err != nil {
		return nil, err
	}
	return &server{
		addr: r.cluster.WebhookAddr, mutatePath: "/mutate", validatePath: "/validate",
		metricsURL: k.MetricsURL, metric: "ksguard_decision_duration_seconds",
		pid: k.PID(), stop: k.Stop, exited: func() bool { done, _ := k.Exited(); return done },
	}, nil
}

// startNoop runs the no-op webhook (test/load/noop).
func (r *runner) startNoop(ctx context.Context) (*server, error) {
	metrics, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(r.noop, r.cluster.WebhookAddr, metrics, r.cluster.CertDir)
	s := &server{
		addr: r.cluster.WebhookAddr, mutatePath: "/mutate", validatePath: "/validate",
		metricsURL: "http://" + metrics + "/metrics", metric: "noop_review_duration_seconds", connsMetric: "noop_connections_total",
	}
	return startChild(ctx, cmd, s)
}

// startOPA runs `opa run --server` with opaPolicy and the host's jwtSecret
// as data, over TLS with the same certificate.
func (r *runner) startOPA(ctx context.Context) (*server, error) {
	diag, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(r.cfg.opa, "run", "--server", "--log-level", "error",
		"--addr", r.cluster.WebhookAddr, "--diagnostic-addr", diag,
		"--tls-cert-file", filepath.Join(r.cluster.CertDir, "tls.crt"),
		"--tls-private-key-file", filepath.Join(r.cluster.CertDir, "tls.key"),
		r.opaPolicyFile, r.opaDataFile)
	s := &server{
		addr: r.cluster.WebhookAddr, mutatePath: "/v0/data/ksguard/mutate", validatePath: "/v0/data/ksguard/validate",
		// OPA serves its diagnostic address with the same TLS.
		metricsURL: "https://" + diag + "/metrics", metricsHTTP: r.tlsClient(),
		metric: "http_request_duration_seconds", filter: `handler="v0/data"`,
	}
	return startChild(ctx, cmd, s)
}

// startChild starts cmd as s's process and waits until it answers.
func startChild(ctx context.Context, cmd *exec.Cmd, s *server) (*server, error) {
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.pid = cmd.Process.Pid
	s.exited = func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	s.stop = func() error {
		_ = cmd.Process.Kill()
		<-done
		return nil
	}
	if err := waitUp(ctx, s); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%s: %w; its output:\n%s", filepath.Base(cmd.Path), err, logs.String())
	}
	return s, nil
}

// tlsClient returns an HTTP/1.1 client that trusts the cluster's CA.
func (r *runner) tlsClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.cluster.CA)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: r.cfg.concurrency,
	}}
}

// buildCommand builds test/load/NAME (the no-op webhook, the floor) into dir
// and returns its path.
func buildCommand(root, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "./test/load/"+name)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building test/load/%s: %w\n%s", name, err, out)
	}
	return bin, nil
}
