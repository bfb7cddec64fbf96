package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/validate/validatetest"
)

const (
	hostSecret  = "host-Secret-9f8e7d6c"
	driftSecret = "drifted-Secret-1a2b3c"
)

func document(secret, maxAge string) string {
	return "authentication:\n  jwtSecret: \"" + secret + "\"\n  oauthOptions:\n    accessTokenMaxAge: " + maxAge + "\n"
}

// reviewBody encodes an AdmissionReview for a CREATE of the guarded
// ConfigMap with doc as its kubesphere.yaml.
func reviewBody(t *testing.T, doc string) []byte {
	t.Helper()
	cm := corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "kubesphere-config", Namespace: "kubesphere-system"},
		Data:       map[string]string{"kubesphere.yaml": doc},
	}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admission.APIVersion, Kind: admission.Kind},
		Request: &admissionv1.AdmissionRequest{
			UID: "uid-1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			Operation: admissionv1.Create, Namespace: "kubesphere-system", Name: "kubesphere-config",
			Object: runtime.RawExtension{Raw: raw},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newHandler returns a handler with the embedded policies and a log buffer.
func newHandler(t *testing.T, w admission.Webhook) (*Handler, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	log := funcr.New(func(prefix, args string) { logs.WriteString(prefix + args + "\n") }, funcr.Options{})
	return &Handler{
		Webhook: w,
		Decider: validatetest.NewEvaluator(t),
		Host:    func() validate.HostSecret { return validate.HostSecret{Value: []byte(hostSecret), Source: "test"} },
		Log:     log,
	}, logs
}

type panicky struct{}

func (panicky) Decide(context.Context, validate.Request) (validate.Decision, error) {
	panic("boom")
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name        string
		webhook     admission.Webhook
		method      string
		contentType string
		body        func(t *testing.T) []byte
		panics      bool
		code        int    // HTTP status
		bodyHas     string // for non-200 answers
		allowed     bool
		patched     bool
		resultCode  int32
		messageHas  string
	}{
		{name: "member config is mutated", webhook: admission.Mutating, body: func(t *testing.T) []byte { return reviewBody(t, document(hostSecret, "2h")) },
			code: 200, allowed: true, patched: true},
		{name: "drift is denied", webhook: admission.Validating, body: func(t *testing.T) []byte { return reviewBody(t, document(driftSecret, "0s")) },
			code: 200, resultCode: 403, messageHas: "does not match the host cluster's jwtSecret"},
		{name: "good config is allowed", webhook: admission.Validating, body: func(t *testing.T) []byte { return reviewBody(t, document(hostSecret, "0s")) },
			code: 200, allowed: true},
		{name: "GET is refused", webhook: admission.Validating, method: http.MethodGet, body: func(*testing.T) []byte { return nil },
			code: 405, bodyHas: "only POST"},
		{name: "wrong content type", webhook: admission.Validating, contentType: "text/plain", body: func(*testing.T) []byte { return []byte("{}") },
			code: 415, bodyHas: "Content-Type must be application/json"},
		{name: "empty body", webhook: admission.Validating, body: func(*testing.T) []byte { return nil },
			code: 400, bodyHas: "the request body is empty"},
		{name: "malformed JSON", webhook: admission.Validating, body: func(*testing.T) []byte { return []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": `) },
			code: 400, bodyHas: "decoding the AdmissionReview"},
		{name: "wrong type", webhook: admission.Validating, body: func(*testing.T) []byte { return []byte(`{"request": {"uid": 5}}`) },
			code: 400, bodyHas: "decoding the AdmissionReview"},
		{name: "v1beta1 review", webhook: admission.Validating, body: func(*testing.T) []byte {
			return []byte(`{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "u"}}`)
		}, code: 400, bodyHas: "list only v1"},
		{name: "no request", webhook: admission.Validating, body: func(*testing.T) []byte {
			return []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}`)
		},
			code: 400, bodyHas: "has no request"},
		{name: "oversized body", webhook: admission.Validating, body: func(*testing.T) []byte { return bytes.Repeat([]byte(" "), MaxRequestBytes+1) },
			code: 413, bodyHas: "larger than"},
		{name: "not a ConfigMap", webhook: admission.Validating, body: func(*testing.T) []byte {
			return []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "operation": "CREATE"}}`)
		}, code: 200, resultCode: 400, messageHas: "ksguard judges core/v1 ConfigMaps only"},
		{name: "object of the wrong shape", webhook: admission.Validating, body: func(*testing.T) []byte {
			return []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": {"version": "v1", "kind": "ConfigMap"}, "operation": "CREATE", "object": {"data": {"kubesphere.yaml": 7}}}}`)
		}, code: 200, resultCode: 400, messageHas: "decoding request.object as a ConfigMap"},
		{name: "panic is a 500", webhook: admission.Validating, panics: true, body: func(t *testing.T) []byte { return reviewBody(t, document(hostSecret, "0s")) },
			code: 500, bodyHas: "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := newHandler(t, tc.webhook)
			if tc.panics {
				h.Decider = panicky{}
			}
			method, ct := tc.method, tc.contentType
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json"
			}
			r := httptest.NewRequest(method, "/"+string(tc.webhook), bytes.NewReader(tc.body(t)))
			r.Header.Set("Content-Type", ct)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if strings.Contains(logs.String()+w.Body.String(), hostSecret) || strings.Contains(logs.String()+w.Body.String(), driftSecret) {
				t.Errorf("a secret leaked into the answer or the log:\n%s\n%s", w.Body, logs)
			}
			if tc.code != 200 {
				if !strings.Contains(w.Body.String(), tc.bodyHas) {
					t.Errorf("body %q does not say %q", w.Body, tc.bodyHas)
				}
				return
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			resp := out.Response
			if out.APIVersion != admission.APIVersion || resp == nil || resp.UID == "" {
				t.Fatalf("answer = %s", w.Body)
			}
			if resp.Allowed != tc.allowed || (len(resp.Patch) > 0) != tc.patched {
				t.Errorf("allowed=%v patched=%v, want %v %v: %s", resp.Allowed, len(resp.Patch) > 0, tc.allowed, tc.patched, w.Body)
			}
			if tc.resultCode != 0 && (resp.Result == nil || resp.Result.Code != tc.resultCode || !strings.Contains(resp.Result.Message, tc.messageHas)) {
				t.Errorf("result = %+v, want %d %q", resp.Result, tc.resultCode, tc.messageHas)
			}
			if !strings.Contains(logs.String(), `"msg"="decision"`) {
				t.Errorf("no decision line in the log:\n%s", logs)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	body := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		name   string
		length int64
	}{
		{"length given", 5000},
		{"length unknown", -1},
		{"length said shorter than the body", 100},
		{"length said longer than the body", 9000},
		{"length over the bound", MaxRequestBytes + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(body), tc.length)
			if err != nil || string(got) != body {
				t.Errorf("read %d bytes, %v; want the whole body", len(got), err)
			}
		})
	}
}
