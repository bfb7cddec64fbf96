package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestEveryDecisionLogged: a burst of concurrent writes through the API
// server, far beyond zap's sampling (100 lines of one message a second),
// leaves exactly one decision log line per decision ksguard counted in
// ksguard_decisions_total.
func TestEveryDecisionLogged(t *testing.T) {
	const writes, workers = 200, 20
	c, _ := newClient(t)
	doc := document(t, hostJWT, "0s")
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none")
	if err := put(c, doc); err != nil {
		t.Fatal(err)
	}
	jobs := make(chan int)
	errs := make(chan error, writes)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				// A merge patch carries no resourceVersion: no write is lost
				// to a conflict, each one is judged by both webhooks.
				cm := configMap(guardedNS, guardedName, "")
				patch := fmt.Sprintf(`{"data":{"kubesphere.yaml":%q}}`, strings.Replace(doc, "timeout: 600", fmt.Sprintf("timeout: %d", 1000+i), 1))
				errs <- c.Patch(ctx, cm, client.RawPatch("application/merge-patch+json", []byte(patch)))
			}
		})
	}
	for i := range writes {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Every write has been answered, so every decision is counted and logged.
	decisions := metric(t, k, "ksguard_decisions_total")
	lines, uids := decisionLines(t, k.Logs())
	t.Logf("%d writes: %v decisions counted, %d decision log lines", writes, decisions, lines)
	if decisions < 2*writes {
		t.Fatalf("%v decisions for %d writes through two webhooks", decisions, writes)
	}
	if float64(lines) != decisions {
		t.Errorf("%d decision log lines for %v decisions: want exactly one line per decision", lines, decisions)
	}
	for key, n := range uids {
		if n > 1 && !strings.HasPrefix(key, "mutate/") { // the mutating webhook may be reinvoked with the same uid
			t.Errorf("decision %s logged %d times", key, n)
		}
	}
}

// decisionLines counts the lines of ksguard's decision logger in logs, and
// how often each webhook/uid appears.
func decisionLines(t *testing.T, logs string) (int, map[string]int) {
	t.Helper()
	n, uids := 0, map[string]int{}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"logger":"decision"`) {
			continue
		}
		var entry struct {
			Webhook, UID, Result string
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("a decision line is not JSON: %v\n%s", err, line)
		}
		if entry.Result == "" {
			t.Errorf("a decision line without a result: %s", line)
		}
		n++
		uids[entry.Webhook+"/"+entry.UID]++
	}
	return n, uids
}
