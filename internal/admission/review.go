package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// APIVersion and Kind are what an AdmissionReview ksguard reads must say.
const (
	APIVersion = "admission.k8s.io/v1"
	Kind       = "AdmissionReview"
)

// DecodeReview decodes an AdmissionReview request and checks its shape: an
// admission.k8s.io/v1 AdmissionReview (a review that names no apiVersion
// and kind is taken to be one) with a request that has a uid. With
// strict, unknown fields are an error (for files people write); the
// webhook server is lenient, so a newer API server's fields do not break it.
func DecodeReview(b []byte, strict bool) (*admissionv1.AdmissionReview, error) {
	review := &admissionv1.AdmissionReview{}
	if strict {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(review); err != nil {
			return nil, fmt.Errorf("decoding the AdmissionReview: %w", err)
		}
		if dec.More() {
			return nil, errors.New("decoding the AdmissionReview: trailing data after the JSON object")
		}
	} else if err := json.Unmarshal(b, review); err != nil { // reads b in place (a Decoder copies it), and refuses trailing data too
		return nil, fmt.Errorf("decoding the AdmissionReview: %w", err)
	}
	if (review.APIVersion != "" || review.Kind != "") && (review.APIVersion != APIVersion || review.Kind != Kind) {
		return nil, fmt.Errorf("expected apiVersion %s, kind %s, got %q, %q: list only v1 in the webhook configuration's admissionReviewVersions", APIVersion, Kind, review.APIVersion, review.Kind)
	}
	if review.Request == nil {
		return nil, errors.New("the AdmissionReview has no request")
	}
	if review.Request.UID == "" {
		return nil, errors.New("the AdmissionReview's request has no uid")
	}
	return review, nil
}

// ErrorResponse is the response to a request ksguard could not judge: it is
// refused with code and message.
func ErrorResponse(uid types.UID, code int32, message string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{
		UID:     uid,
		Allowed: false,
		Result:  &metav1.Status{Status: metav1.StatusFailure, Code: code, Message: "ksguard: " + message},
	}
}

// ReviewOf wraps a response in an AdmissionReview, as the API server expects.
func ReviewOf(resp *admissionv1.AdmissionResponse) *admissionv1.AdmissionReview {
	return &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		Response: resp,
	}
}
