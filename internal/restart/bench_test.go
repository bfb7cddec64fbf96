package restart

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/validate/validatetest"
)

// BenchmarkStoredChange is ksguard's own background work for one stored
// change of the guarded ConfigMap, once the webhooks judged the write: the
// config hash, the settings remembered for the change's description, and
// the audit (the same policies, as an UPDATE from the audit user). The
// watch event's decoding by client-go comes on top (docs/BENCHMARKS.md).
func BenchmarkStoredChange(b *testing.B) {
	ctx := context.Background()
	ev := validatetest.NewEvaluator(b)
	host := func() validate.HostSecret { return validate.HostSecret{Value: []byte(testSecret), Source: "test"} }
	a := &Auditor{Evaluator: ev, Host: host, Log: logr.Discard()}
	h, err := NewHasher([]byte("a-key-of-32-random-characters-00"))
	if err != nil {
		b.Fatal(err)
	}
	rec := &events.FakeRecorder{}
	doc := "authentication:\n  jwtSecret: \"" + testSecret + "\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n" +
		strings.Repeat("monitoring:\n  endpoint: http://prometheus-operated.kubesphere-monitoring-system.svc:9090\n", 1) +
		"terminal:\n  timeout: TIMEOUT\n"
	config := func(n int) *corev1.ConfigMap {
		cm := testConfig()
		cm.Namespace, cm.Name = "kubesphere-system", "kubesphere-config"
		cm.Data["kubesphere.yaml"] = strings.Replace(doc, "TIMEOUT", strconv.Itoa(n), 1)
		return cm
	}
	stored := config(0)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		b.StopTimer()
		cm := config(n)
		// The validating webhook judged the write before it was stored.
		if d, err := ev.Decide(ctx, validate.Request{Operation: validate.OperationUpdate, Namespace: cm.Namespace, Name: cm.Name,
			User: validate.UserInfo{Username: "admin", Groups: []string{"system:masters"}}, Object: cm, OldObject: stored, Host: host()}); err != nil || !d.Allowed {
			b.Fatalf("webhook decision: %v %+v", err, d.Denials)
		}
		stored = cm
		b.StartTimer()
		_ = h.Hash(cm)
		if _, ok := ev.ConfigSettings(cm); !ok {
			b.Fatal("no settings")
		}
		if rewritten, err := a.Audit(ctx, cm, rec); err != nil || rewritten {
			b.Fatalf("audit: %v %v", err, rewritten)
		}
	}
}
