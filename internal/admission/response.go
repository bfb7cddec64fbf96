package admission

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/internal/validate"
)

// Webhook says which of ksguard's two webhooks a response is for.
type Webhook string

const (
	// Mutating is the webhook that edits accessTokenMaxAge.
	Mutating Webhook = "mutate"
	// Validating is the webhook that denies drift. It runs after every
	// mutating webhook, so it also denies when an edit ksguard asked for is
	// missing (a later mutating webhook undid it).
	Validating Webhook = "validate"
)

// Response builds the AdmissionResponse of webhook w for decision d.
//
// The mutating response carries the patch and the decision's denials; the
// validating response carries the denials, plus one for each edit still
// needed.
func Response(uid types.UID, w Webhook, d validate.Decision) (*admissionv1.AdmissionResponse, error) {
	resp := &admissionv1.AdmissionResponse{UID: uid, Allowed: d.Allowed, Warnings: d.Warnings}
	denials := d.Denials
	switch w {
	case Mutating:
		if len(d.Patch) > 0 && d.Allowed {
			patch, err := json.Marshal(d.Patch)
			if err != nil {
				return nil, fmt.Errorf("encoding the patch: %w", err)
			}
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
		}
	case Validating:
		if len(d.Patch) > 0 {
			for _, e := range d.Edits {
				denials = append(denials, fmt.Sprintf("%s must be %s; a mutating webhook after ksguard's changed it back, or ksguard's mutating webhook did not run: set it to %s", e.Path, e.Value, e.Value))
			}
		}
	default:
		return nil, fmt.Errorf("unknown webhook %q", w)
	}
	if len(denials) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: DenialMessage(denials),
		}
	}
	return resp, nil
}

// DenialMessage joins denials into the one message a client shows.
func DenialMessage(denials []string) string {
	if len(denials) == 1 {
		return "ksguard: " + denials[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ksguard: %d problems:", len(denials))
	for i, m := range denials {
		fmt.Fprintf(&b, " (%d) %s", i+1, m)
	}
	return b.String()
}
