// Package restart is the restart signal: a controller that rolls the
// Deployment running ks-apiserver (ks-apiserver, or ks-agent on a
// KubeSphere v4 member) when the persisted guarded ConfigMap changes, the
// way `kubectl rollout restart` does, and audits the persisted ConfigMap
// with the policies.
//
// It acts on persisted objects only (it watches them), so dry-run writes
// and writes a webhook refused never roll anything. It is level-triggered:
// the hash of the config the Deployment was last rolled for is recorded on
// the Deployment itself (annotation ksguard.io/config-hash; keyed, see
// Hasher, as the config holds the jwtSecret), so a
// redelivered event, a restart of ksguard or a second replica never rolls
// twice for one change; the patch that rolls also carries an optimistic
// lock. At first sight (no recorded hash) it records the hash without
// rolling, so installing or restarting ksguard never restarts ks-apiserver.
package restart
