package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ksguard/ksguard/test/harness"
)

// TestPprof: with --pprof-bind-address, ksguard serves Go's profiles at
// /debug/pprof on that address; without it (the default), it listens on
// nothing but the webhook, metrics and probe addresses, and neither of
// those serves /debug/pprof.
func TestPprof(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		addr, err := harness.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none", "--pprof-bind-address", addr)
		status, body := get(t, "http://"+addr+"/debug/pprof/heap?debug=1")
		if status != http.StatusOK || !strings.HasPrefix(body, "heap profile:") {
			t.Fatalf("GET /debug/pprof/heap?debug=1 on --pprof-bind-address %s: %d, body starts %q; want 200 and a heap profile", addr, status, head(body))
		}
		if got := listening(t, k.PID()); !slices.Contains(got, port(t, addr)) {
			t.Errorf("ksguard listens on ports %v, not on --pprof-bind-address's %s", got, addr)
		}
	})
	t.Run("off", func(t *testing.T) {
		k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none")
		want := []int{port(t, cluster.WebhookAddr), port(t, strings.TrimPrefix(strings.TrimSuffix(k.MetricsURL, "/metrics"), "http://")),
			port(t, strings.TrimPrefix(strings.TrimSuffix(k.ReadyURL, "/readyz"), "http://"))}
		slices.Sort(want)
		if got := listening(t, k.PID()); !slices.Equal(got, want) {
			t.Fatalf("without --pprof-bind-address ksguard listens on ports %v; want only the webhook, metrics and probe ports %v", got, want)
		}
		for _, u := range []string{strings.Replace(k.MetricsURL, "/metrics", "/debug/pprof/heap", 1), strings.Replace(k.ReadyURL, "/readyz", "/debug/pprof/heap", 1)} {
			if status, _ := get(t, u); status == http.StatusOK {
				t.Errorf("GET %s: 200; /debug/pprof must be served on --pprof-bind-address only", u)
			}
		}
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func head(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

func port(t *testing.T, hostPort string) int {
	t.Helper()
	i := strings.LastIndex(hostPort, ":")
	p, err := strconv.Atoi(hostPort[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("%q is not HOST:PORT", hostPort)
	}
	return p
}

// listening returns the sorted TCP ports process pid listens on, read from
// /proc: the inodes of its sockets matched against the LISTEN entries of
// /proc/net/tcp and tcp6.
func listening(t *testing.T, pid int) []int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("reading ksguard's file descriptors: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			p, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				t.Fatalf("%s: local address %q: %v", table, fields[1], err)
			}
			if !slices.Contains(ports, int(p)) {
				ports = append(ports, int(p))
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
	}
	slices.Sort(ports)
	return ports
}
