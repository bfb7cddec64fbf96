package validate

import corev1 "k8s.io/api/core/v1"

// ConfigMap is the Kubernetes ConfigMap type ksguard judges.
type ConfigMap = corev1.ConfigMap

// Admission operations.
const (
	OperationCreate  = "CREATE"
	OperationUpdate  = "UPDATE"
	OperationDelete  = "DELETE"
	OperationConnect = "CONNECT"
)

// Request is one write to judge: what an AdmissionReview carries, plus the
// host cluster's jwtSecret.
type Request struct {
	// UID identifies the admission request (for logs only).
	UID string
	// Operation is CREATE, UPDATE, DELETE or CONNECT.
	Operation string
	// DryRun is true for a dry-run write; it is judged like any other.
	DryRun bool
	// User is who makes the write.
	User UserInfo
	// Namespace and Name name the object written.
	Namespace, Name string
	// Object is the ConfigMap as it would be stored (nil for DELETE).
	Object *ConfigMap
	// OldObject is the stored ConfigMap (UPDATE and DELETE), else nil.
	OldObject *ConfigMap
	// Host is the host cluster's jwtSecret.
	Host HostSecret
}

// UserInfo is the requesting user.
type UserInfo struct {
	// Username is the user's name.
	Username string
	// Groups are the user's groups.
	Groups []string
}

// HostSecret is the host cluster's jwtSecret and where it came from.
type HostSecret struct {
	// Value is the secret; nil when it is not available.
	Value []byte
	// Source says where it comes from ("Secret kubesphere-system/x", "file /y").
	Source string
	// Problem says why Value is nil (shown to users; never holds a secret).
	Problem string
}

// Modes of enforcement.
const (
	// ModeEnforce denies writes the policy denies.
	ModeEnforce = "enforce"
	// ModeWarn turns denials into admission warnings.
	ModeWarn = "warn"
)

// Options are the settings a deployment chooses; policies see them as
// input.config.
type Options struct {
	// GuardedNamespace and GuardedName name the guarded ConfigMap.
	GuardedNamespace, GuardedName string
	// BreakGlassAnnotation is the annotation that, set by a member of
	// BreakGlassGroups, turns denials into warnings.
	BreakGlassAnnotation string
	// BreakGlassGroups may use the break-glass annotation.
	BreakGlassGroups []string
	// OnMissingHost is "deny" or "warn": what a write gets while the host's
	// jwtSecret is not available.
	OnMissingHost string
	// Mode is ModeEnforce or ModeWarn.
	Mode string
}

// DefaultOptions returns the defaults: guard kubesphere-system/kubesphere-config,
// break-glass annotation ksguard.io/break-glass for system:masters, deny
// while the host value is missing, enforce.
func DefaultOptions() Options {
	return Options{
		GuardedNamespace:     "kubesphere-system",
		GuardedName:          "kubesphere-config",
		BreakGlassAnnotation: "ksguard.io/break-glass",
		BreakGlassGroups:     []string{"system:masters"},
		OnMissingHost:        "deny",
		Mode:                 ModeEnforce,
	}
}
