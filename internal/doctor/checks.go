package doctor

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ksguard/ksguard/internal/validate"
)

// Env is what a check sees.
type Env struct {
	// Host is the host cluster's snapshot; Member the member's.
	Host, Member *Snapshot
	// Probe is the live probe of ksguard on the member (nil when not run).
	Probe *ProbeResult
	// Logs reads the member's ks-apiserver logs (nil: not available).
	Logs LogSource
	// Since is how far back the logs are read.
	Since time.Duration
}

// Checks returns doctor's checks for a member, in output order.
func Checks() []Check {
	return []Check{
		{ID: "cluster.reachable", Category: CategoryCluster, Severity: SeverityError,
			Description: "the member's API server answers", Run: checkReachable},
		{ID: "cluster.config", Category: CategoryCluster, Severity: SeverityError,
			Description: "kubesphere-config exists and ks-apiserver can load it", Run: checkConfig},
		{ID: "cluster.role", Category: CategoryCluster, Severity: SeverityWarning,
			Description: "multicluster.clusterRole is member", Run: checkRole},
		{ID: "secret.matches-host", Category: CategorySecret, Severity: SeverityError,
			Description: "the jwtSecret ks-apiserver runs with equals the host's", Run: checkSecret},
		{ID: "secret.installer-sources", Category: CategorySecret, Severity: SeverityWarning,
			Description: "ks-installer's sources carry the host's jwtSecret (v3)", Run: checkInstallerSecret},
		{ID: "secret.helm-release", Category: CategorySecret, Severity: SeverityWarning,
			Description: "the ks-core Helm release carries the host's jwtSecret (v4)", Run: checkHelmRelease},
		{ID: "maxage.zero", Category: CategoryMaxAge, Severity: SeverityError,
			Description: "accessTokenMaxAge is 0", Run: checkMaxAge},
		{ID: "maxage.installer-role", Category: CategoryMaxAge, Severity: SeverityWarning,
			Description: "ks-installer renders this cluster as a member (v3)", Run: checkInstallerRole},
		{ID: "restart.pods-current", Category: CategoryRestart, Severity: SeverityError,
			Description: "ks-apiserver runs with the current kubesphere-config", Run: checkPodsCurrent},
		{ID: "clock.skew", Category: CategoryClock, Severity: SeverityError,
			Description: "the member's clock is within maximumClockSkew of the host's", Run: checkClock},
		{ID: "ksguard.webhooks", Category: CategoryKsguard, Severity: SeverityWarning,
			Description: "ksguard's webhooks are registered", Run: checkWebhooks},
		{ID: "ksguard.certificate", Category: CategoryKsguard, Severity: SeverityWarning,
			Description: "ksguard's serving certificate verifies against the caBundle and is not expiring within 30 days", Run: checkCertificate},
		{ID: "ksguard.probe", Category: CategoryKsguard, Severity: SeverityWarning,
			Description: "ksguard refuses a drifted jwtSecret and sets accessTokenMaxAge to 0s (server-side dry run)", Run: checkProbe},
		{ID: "logs.causes", Category: CategoryLogs, Severity: SeverityWarning,
			Description: "ks-apiserver logs no login-loop causes", Run: checkLogs},
	}
}

// editHint tells how to edit the member's kubesphere-config.
func editHint(member, what string) string {
	return fmt.Sprintf("on %s: kubectl -n kubesphere-system edit configmap kubesphere-config and %s", member, what)
}

// overrideHint tells how to remove an override from the ks-apiserver
// container.
func overrideHint(m *Snapshot, source string) string {
	if env, ok := strings.CutPrefix(source, "env "); ok {
		return fmt.Sprintf("on %s: kubectl -n kubesphere-system set env deployment/%s -c %s %s- (the file then applies)", m.Name, m.Deployment.Name, apiserverContainer, env)
	}
	return fmt.Sprintf("on %s: kubectl -n kubesphere-system edit deployment %s and remove %s from the %s container (the file then applies)", m.Name, m.Deployment.Name, strings.TrimPrefix(source, "flag "), apiserverContainer)
}

// secretKeys and maxAgeKeys are where the schema keeps the settings.
func secretKeys(schema string) validate.Path {
	if schema == validate.SchemaV4 {
		return validate.PathV4JWTSecret
	}
	return validate.PathV3JWTSecret
}

