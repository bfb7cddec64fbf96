package fleet

import (
	"bytes"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"

	"github.com/ksguard/ksguard/internal/kscluster"
	"github.com/ksguard/ksguard/internal/metrics"
)

// registry holds what fleet keeps per member: its client, its state and
// its failures in a row. An entry lives as long as its Cluster object, so
// memory follows the number of members, not the history.
type registry struct {
	events events.EventRecorder
	log    logr.Logger

	mu      sync.Mutex
	members map[string]*entry
}

type entry struct {
	cluster  *unstructured.Unstructured // name and UID only: what Events refer to
	conn     *conn
	state    State
	secret   string
	failures int
}

func newRegistry(ev events.EventRecorder, log logr.Logger) *registry {
	return &registry{events: ev, log: log, members: map[string]*entry{}}
}

// conn returns the member's client, built by dial when there is none yet
// or the Cluster's kubeconfig changed.
func (g *registry) conn(cl *unstructured.Unstructured, dial func() (*conn, error)) (*conn, error) {
	kubeconfig, err := kscluster.Kubeconfig(cl)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	e := g.entry(cl)
	if e.conn != nil && bytes.Equal(e.conn.kubeconfig, kubeconfig) {
		c := e.conn
		g.mu.Unlock()
		return c, nil
	}
	g.mu.Unlock()
	c, err := dial()
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e = g.entry(cl)
	e.conn.close()
	e.conn = c
	return c, nil
}

// entry returns cl's entry, creating it; g.mu is held.
func (g *registry) entry(cl *unstructured.Unstructured) *entry {
	e := g.members[cl.GetName()]
	if e == nil {
		ref := kscluster.New()
		ref.SetName(cl.GetName())
		ref.SetUID(cl.GetUID())
		e = &entry{cluster: ref}
		g.members[cl.GetName()] = e
	}
	return e
}

// record stores a member's new status and reports what changed: a log
// line, an Event on its Cluster and the metrics when the state changes,
// and a log line and a Pushed Event for each write. It returns the
// member's failures in a row.
func (g *registry) record(cl *unstructured.Unstructured, st Status) int {
	g.mu.Lock()
	e := g.entry(cl)
	prev := e.state
	e.state, e.secret = st.State, st.Secret
	if st.State == InSync {
		e.failures = 0
	} else {
		e.failures++
	}
	failures, ref := e.failures, e.cluster
	counts := g.counts()
	g.mu.Unlock()

	if len(st.wrote) > 0 {
		objects := make([]string, len(st.wrote))
		for i, w := range st.wrote {
			metrics.FleetWrites.WithLabelValues(w.kind).Inc()
			objects[i] = w.object
		}
		g.log.Info("wrote the host's jwtSecret on the member", "cluster", st.Cluster, "objects", objects)
		g.events.Eventf(ref, nil, corev1.EventTypeNormal, "Pushed", "Sync", "%s", truncate("ksguard fleet wrote the host's jwtSecret to the member's "+strings.Join(objects, ", ")))
	}
	if prev == st.State {
		return failures
	}
	metrics.SetFleetMember(st.Cluster, string(st.State))
	metrics.SetFleetCounts(counts)
	g.report(ref, prev, st)
	return failures
}

// report logs a state change and records its Event.
func (g *registry) report(ref *unstructured.Unstructured, prev State, st Status) {
	kv := []any{"cluster", st.Cluster, "state", st.State, "secret", st.Secret}
	if prev != "" {
		kv = append(kv, "previous", prev)
	}
	if st.Reason != "" {
		kv = append(kv, "reason", st.Reason)
	}
	g.log.Info("member state changed", kv...)
	note := "the member's ksguard host Secret " + st.Secret + " holds the host's current jwtSecret"
	if st.State != InSync {
		note = string(st.State) + ": " + st.Reason
	}
	g.events.Eventf(ref, nil, st.State.eventType(), st.State.eventReason(), "Sync", "%s", truncate(note))
}

// markStale marks every member in sync as stale: the host's value changed
// and they have not been synced since.
func (g *registry) markStale() {
	g.mu.Lock()
	var stale []*entry
	for _, e := range g.members {
		if e.state == InSync {
			e.state = Stale
			stale = append(stale, e)
		}
	}
	counts := g.counts()
	g.mu.Unlock()
	metrics.SetFleetCounts(counts)
	for _, e := range stale {
		metrics.SetFleetMember(e.cluster.GetName(), string(Stale))
		g.report(e.cluster, InSync, Status{Cluster: e.cluster.GetName(), State: Stale, Secret: e.secret,
			Reason: "the host's jwtSecret changed; ksguard fleet is pushing it"})
	}
}

// forget drops a member: its Cluster object is gone (or is the host's).
func (g *registry) forget(name string) {
	g.mu.Lock()
	e, ok := g.members[name]
	delete(g.members, name)
	counts := g.counts()
	g.mu.Unlock()
	if !ok {
		return
	}
	e.conn.close()
	metrics.SetFleetMember(name, "")
	metrics.SetFleetCounts(counts)
	g.log.Info("member forgotten: its Cluster object is gone or is the host's", "cluster", name)
}

// counts counts the members by state; g.mu is held.
func (g *registry) counts() map[string]int {
	out := map[string]int{}
	for _, e := range g.members {
		if e.state != "" {
			out[string(e.state)]++
		}
	}
	return out
}

// truncate keeps an Event's note within the API server's 1 KiB limit.
func truncate(s string) string {
	const limit = 1000
	if len(s) <= limit {
		return s
	}
	return s[:limit-3] + "..."
}
