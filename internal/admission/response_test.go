package admission

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksguard/ksguard/internal/validate"
)

func TestResponse(t *testing.T) {
	edit := validate.Edit{Path: validate.PathV3AccessTokenMaxAge, Value: "0s"}
	patch := []validate.PatchOperation{{Op: "replace", Path: "/data/kubesphere.yaml", Value: "x"}}
	for _, tc := range []struct {
		name        string
		webhook     Webhook
		d           validate.Decision
		allowed     bool
		patched     bool
		message     string
		warnings    int
		errContains string
	}{
		{name: "mutate allowed with patch", webhook: Mutating, d: validate.Decision{Allowed: true, Edits: []validate.Edit{edit}, Patch: patch, Warnings: []string{"w"}}, allowed: true, patched: true, warnings: 1},
		{name: "mutate denied carries no patch", webhook: Mutating, d: validate.Decision{Denials: []string{"bad"}, Edits: []validate.Edit{edit}, Patch: patch}, message: "ksguard: bad"},
		{name: "validate allowed", webhook: Validating, d: validate.Decision{Allowed: true}, allowed: true},
		{name: "validate denies a missing edit", webhook: Validating, d: validate.Decision{Allowed: true, Edits: []validate.Edit{edit}, Patch: patch},
			message: "ksguard: authentication.oauthOptions.accessTokenMaxAge must be 0s"},
		{name: "several denials are numbered", webhook: Validating, d: validate.Decision{Denials: []string{"one", "two"}}, message: "ksguard: 2 problems: (1) one (2) two"},
		{name: "unknown webhook", webhook: "audit", d: validate.Decision{Allowed: true}, errContains: `unknown webhook "audit"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Response("uid-1", tc.webhook, tc.d)
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) {
					t.Fatalf("err = %v, want %q", err, tc.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.UID != "uid-1" || r.Allowed != tc.allowed || (len(r.Patch) > 0) != tc.patched || len(r.Warnings) != tc.warnings {
				t.Errorf("response = %+v", r)
			}
			if tc.patched && (r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch) {
				t.Errorf("patch type = %v", r.PatchType)
			}
			if tc.message != "" && (r.Result == nil || r.Result.Code != 403 || !strings.HasPrefix(r.Result.Message, tc.message)) {
				t.Errorf("result = %+v, want 403 %q", r.Result, tc.message)
			}
		})
	}
}

func TestToRequest(t *testing.T) {
	cm := map[string]any{"metadata": map[string]any{"name": "kubesphere-config", "namespace": "kubesphere-system"}, "data": map[string]any{"kubesphere.yaml": "a: 1\n"}}
	raw, _ := json.Marshal(cm)
	dry := true
	ar := &admissionv1.AdmissionRequest{
		UID: "u", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Operation: admissionv1.Delete,
		Namespace: "kubesphere-system", Name: "kubesphere-config", DryRun: &dry,
		UserInfo:  authenticationv1.UserInfo{Username: "bob", Groups: []string{"g"}},
		OldObject: runtime.RawExtension{Raw: raw},
	}
	req, err := ToRequest(ar, validate.HostSecret{Problem: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Operation != "DELETE" || !req.DryRun || req.Object != nil || req.OldObject == nil ||
		req.OldObject.Data["kubesphere.yaml"] != "a: 1\n" || req.User.Username != "bob" || req.Host.Problem != "none" {
		t.Errorf("request = %+v", req)
	}
	if _, err := ToRequest(nil, validate.HostSecret{}); err == nil {
		t.Error("a review without a request was accepted")
	}
}
