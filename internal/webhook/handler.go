package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// MaxRequestBytes bounds an AdmissionReview body. A ConfigMap is at most
// 1 MiB; a review carries the object and the old object, JSON-escaped.
const MaxRequestBytes = 7 << 20

// DecisionTimeout bounds one decision. The API server waits at most 30s
// (the webhook's timeoutSeconds) for an answer.
const DecisionTimeout = 30 * time.Second

// Decider judges a request; *validate.Evaluator is one.
type Decider interface {
	Decide(ctx context.Context, req validate.Request) (validate.Decision, error)
}

// preparer is a Decider that can make, in the background, the decision the
// validating webhook will be asked for after a mutation
// (validate.Evaluator.Prepare).
type preparer interface {
	Prepare(req validate.Request, d validate.Decision)
}

// Handler serves one webhook (mutate or validate).
type Handler struct {
	// Webhook is admission.Mutating or admission.Validating.
	Webhook admission.Webhook
	// Decider judges the requests.
	Decider Decider
	// Host returns the host cluster's jwtSecret as currently known.
	Host func() validate.HostSecret
	// Log receives one line per decision (each with its result, as counted
	// by ksguard_decisions_total). It must not be sampled: the decision
	// log is an audit trail.
	Log logr.Logger
}

// httpError is a request the handler cannot read: it is answered with Code
// and a plain-text message, not with an AdmissionReview.
type httpError struct {
	Code    int
	Message string
}

func (e *httpError) Error() string { return e.Message }

// ServeHTTP answers one AdmissionReview.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The values every line carries go with each call: a logger made with
	// WithValues per request encodes them into a new core every time.
	kv := []any{"webhook", string(h.Webhook)}
	defer func() {
		if p := recover(); p != nil {
			h.Log.Error(fmt.Errorf("panic: %v", p), "handler panicked; answering 500", append(kv, "result", metrics.ResultError, "stack", string(debug.Stack()))...)
			metrics.Decisions.WithLabelValues(string(h.Webhook), metrics.ResultError).Inc()
			http.Error(w, "ksguard: internal error while judging the request; see ksguard's log", http.StatusInternalServerError)
		}
	}()

	review, err := readReview(w, r)
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			he = &httpError{Code: http.StatusBadRequest, Message: err.Error()}
		}
		h.Log.Info("bad request", append(kv, "result", metrics.ResultError, "code", he.Code, "error", he.Message, "remote", r.RemoteAddr)...)
		metrics.Decisions.WithLabelValues(string(h.Webhook), metrics.ResultError).Inc()
		http.Error(w, "ksguard: "+he.Message, he.Code)
		return
	}
	// A review that has been read is answered even while the server shuts
	// down: the request's context is cancelled then, but a drain is the
	// point of a graceful shutdown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), DecisionTimeout)
	defer cancel()
	resp, result := h.respond(ctx, review.Request, kv)
	out, err := json.Marshal(admission.ReviewOf(resp))
	if err != nil { // cannot happen with these types; answer rather than guess
		h.Log.Error(err, "encoding the response", kv...)
		http.Error(w, "ksguard: encoding the response failed", http.StatusInternalServerError)
		return
	}
	metrics.Decisions.WithLabelValues(string(h.Webhook), result).Inc()
	metrics.DecisionDuration.WithLabelValues(string(h.Webhook)).Observe(time.Since(start).Seconds())
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// respond judges one request and logs the decision (with kv, the values
// every line of the request carries). It returns the response and the
// result for the metrics.
func (h *Handler) respond(ctx context.Context, ar *admissionv1.AdmissionRequest, kv []any) (*admissionv1.AdmissionResponse, string) {
	kv = append(kv, "uid", ar.UID, "operation", ar.Operation, "namespace", ar.Namespace, "name", ar.Name,
		"user", ar.UserInfo.Username, "dryRun", ar.DryRun != nil && *ar.DryRun)
	req, err := admission.ToRequest(ar, h.Host())
	if err != nil {
		h.Log.Info("decision", append(kv, "result", metrics.ResultError, "error", err.Error())...)
		return admission.ErrorResponse(ar.UID, http.StatusBadRequest, "cannot judge this request: "+err.Error()), metrics.ResultError
	}
	d, err := h.Decider.Decide(ctx, req)
	if err != nil {
		h.Log.Error(err, "decision failed; the write is refused", append(kv, "result", metrics.ResultError)...)
		return admission.ErrorResponse(ar.UID, http.StatusInternalServerError,
			"the policy failed, so the write is refused: "+err.Error()+" (reproduce it with `ksguard eval`, then fix the policy)"), metrics.ResultError
	}
	resp, err := admission.Response(ar.UID, h.Webhook, d)
	if err != nil {
		h.Log.Error(err, "building the response; the write is refused", append(kv, "result", metrics.ResultError)...)
		return admission.ErrorResponse(ar.UID, http.StatusInternalServerError, err.Error()), metrics.ResultError
	}
	if src := d.Source(); src != "" {
		metrics.DecisionSources.WithLabelValues(string(h.Webhook), src).Inc()
	}
	if p, ok := h.Decider.(preparer); ok && h.Webhook == admission.Mutating && len(resp.Patch) > 0 {
		p.Prepare(req, d) // the API server sends the mutated object to the validating webhook next
	}
	result := resultOf(resp, d)
	kv = append(kv, "result", result)
	if resp.Result != nil && resp.Result.Message != "" {
		kv = append(kv, "message", resp.Result.Message)
	}
	if len(resp.Warnings) > 0 {
		kv = append(kv, "warnings", resp.Warnings)
	}
	if len(resp.Patch) > 0 {
		paths := make([]string, len(d.Edits))
		for i, e := range d.Edits {
			paths[i] = e.Path.String()
		}
		kv = append(kv, "edited", paths)
	}
	h.Log.Info("decision", kv...)
	return resp, result
}

// resultOf names the outcome of a response for logs and metrics.
func resultOf(resp *admissionv1.AdmissionResponse, d validate.Decision) string {
	switch {
	case !resp.Allowed:
		return metrics.ResultDenied
	case len(resp.Patch) > 0:
		return metrics.ResultMutated
	case len(d.Waived) > 0:
		return metrics.ResultWarned
	}
	return metrics.ResultAllowed
}

// readReview reads and checks the request body.
func readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, error) {
	if r.Method != http.MethodPost {
		return nil, &httpError{Code: http.StatusMethodNotAllowed, Message: "only POST is served here, got " + r.Method}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &httpError{Code: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))}
	}
	if r.Body == nil {
		return nil, &httpError{Code: http.StatusBadRequest, Message: "the request has no body: send an AdmissionReview"}
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxRequestBytes), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &httpError{Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", MaxRequestBytes)}
		}
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if len(body) == 0 {
		return nil, errors.New("the request body is empty: send an AdmissionReview")
	}
	return admission.DecodeReview(body, false)
}

// readBody reads r whole, in one allocation when the request says its
// length (as the API server does) and that length is within the bound.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length <= 0 || length > MaxRequestBytes {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1) // +1: the read that finds the end does not grow it
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than it said: read the rest the usual way
			rest, err := io.ReadAll(r)
			return append(b, rest...), err
		}
	}
}
