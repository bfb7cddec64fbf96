package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Build builds the ksguard binary into dir and returns its path. Call it
// before pointing HOME or XDG_CACHE_HOME elsewhere, or the Go build cache
// moves with them and the build starts cold.
func Build(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ksguard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/webhook")
	cmd.Dir = root // same flags as `go test`: the packages come from its build cache
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building ksguard: %w\n%s", err, out)
	}
	return bin, nil
}

// Ksguard is a running `ksguard serve` process.
type Ksguard struct {
	*Process
	MetricsURL string
	ReadyURL   string
}

// StartKsguard runs `bin serve` against the cluster, serving the webhooks
// on WebhookAddr with CertDir's certificate and keying the config hash with
// ConfigHashKeyFile, plus args (a flag given again in args wins), and waits
// until /readyz passes. Its log goes to Logs() and, if echo is not nil, to echo.
func (c *Cluster) StartKsguard(ctx context.Context, bin string, echo io.Writer, args ...string) (*Ksguard, error) {
	k, err := c.RunKsguard(bin, echo, args...)
	if err != nil {
		return nil, err
	}
	if err := k.WaitReady(ctx, 100*time.Millisecond); err != nil {
		_ = k.Stop()
		return nil, fmt.Errorf("%w; ksguard's log:\n%s", err, k.Logs())
	}
	return k, nil
}

// RunKsguard is StartKsguard without the wait for /readyz: for a ksguard
// that may never be ready (its RBAC cut short, say).
func (c *Cluster) RunKsguard(bin string, echo io.Writer, args ...string) (*Ksguard, error) {
	addrs, err := FreeAddrs(2)
	if err != nil {
		return nil, err
	}
	metricsAddr, probeAddr := addrs[0], addrs[1]
	all := append([]string{"serve",
		"--kubeconfig", c.Kubeconfig,
		"--cert-dir", c.CertDir,
		"--webhook-bind-address", c.WebhookAddr,
		"--metrics-bind-address", metricsAddr,
		"--health-probe-bind-address", probeAddr,
		"--config-hash-key-file", c.ConfigHashKeyFile,
	}, args...)
	p, err := StartProcess(bin, echo, all...)
	if err != nil {
		return nil, err
	}
	return &Ksguard{Process: p, MetricsURL: "http://" + metricsAddr + "/metrics", ReadyURL: "http://" + probeAddr + "/readyz"}, nil
}

// WaitReady polls /readyz every interval until it answers 200, ksguard
// exits, or a minute passes.
func (k *Ksguard) WaitReady(ctx context.Context, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.ReadyURL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-k.done:
			return fmt.Errorf("ksguard exited before it was ready: %v", k.err)
		case <-ctx.Done():
			return errors.New("ksguard was not ready within a minute")
		case <-tick.C:
		}
	}
}

// Metric scrapes /metrics and returns the sum of the samples of the metric
// name whose labels include every label given as `key="value"`; no such
// sample sums to 0. Use Sample where a missing series must not read as 0.
func (k *Ksguard) Metric(name string, labels ...string) (float64, error) {
	v, _, err := k.Sample(name, labels...)
	return v, err
}

// Sample is Metric that also tells whether any sample matched: a gauge
// ksguard never set is missing, not 0.
func (k *Ksguard) Sample(name string, labels ...string) (sum float64, found bool, err error) {
	resp, err := http.Get(k.MetricsURL)
	if err != nil {
		return 0, false, fmt.Errorf("scraping %s: %w", k.MetricsURL, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		metric, labelText, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(labelText, l)
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, false, fmt.Errorf("reading %q: %w", line, err)
		}
		sum += v
		found = true
	}
	return sum, found, sc.Err()
}

// Eventually calls f until it returns nil, failing t with f's last error
// after 30 seconds.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 30s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitCount waits until the counter name{labels}, added up over replicas,
// reaches at least want (ksguard counts an action just after the effect a
// test sees: a roll after its patch, a reload after the swap), and fails t
// unless it is exactly want.
func WaitCount(t testing.TB, want float64, name string, labels []string, replicas ...*Ksguard) {
	t.Helper()
	total := func() (float64, error) {
		var sum float64
		for _, k := range replicas {
			v, err := k.Metric(name, labels...)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}
	series := name + "{" + strings.Join(labels, ",") + "}"
	Eventually(t, series+" counts "+strconv.FormatFloat(want, 'g', -1, 64), func() error {
		got, err := total()
		if err == nil && got < want {
			err = fmt.Errorf("%s = %v", series, got)
		}
		return err
	})
	if got, err := total(); err != nil || got != want {
		t.Fatalf("%s = %v (%v), want %v", series, got, err, want)
	}
}

// FreeAddr returns a 127.0.0.1 address with a port free right now.
func FreeAddr() (string, error) {
	addrs, err := FreeAddrs(1)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

// FreeAddrs returns n different 127.0.0.1 addresses with ports free right
// now, none of them handed out before by this test process: a port is
// released when it is returned, and the kernel may offer it again to the
// next caller before the first one's server has bound it.
func FreeAddrs(n int) ([]string, error) {
	givenMu.Lock()
	defer givenMu.Unlock()
	var addrs []string
	for len(addrs) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close() // held open until all n are chosen
		addr := l.Addr().String()
		if given[addr] {
			continue
		}
		given[addr] = true
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

var (
	givenMu sync.Mutex
	given   = map[string]bool{}
)
