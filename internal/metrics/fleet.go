package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// FleetStates are the values of the state label of FleetMembers and
// FleetMemberState, as `ksguard fleet` names a member's state.
var FleetStates = []string{"in-sync", "stale", "not-installed", "unreachable", "refused"}

var (
	// FleetMembers counts the members `ksguard fleet` knows by state
	// (FleetStates). Every state has a series, 0 when no member is in it.
	FleetMembers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ksguard_fleet_members",
		Help: "Members known to ksguard fleet by state of their ksguard host Secret (in-sync, stale, not-installed, unreachable, refused).",
	}, []string{"state"})

	// FleetMemberState is 1 for each member (cluster: its Cluster object's
	// name) with its current state as label; one series per member,
	// removed with the member.
	FleetMemberState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ksguard_fleet_member_state",
		Help: "1 for each member cluster, labelled with the current state of its ksguard host Secret (in-sync, stale, not-installed, unreachable, refused).",
	}, []string{"cluster", "state"})

	// FleetWrites counts the writes `ksguard fleet` made on members, by
	// object: secret (a member's ksguard host Secret), config (with
	// --sync-member-config: kubesphere-config and ks-installer's sources).
	FleetWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ksguard_fleet_writes_total",
		Help: "Writes of the host's jwtSecret made on members by object (secret: the member's ksguard host Secret; config: kubesphere-config and ks-installer's sources).",
	}, []string{"object"})

	// FleetHostSecretAvailable is 1 while `ksguard fleet` can read the
	// host's jwtSecret from its kubesphere-config, else 0 (nothing is
	// pushed meanwhile).
	FleetHostSecretAvailable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ksguard_fleet_host_secret_available",
		Help: "1 while ksguard fleet can read the host's jwtSecret from its kubesphere-config, 0 while it cannot (nothing is pushed).",
	})
)

// SetFleetMember makes state the one series of cluster in
// FleetMemberState; an empty state removes the member.
func SetFleetMember(cluster, state string) {
	FleetMemberState.DeletePartialMatch(prometheus.Labels{"cluster": cluster})
	if state != "" {
		FleetMemberState.WithLabelValues(cluster, state).Set(1)
	}
}

// SetFleetCounts sets FleetMembers from counts by state.
func SetFleetCounts(counts map[string]int) {
	for _, s := range FleetStates {
		FleetMembers.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// RegisterFleet registers the fleet metrics on controller-runtime's
// registry. Only `ksguard fleet` calls it, so `ksguard serve` exports none
// of them.
func RegisterFleet() {
	crmetrics.Registry.MustRegister(FleetMembers, FleetMemberState, FleetWrites, FleetHostSecretAvailable)
	SetFleetCounts(nil)
	FleetWrites.WithLabelValues("secret")
	FleetWrites.WithLabelValues("config")
}