func maxAgeKeys(schema string) validate.Path {
	if schema == validate.SchemaV4 {
		return validate.PathV4AccessTokenMaxAge
	}
	return validate.PathV3AccessTokenMaxAge
}

func secretPath(schema string) string { return secretKeys(schema).String() }

func maxAgePath(schema string) string { return maxAgeKeys(schema).String() }

// unusable says why a snapshot's config cannot be judged ("" when it can).
func unusable(s *Snapshot) string {
	switch {
	case s.fileOnly:
		return ""
	case s.Unreachable != nil:
		return "the cluster is unreachable"
	case s.Config == nil:
		return "kubesphere-config does not exist"
	case s.LoadErr != nil:
		return "kubesphere-config cannot be loaded"
	}
	return ""
}

func checkReachable(_ context.Context, env *Env) Outcome {
	if err := env.Member.Unreachable; err != nil {
		return failed(err.Error(), "check the kubeconfig (for a discovered member: the Cluster object's spec.connection.kubeconfig) and that the API server is up")
	}
	return ok("Kubernetes " + env.Member.ServerVersion)
}

func checkConfig(_ context.Context, env *Env) Outcome {
	m := env.Member
	switch {
	case m.Unreachable != nil:
		return notChecked("the cluster is unreachable")
	case m.Config == nil && m.LoadErr == nil:
		return failed("ConfigMap kubesphere-system/kubesphere-config does not exist", "is KubeSphere installed on "+m.Name+"?")
	case m.LoadErr != nil:
		return failed(m.LoadErr.Error(), editHint(m.Name, "correct kubesphere.yaml (ksguard eval shows the line)"))
	}
	version := m.Version
	if version == "" {
		version = "version unknown"
	}
	return ok(fmt.Sprintf("KubeSphere %s schema, ks-apiserver %s", m.Schema, version))
}

func checkRole(_ context.Context, env *Env) Outcome {
	m := env.Member
	if why := unusable(m); why != "" {
		return notChecked(why)
	}
	if m.Reading.ClusterRole != "member" {
		return failed("multicluster.clusterRole is "+shown(env, m.Reading.ClusterRole),
			editHint(m.Name, "set multicluster.clusterRole: member"))
	}
	return ok("")
}

// notShown stands in for a value a message would quote that holds a
// jwtSecret.
const notShown = "(a value that holds a jwtSecret, not shown)"

// shown quotes s, a value as the member's owner wrote it, for a message;
// when it holds the host's or the member's jwtSecret (a secret pasted into
// the wrong setting), it says so instead of showing it.
func shown(env *Env, s string) string {
	for _, snap := range []*Snapshot{env.Host, env.Member} {
		if snap != nil && snap.holdsSecret(s) {
			return notShown
		}
	}
	return strconv.Quote(s)
}

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func checkSecret(_ context.Context, env *Env) Outcome {
	m, h := env.Member, env.Host
	if why := unusable(m); why != "" {
		return notChecked(why)
	}
	if why := unusable(h); why != "" {
		return notChecked("the host's " + strings.TrimPrefix(why, "the cluster ") + "")
	}
	me, he := m.effectiveSetting(settingJWTSecret), h.effectiveSetting(settingJWTSecret)
	if me.problem != "" {
		return notChecked(me.problem)
	}
	if he.problem != "" {
		return notChecked("on the host: " + he.problem)
	}
	if equalSecret(me.value, he.value) {
		return ok("from " + me.source)
	}
	if me.source != "kubesphere.yaml" {
		return failed(fmt.Sprintf("%s on Deployment %s differs from the host's jwtSecret (ks-apiserver logs 'signature is invalid')", me.source, m.Deployment.Name),
			overrideHint(m, me.source))
	}
	return failed(fmt.Sprintf("%s in kubesphere.yaml differs from the host's jwtSecret (ks-apiserver logs 'signature is invalid')", secretPath(m.Schema)),
		editHint(m.Name, fmt.Sprintf("set %s to the host's jwtSecret (the one in the host's kubesphere-config)", secretPath(m.Schema))))
}

// installerSecret returns ks-installer's spec.authentication.jwtSecret.
func installerSecret(u *unstructured.Unstructured) (string, bool) {
	v, found, _ := unstructured.NestedString(u.Object, "spec", "authentication", "jwtSecret")
	return v, found
}

