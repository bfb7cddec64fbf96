package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/validate/validatetest"
)

// benchDocFile is a KubeSphere v3.4.1 member's kubesphere.yaml as
// ks-installer renders it (internal/validate's test document), and
// benchHost the host jwtSecret it carries.
const (
	benchDocFile = "../validate/testdata/documents/v3.4.1-member-rendered.yaml"
	benchHost    = "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU"
)

// benchWriteDoc is write n's document, as test/load writes them: an even n
// sets 2h (edited to 0s), an odd n is a harmless change (the terminal
// timeout).
func benchWriteDoc(b *testing.B, doc string, n int) string {
	age := "accessTokenMaxAge: 0"
	if n%2 == 0 {
		age = "accessTokenMaxAge: 2h"
	}
	out := strings.NewReplacer("accessTokenMaxAge: 0", age, "timeout: 600", "timeout: "+strconv.Itoa(600+n)).Replace(doc)
	if out == doc || !strings.Contains(out, benchHost) {
		b.Fatalf("%s is not the document the benchmark varies", benchDocFile)
	}
	return out
}

// benchReview encodes an UPDATE review of the guarded ConfigMap as the API
// server sends it: metadata with managed fields, the new and old objects.
func benchReview(b *testing.B, uid string, doc, old string, rv int) []byte {
	b.Helper()
	cm := func(text string, rv int) []byte {
		raw, err := json.Marshal(corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "kubesphere-config", Namespace: "kubesphere-system",
				UID: "6a3c1e5e-4d0b-4e8f-9b8e-1c2d3e4f5a6b", ResourceVersion: strconv.Itoa(rv),
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate,
					APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{"f:kubesphere.yaml":{}}}`)}}}},
			Data: map[string]string{"kubesphere.yaml": text},
		})
		if err != nil {
			b.Fatal(err)
		}
		return raw
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admission.APIVersion, Kind: admission.Kind},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID("uid-" + uid), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			Operation: admissionv1.Update, Namespace: "kubesphere-system", Name: "kubesphere-config",
			UserInfo: authenticationv1.UserInfo{Username: "admin", Groups: []string{"system:masters", "system:authenticated"}},
			Object:   runtime.RawExtension{Raw: cm(doc, rv)}, OldObject: runtime.RawExtension{Raw: cm(old, rv)},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkServeWrite is one write as the API server makes it, through
// both handlers (JSON in, decision, JSON out, the decision log line in
// production JSON to io.Discard): the mutating webhook on a fresh text
// whose old object is the previous stored write, then the validating
// webhook on the mutated text. Writes alternate between a 2h document
// (edited) and a harmless change, as test/load's, of internal/validate's
// v3.4.1 member render.
func BenchmarkServeWrite(b *testing.B) {
	raw, err := os.ReadFile(benchDocFile)
	if err != nil {
		b.Fatal(err)
	}
	doc := string(raw)
	ev := validatetest.NewEvaluator(b)
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zapr.NewLogger(zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel)))
	host := func() validate.HostSecret { return validate.HostSecret{Value: []byte(benchHost), Source: "secret"} }
	mutate := &Handler{Webhook: admission.Mutating, Decider: ev, Host: host, Log: log}
	valid := &Handler{Webhook: admission.Validating, Decider: ev, Host: host, Log: log}
	serve := func(h *Handler, body []byte) *admissionv1.AdmissionResponse {
		r := httptest.NewRequest(http.MethodPost, "/"+string(h.Webhook), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Response == nil || !out.Response.Allowed {
			b.Fatalf("%s: %v %s", h.Webhook, err, w.Body)
		}
		return out.Response
	}
	stored := benchWriteDoc(b, doc, 1)
	b.ReportAllocs()
	n := 1
	for b.Loop() {
		n++
		b.StopTimer()
		in := benchReview(b, strconv.Itoa(n), benchWriteDoc(b, doc, n), stored, n)
		b.StartTimer()
		resp := serve(mutate, in)
		text := benchWriteDoc(b, doc, n)
		if len(resp.Patch) > 0 {
			b.StopTimer()
			var ops []validate.PatchOperation
			if err := json.Unmarshal(resp.Patch, &ops); err != nil || len(ops) != 1 {
				b.Fatalf("patch %s: %v", resp.Patch, err)
			}
			text = ops[0].Value.(string)
			in = benchReview(b, strconv.Itoa(n), text, stored, n)
			b.StartTimer()
		}
		serve(valid, in)
		stored = text
	}
}
