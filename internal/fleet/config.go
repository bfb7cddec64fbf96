package fleet

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/ksguard/ksguard/internal/doctor"
)

// syncConfig writes the host's jwtSecret into the member's own config, after
// its ksguard host Secret (st, in sync): kubesphere-config through the
// member's API server, edited in place, so the member's ksguard judges the
// write and its restart signal rolls ks-apiserver (or ks-agent), and on v3
// ks-installer's ClusterConfiguration and Secret kubesphere-secret, so the
// installer's next run agrees. These are doctor --fix's writes
// (doctor.SyncPlan). Right after the Secret was written, the member's
// ksguard may not have read it yet: the config waits for the next sync.
func syncConfig(ctx context.Context, name string, cfg *rest.Config, host []byte, st Status) Status {
	if len(st.wrote) > 0 {
		st.State = Stale
		st.Reason = "the member's ksguard host Secret was just written; its kubesphere-config is written next"
		return st
	}
	m := doctor.Read(ctx, name, cfg)
	if m.Unreachable != nil {
		st.State, st.Reason = Unreachable, m.Unreachable.Error()
		return st
	}
	for _, c := range doctor.SyncPlan(host, m) {
		if err := c.Apply(ctx); err != nil {
			if apierrors.IsNotFound(err) { // deleted meanwhile: the next sync reads again
				st.State, st.Reason = Stale, fmt.Sprintf("writing %v", err)
				return st
			}
			return failed(st, "writing", err) // Apply names the object
		}
		st.wrote = append(st.wrote, written{kind: "config", object: c.Object})
	}
	return st
}
