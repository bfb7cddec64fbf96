package doctor

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ksguard/ksguard/internal/validate"
)

// Target is a cluster to examine: a name and how to reach it.
type Target struct {
	// Name is shown in the output (a context name, a Cluster object's name).
	Name string
	// Config reaches its API server; nil with Err set when the target is
	// known but cannot be reached (a Cluster without a usable kubeconfig).
	Config *rest.Config
	// Err says why Config is nil.
	Err error
}

// Options shape a run.
type Options struct {
	// HostSecret is the host's jwtSecret when the host cluster itself
	// cannot be read (--host-secret-file); nil to read it from the host.
	HostSecret []byte
	// Since is how far back ks-apiserver's logs are read.
	Since time.Duration
	// NoProbe skips ksguard's live dry-run probe.
	NoProbe bool
}

// Result is one check's outcome on one cluster.
type Result struct {
	// ID, Category, Description and Severity are the check's.
	ID          string   `json:"id"`
	Category    Category `json:"category"`
	Description string   `json:"description"`
	Severity    Severity `json:"severity"`
	// Status, Detail and Hint are what it found.
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

// ClusterReport is every check's result on one member.
type ClusterReport struct {
	// Name is the member's name.
	Name string `json:"name"`
	// Results are in check order.
	Results []Result `json:"checks"`
}

// Report is a whole run.
type Report struct {
	// Host names the host cluster ("" with a host secret file).
	Host string `json:"host"`
	// Members are the members' reports.
	Members []ClusterReport `json:"members"`

	host    *Snapshot
	members []*Snapshot
}

// Plan lists the changes --fix would make on every member, and what it
// cannot change (see the package-level Plan).
func (r *Report) Plan() (changes []Change, manual []string) {
	for _, m := range r.members {
		c, man := Plan(r.host, m)
		changes, manual = append(changes, c...), append(manual, man...)
	}
	return changes, manual
}

// Failed reports whether an error-severity check failed anywhere.
func (r *Report) Failed() bool {
	for _, m := range r.Members {
		for _, res := range m.Results {
			if res.Status == StatusFailed && res.Severity == SeverityError {
				return true
			}
		}
	}
	return false
}

// Run examines every member against the host and returns the report.
func Run(ctx context.Context, host Target, members []Target, o Options) *Report {
	var hs *Snapshot
	if o.HostSecret != nil {
		hs = HostFromSecret(o.HostSecret)
	} else {
		hs = snapshotOf(ctx, host)
	}
	r := &Report{Host: host.Name, host: hs}
	for _, t := range members {
		ms := snapshotOf(ctx, t)
		r.members = append(r.members, ms)
		env := &Env{Host: hs, Member: ms, Since: o.Since}
		if !o.NoProbe {
			var secret string
			if unusable(hs) == "" {
				if e := hs.effectiveSetting(settingJWTSecret); e.problem == "" {
					secret = e.value
				}
			}
			env.Probe = Probe(ctx, ms, secret)
		}
		if ms.Unreachable == nil && t.Config != nil {
			if cs, err := kubernetes.NewForConfig(t.Config); err == nil {
				env.Logs = PodLogs{Client: cs, Pods: ms.Pods}
			}
		}
		r.Members = append(r.Members, ClusterReport{Name: t.Name, Results: runChecks(ctx, env)})
	}
	return r
}

func snapshotOf(ctx context.Context, t Target) *Snapshot {
	if t.Config == nil {
		return &Snapshot{Name: t.Name, Unreachable: t.Err}
	}
	return Read(ctx, t.Name, t.Config)
}

// HostFromSecret stands for a host cluster known only by its jwtSecret
// (doctor --host-secret-file, or ksguard fleet, which reads it itself).
func HostFromSecret(secret []byte) *Snapshot {
	return &Snapshot{
		Name:     "host (--host-secret-file)",
		Reading:  validate.KubeSphereReading{JWTSecret: string(secret)},
		fileOnly: true,
	}
}

func runChecks(ctx context.Context, env *Env) []Result {
	var out []Result
	for _, c := range Checks() {
		o := c.Run(ctx, env)
		out = append(out, Result{ID: c.ID, Category: c.Category, Description: c.Description, Severity: c.Severity,
			Status: o.Status, Detail: o.Detail, Hint: o.Hint})
	}
	return out
}
