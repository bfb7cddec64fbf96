// Package webhook serves ksguard's two admission webhooks over HTTP: it reads
// the AdmissionReview (bounded, checked), judges it with the same code as
// `ksguard eval` (internal/admission and internal/validate), writes the
// response, logs one line per decision and counts it. Handlers are plain
// http.Handlers, registered on controller-runtime's webhook server, which
// adds TLS and its own request metrics.
package webhook