func checkInstallerSecret(_ context.Context, env *Env) Outcome {
	m, h := env.Member, env.Host
	if m.Unreachable != nil {
		return notChecked("the cluster is unreachable")
	}
	if m.Installer == nil && m.KubeSphereSecret == nil {
		if m.KubeSphereSecretErr != nil {
			return notChecked("Secret kubesphere-secret could not be read: " + m.KubeSphereSecretErr.Error())
		}
		return ok("no ks-installer ClusterConfiguration (not a v3 installer cluster)")
	}
	if why := unusable(h); why != "" {
		return notChecked("the host's " + strings.TrimPrefix(why, "the cluster "))
	}
	host := h.effectiveSetting(settingJWTSecret).value
	var bad []string
	if m.Installer != nil {
		if v, found := installerSecret(m.Installer); !found || !equalSecret(v, host) {
			bad = append(bad, "ClusterConfiguration ks-installer spec.authentication.jwtSecret")
		}
	}
	if m.KubeSphereSecret != nil && !equalSecret(string(m.KubeSphereSecret), host) {
		bad = append(bad, "Secret kubesphere-secret key secret")
	}
	if len(bad) > 0 {
		return failed(strings.Join(bad, " and ")+" differ from the host's jwtSecret: the next ks-installer run writes them back into kubesphere-config",
			fmt.Sprintf("on %s: set %s to the host's jwtSecret", m.Name, strings.Join(bad, " and ")))
	}
	return ok("")
}

// checkHelmRelease compares the jwtSecret a KubeSphere v4 host passed to
// the member's ks-core release with the host's current one. The chart uses
// authentication.issuer.jwtSecret when set (kubesphere/kubesphere v4.1.3
// config/ks-core/templates/_helpers.tpl "jwtSecret"), so a stale value is
// written back into kubesphere-config by the next upgrade of the release,
// which the host makes only when the Cluster changes.
func checkHelmRelease(_ context.Context, env *Env) Outcome {
	m, h := env.Member, env.Host
	switch {
	case m.Unreachable != nil:
		return notChecked("the cluster is unreachable")
	case m.KSCoreErr != nil:
		return notChecked(m.KSCoreErr.Error())
	case m.KSCoreValues == nil:
		return ok("no ks-core Helm release (not a v4 member installed by its host)")
	}
	if why := unusable(h); why != "" {
		return notChecked("the host's " + strings.TrimPrefix(why, "the cluster "))
	}
	host := h.effectiveSetting(settingJWTSecret).value
	v, _, _ := unstructured.NestedString(m.KSCoreValues, "authentication", "issuer", "jwtSecret")
	if v == "" {
		// The chart keeps kubesphere-config's, preferring authentication.jwtSecret.
		if l := m.LegacyJWTSecret; l != nil && !equalSecret(*l, host) {
			return failed("the release sets no jwtSecret, so the chart's next upgrade takes kubesphere-config's authentication.jwtSecret, which differs from the host's",
				editHint(m.Name, "set authentication.jwtSecret to the host's jwtSecret too, or remove it"))
		}
		return ok("the release sets no jwtSecret: the chart keeps kubesphere-config's")
	}
	if !equalSecret(v, host) {
		return failed("the ks-core release's authentication.issuer.jwtSecret differs from the host's: the next upgrade of the release writes it back into kubesphere-config",
			fmt.Sprintf("on the host: make KubeSphere re-install ks-core on %s with the current jwtSecret (edit the Cluster's spec.config), or helm upgrade ks-core on %s with --reuse-values --set authentication.issuer.jwtSecret=<the host's>", m.Name, m.Name))
	}
	return ok("")
}

func checkMaxAge(_ context.Context, env *Env) Outcome {
	m := env.Member
	if why := unusable(m); why != "" {
		return notChecked(why)
	}
	e := m.effectiveSetting(settingAccessTokenMaxAge)
	if e.problem != "" {
		return notChecked(e.problem)
	}
	if e.dur == 0 {
		return ok("from " + e.source)
	}
	const why = "ks-apiserver looks the host's tokens up in its own cache and logs 'token not found in cache'"
	if e.source != "kubesphere.yaml" {
		return failed(fmt.Sprintf("%s on Deployment %s makes it %s: %s", e.source, m.Deployment.Name, e.dur, why), overrideHint(m, e.source))
	}
	return failed(fmt.Sprintf("%s in kubesphere.yaml makes it %s: %s", maxAgePath(m.Schema), e.dur, why),
		editHint(m.Name, fmt.Sprintf("set %s to 0s", maxAgePath(m.Schema))))
}

