// Package metrics holds ksguard's Prometheus metrics. They are registered
// on controller-runtime's registry, so they are served on the manager's
// metrics endpoint beside controller-runtime's own webhook metrics
// (controller_runtime_webhook_requests_total and friends).
//
// No label ever holds a value from a ConfigMap: labels are drawn from small
// fixed sets, except ksguard_config_info's hash, which is keyed.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Decision results, the values of the result label of Decisions.
const (
	// ResultAllowed: the write was allowed unchanged.
	ResultAllowed = "allowed"
	// ResultMutated: the write was allowed with ksguard's edits.
	ResultMutated = "mutated"
	// ResultDenied: the write was denied by the policy.
	ResultDenied = "denied"
	// ResultWarned: warn mode let through a write the policy denies.
	ResultWarned = "warned"
	// ResultError: the request could not be read or decided (answered 4xx/5xx).
	ResultError = "error"
)

// Reload results, the values of the result label of PolicyReloads.
const (
	// ReloadSuccess: the new policies compiled and now serve.
	ReloadSuccess = "success"
	// ReloadFailure: the new policies did not compile; the last good ones serve.
	ReloadFailure = "failure"
)

var (
	// Decisions counts admission decisions by webhook (mutate, validate)
	// and result.
	Decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ksguard_decisions_total",
		Help: "Admission decisions by webhook (mutate, validate) and result (allowed, mutated, denied, warned, error).",
	}, []string{"webhook", "result"})

	// DecisionDuration observes the time from a request's body being read
	// to its response being ready, by webhook.
	DecisionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ksguard_decision_duration_seconds",
		Help:    "Time to decide one admission review (decode, policy, edit, encode), by webhook.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
	}, []string{"webhook"})

	// DecisionSources counts admission decisions by webhook and how they
	// were had: made, hit (kept from an equal request), joined (waited for
	// while made for an equal request, such as the validating request a
	// mutation prepares).
	DecisionSources = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ksguard_decision_sources_total",
		Help: "Admission decisions by webhook (mutate, validate) and how they were had: made, hit (kept from an equal request), joined (waited for while made for an equal request, such as the validating request prepared after a mutation).",
	}, []string{"webhook", "source"})

	// PolicyReloads counts reloads of --policy-dir by result.
	PolicyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ksguard_policy_reloads_total",
		Help: "Reloads of the policy directory by result (success, failure). On failure the last good policies keep serving.",
	}, []string{"result"})

	// HostSecretAvailable is 1 while the host cluster's jwtSecret is
	// available to ksguard, else 0.
	HostSecretAvailable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ksguard_host_secret_available",
		Help: "1 while the host cluster's jwtSecret is available to ksguard, 0 while writes to the guarded ConfigMap cannot be checked.",
	})
)

// Restart results, the values of the result label of Restarts.
const (
	// RestartRolled: the Deployment was rolled for a new config.
	RestartRolled = "restarted"
	// RestartAdopted: first sight of the Deployment; the config's hash was
	// recorded without a restart.
	RestartAdopted = "adopted"
	// RestartPaused: the Deployment is paused, so it was not rolled.
	RestartPaused = "paused"
	// RestartFailed: the patch of the Deployment failed (retried).
	RestartFailed = "failed"
	// RestartRolledElsewhere: the config changed, but the pod template
	// changed after it (a Helm upgrade), so the pods were already rolling;
	// the hash was recorded without a second restart.
	RestartRolledElsewhere = "rolled-elsewhere"
)

// Drift checks, the values of the check label of Drift.
const (
	// DriftAccessTokenMaxAge: the stored config needs the accessTokenMaxAge edit.
	DriftAccessTokenMaxAge = "accessTokenMaxAge"
	// DriftPolicy: the policy denies the stored config (a jwtSecret that
	// differs from the host's, an ambiguous document, a missing host value).
	DriftPolicy = "policy"
)

var (
	// Restarts counts what the restart signal did, by target Deployment
	// (NAMESPACE/NAME) and result.
	Restarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ksguard_restarts_total",
		Help: "Rolling restarts of the target Deployment by target and result (restarted, adopted, paused, failed).",
	}, []string{"target", "result"})

	// ConfigInfo is 1 for the config hash of the guarded ConfigMap's data
	// as last seen; the previous hash's series is removed. The hash is
	// keyed (restart.Hasher): the data holds the jwtSecret, and an unkeyed
	// digest in a label would let whoever scrapes metrics test guesses of
	// it. Without a key, no series is exported.
	ConfigInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ksguard_config_info",
		Help: "1 with the keyed hash (HMAC-SHA256, the one recorded on the restarted Deployment) of the guarded ConfigMap's data (all keys) as label.",
	}, []string{"hash"})

	// Drift is 1 for each check the stored guarded ConfigMap fails, as
	// judged by the policies at start and on every change, and 0 for each
	// it passes. It has no series until the audit has judged the stored
	// config: a replica that runs no audit (a follower under leader
	// election, or before the first judgement) claims no "0, no drift".
	Drift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ksguard_drift",
		Help: "1 when the stored guarded ConfigMap fails a check (accessTokenMaxAge: needs the 0s edit; policy: the policy denies it), else 0.",
	}, []string{"check"})
)

// SetConfigHash makes hash the one series of ConfigInfo.
func SetConfigHash(hash string) {
	ConfigInfo.Reset()
	ConfigInfo.WithLabelValues(hash).Set(1)
}

func init() {
	crmetrics.Registry.MustRegister(Decisions, DecisionSources, DecisionDuration, PolicyReloads, HostSecretAvailable, Restarts, ConfigInfo, Drift)
	for _, w := range []string{"mutate", "validate"} {
		for _, r := range []string{ResultAllowed, ResultMutated, ResultDenied, ResultWarned, ResultError} {
			Decisions.WithLabelValues(w, r)
		}
		for _, src := range []string{"made", "hit", "joined"} {
			DecisionSources.WithLabelValues(w, src)
		}
	}
	PolicyReloads.WithLabelValues(ReloadSuccess)
	PolicyReloads.WithLabelValues(ReloadFailure)
}

// SetHostSecretAvailable sets HostSecretAvailable.
func SetHostSecretAvailable(available bool) {
	if available {
		HostSecretAvailable.Set(1)
	} else {
		HostSecretAvailable.Set(0)
	}
}
