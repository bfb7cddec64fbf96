package fleet

import corev1 "k8s.io/api/core/v1"

// State is what fleet knows of a member's guard.
type State string

// The states of a member; metrics.FleetStates lists the same values.
const (
	// InSync: the member's ksguard host Secret holds the host's jwtSecret
	// (and, with --sync-member-config, so does its kubesphere-config).
	InSync State = "in-sync"
	// Stale: it holds another value (or none), and the write that would fix
	// it is allowed; `fleet status` reports it, the controller writes.
	Stale State = "stale"
	// NotInstalled: the Secret's namespace does not exist on the member,
	// so ksguard is not installed there; nothing is written.
	NotInstalled State = "not-installed"
	// Unreachable: the member's API server could not be reached in time,
	// or its kubeconfig cannot be used.
	Unreachable State = "unreachable"
	// Refused: the member refused a read or a write (RBAC, an admission
	// webhook, validation); Reason says what it answered.
	Refused State = "refused"
)

// Status is a member's state and why.
type Status struct {
	// Cluster is the member's Cluster object name.
	Cluster string `json:"cluster"`
	// State is the member's state.
	State State `json:"state"`
	// Secret is NAMESPACE/NAME of the member's ksguard host Secret.
	Secret string `json:"secret"`
	// Reason says why the member is not in sync ("" when it is); it never
	// holds a secret.
	Reason string `json:"reason,omitempty"`

	// wrote is what this sync wrote, for the log, the Pushed Event and
	// ksguard_fleet_writes_total.
	wrote []written
}

// written is one write on a member.
type written struct {
	kind   string // the object label of ksguard_fleet_writes_total: secret, config
	object string // "Secret ns/name"
}

// eventType is the Event type of a state: Normal when in sync.
func (s State) eventType() string {
	if s == InSync {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

// eventReason is the Event reason of a state.
func (s State) eventReason() string {
	switch s {
	case InSync:
		return "GuardInSync"
	case Stale:
		return "GuardStale"
	case NotInstalled:
		return "KsguardNotInstalled"
	case Unreachable:
		return "MemberUnreachable"
	}
	return "WriteRefused"
}
