// Package fleet is `ksguard fleet`: run on the KubeSphere host cluster, it
// keeps every member's ksguard host Secret equal to the host's current
// jwtSecret, so a rotation on the host propagates to every member's guard
// instead of turning the guard into the outage.
//
// The host's value is read from its own kubesphere-config, as ks-apiserver
// reads it (validate.ReadAsKubeSphere). Members are the host's Cluster
// objects without the host label, reached through their
// spec.connection.kubeconfig (kscluster). Each member is synced on its own
// (Reconciler): a Get and, when the value differs, a server-side apply of
// the one key, under FieldManager; no watch is kept open on any member.
// Its state (State) is reported by an Event on the Cluster object, the
// ksguard_fleet_* metrics and a log line whenever it changes, never with a
// secret in it (redact). Check computes the same states on demand for
// `ksguard fleet status`, with dry-run writes.
package fleet