func checkInstallerRole(_ context.Context, env *Env) Outcome {
	m := env.Member
	if m.Unreachable != nil {
		return notChecked("the cluster is unreachable")
	}
	if m.Installer == nil {
		return ok("no ks-installer ClusterConfiguration (not a v3 installer cluster)")
	}
	role, _, _ := unstructured.NestedString(m.Installer.Object, "spec", "multicluster", "clusterRole")
	if role != "member" {
		return failed(fmt.Sprintf("ClusterConfiguration ks-installer has spec.multicluster.clusterRole %s: ks-installer writes accessTokenMaxAge: 0 only for members, so its next run undoes the fix", shown(env, role)),
			fmt.Sprintf("on %s: kubectl -n kubesphere-system patch clusterconfiguration ks-installer --type merge -p '{\"spec\":{\"multicluster\":{\"clusterRole\":\"member\"}}}'", m.Name))
	}
	return ok("")
}

// readsOnce reports whether ks-apiserver of version reads kubesphere.yaml
// only at start: v3.0 to v3.2 and v4 (v3.3 and v3.4 reload it live; see
// kubesphere/kubesphere v3.3.0 pkg/apiserver/config WatchConfigChange).
// An unknown version is assumed to read once.
func readsOnce(version string) bool {
	v := strings.TrimPrefix(version, "v")
	return !strings.HasPrefix(v, "3.3") && !strings.HasPrefix(v, "3.4")
}

func checkPodsCurrent(_ context.Context, env *Env) Outcome {
	m := env.Member
	if why := unusable(m); why != "" {
		return notChecked(why)
	}
	if m.Deployment == nil {
		return failed("neither Deployment ks-apiserver nor ks-agent exists in kubesphere-system", "is KubeSphere installed on "+m.Name+"?")
	}
	if !readsOnce(m.Version) {
		return ok(fmt.Sprintf("ks-apiserver %s reloads kubesphere.yaml by itself", m.Version))
	}
	var stale []string
	for _, p := range m.Pods {
		if p.Status.StartTime != nil && p.Status.StartTime.Time.Before(m.ConfigChanged) {
			stale = append(stale, p.Name)
		}
	}
	if len(stale) > 0 {
		return failed(fmt.Sprintf("pod %s started before kubesphere-config last changed (%s), and ks-apiserver %s reads it only at start",
			strings.Join(stale, ", "), m.ConfigChanged.UTC().Format(time.RFC3339), versionOrUnknown(m.Version)),
			fmt.Sprintf("on %s: kubectl -n kubesphere-system rollout restart deployment %s", m.Name, m.Deployment.Name))
	}
	return ok("")
}

func versionOrUnknown(v string) string {
	if v == "" {
		return "(version unknown)"
	}
	return v
}

func checkClock(_ context.Context, env *Env) Outcome {
	m, h := env.Member, env.Host
	if m.Unreachable != nil || h.Unreachable != nil {
		return notChecked("a cluster is unreachable")
	}
	if m.ServerTime.IsZero() || h.ServerTime.IsZero() {
		return notChecked("an API server sent no Date header")
	}
	skew := m.ServerTime.Sub(h.ServerTime)
	if skew < 0 {
		skew = -skew
	}
	// Date headers have one-second resolution and were taken one after the
	// other: allow that much, and the round trips, before calling it skew.
	slack := time.Second + m.RTT + h.RTT
	limit := 10 * time.Second
	if unusable(m) == "" {
		if e := m.effectiveSetting(settingMaximumClockSkew); e.problem == "" {
			limit = e.dur
		}
	}
	if skew > limit+slack {
		return failed(fmt.Sprintf("the member's clock is %s off the host's, beyond maximumClockSkew %s: ks-apiserver logs 'token used before issued' or 'token is expired by'", skew.Round(time.Second), limit),
			fmt.Sprintf("synchronise the clocks of %s and the host (chrony or systemd-timesyncd on every node)", m.Name))
	}
	return ok(fmt.Sprintf("within %s", (skew + slack).Round(time.Second)))
}
