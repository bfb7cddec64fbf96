// Package admission converts between Kubernetes AdmissionReviews
// (admission.k8s.io/v1) and ksguard's decisions: it turns an
// AdmissionRequest into a validate.Request and a validate.Decision into the
// mutating or validating webhook's AdmissionResponse. It does no I/O, so
// `ksguard eval --review` and the webhook server share it.
package admission
