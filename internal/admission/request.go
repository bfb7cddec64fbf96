package admission

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksguard/ksguard/internal/validate"
)

// ErrNotConfigMap is returned for a request about something other than a
// core/v1 ConfigMap.
var ErrNotConfigMap = fmt.Errorf("ksguard judges core/v1 ConfigMaps only")

// ToRequest converts an AdmissionRequest into a validate.Request. host is the
// host cluster's jwtSecret, which the review does not carry.
func ToRequest(ar *admissionv1.AdmissionRequest, host validate.HostSecret) (validate.Request, error) {
	if ar == nil {
		return validate.Request{}, fmt.Errorf("the AdmissionReview has no request")
	}
	if ar.Kind.Group != "" || ar.Kind.Kind != "ConfigMap" {
		return validate.Request{}, fmt.Errorf("%w, got %s: check the webhook configuration's rules", ErrNotConfigMap, ar.Kind.String())
	}
	req := validate.Request{
		UID:       string(ar.UID),
		Operation: string(ar.Operation),
		DryRun:    ar.DryRun != nil && *ar.DryRun,
		User:      validate.UserInfo{Username: ar.UserInfo.Username, Groups: ar.UserInfo.Groups},
		Namespace: ar.Namespace,
		Name:      ar.Name,
		Host:      host,
	}
	var err error
	if req.Object, err = configMap(ar.Object, "object"); err != nil {
		return validate.Request{}, err
	}
	if req.OldObject, err = configMap(ar.OldObject, "oldObject"); err != nil {
		return validate.Request{}, err
	}
	if req.Name == "" && req.Object != nil {
		req.Name = req.Object.Name // CREATE with generateName
	}
	return req, nil
}

// configMap decodes a raw object; an empty one is nil.
func configMap(raw runtime.RawExtension, field string) (*validate.ConfigMap, error) {
	if len(raw.Raw) == 0 || string(raw.Raw) == "null" {
		return nil, nil
	}
	cm := &validate.ConfigMap{}
	if err := json.Unmarshal(raw.Raw, cm); err != nil {
		return nil, fmt.Errorf("decoding request.%s as a ConfigMap: %w", field, err)
	}
	return cm, nil
}
