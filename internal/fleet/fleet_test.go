package fleet

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ksguard/ksguard/internal/kscluster"
	"github.com/ksguard/ksguard/internal/metrics"
)

const secret = "host-jwt-Aq1Sw2De3Fr4Gt5Hy6Ju7Ki8"

func TestHostSecret(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		noKey     bool
		want      string
		problem   string
	}{
		{name: "v3", doc: "authentication:\n  jwtSecret: \"" + secret + "\"\n", want: secret},
		{name: "v4", doc: "authentication:\n  issuer:\n    url: https://ks-console\n    jwtSecret: \"" + secret + "\"\n", want: secret},
		{name: "v4, the legacy key ignored", doc: "authentication:\n  jwtSecret: other\n  issuer:\n    jwtSecret: \"" + secret + "\"\n", want: secret},
		{name: "no kubesphere.yaml", noKey: true, problem: "has no key kubesphere.yaml"},
		{name: "no jwtSecret", doc: "authentication:\n  maximumClockSkew: 10s\n", problem: "sets no jwtSecret"},
		{name: "not loadable", doc: "authentication: [" + secret + "\n", problem: "cannot be loaded as ks-apiserver loads it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "kubesphere-config"}}
			if !tc.noKey {
				cm.Data = map[string]string{"kubesphere.yaml": tc.doc}
			}
			got, err := HostSecret(cm)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want one saying %q", err, tc.problem)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error holds the secret: %v", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got a value of %d bytes, %v; want the secret", len(got), err)
			}
		})
	}
}

func TestSecretOf(t *testing.T) {
	def := types.NamespacedName{Namespace: "ksguard-system", Name: "ksguard-host-jwt"}
	for _, tc := range []struct {
		name, annotation string
		set              bool
		want             string
		bad              bool
	}{
		{name: "default", want: def.String()},
		{name: "annotated", set: true, annotation: "guard/host-jwt", want: "guard/host-jwt"},
		{name: "no namespace", set: true, annotation: "host-jwt", bad: true},
		{name: "empty name", set: true, annotation: "guard/", bad: true},
		{name: "too many parts", set: true, annotation: "a/b/c", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := kscluster.New()
			cl.SetName("member")
			if tc.set {
				cl.SetAnnotations(map[string]string{SecretAnnotation: tc.annotation})
			}
			got, err := secretOf(cl, def)
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "NAMESPACE/NAME") {
					t.Fatalf("error %v, want one saying what to write", err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("%v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestFailed(t *testing.T) {
	gr := schema.GroupResource{Resource: "secrets"}
	for _, tc := range []struct {
		name string
		err  error
		want State
	}{
		{"namespace missing", apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "ksguard-system"), NotInstalled},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, Unreachable},
		{"unavailable", apierrors.NewServiceUnavailable("down"), Unreachable},
		{"credentials refused", apierrors.NewUnauthorized("who are you"), Unreachable},
		{"timeout", apierrors.NewTimeoutError("slow", 1), Unreachable},
		{"RBAC", apierrors.NewForbidden(gr, "ksguard-host-jwt", errors.New("no")), Refused},
		{"a webhook", apierrors.NewBadRequest("admission webhook denied the request"), Refused},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "X", field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), "X", "bad")}), Refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := failed(Status{Secret: "ksguard-system/ksguard-host-jwt"}, "writing Secret ksguard-system/ksguard-host-jwt", tc.err)
			if st.State != tc.want {
				t.Errorf("state %s, want %s (%s)", st.State, tc.want, st.Reason)
			}
			if st.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	r := &Reconciler{BackoffBase: time.Second, BackoffMax: 10 * time.Second}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second}} {
		got := r.backoff(tc.failures)
		if got < tc.want || got > tc.want+tc.want/5 {
			t.Errorf("after %d failures: %v, want %v plus at most a fifth", tc.failures, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, msg, want string }{
		{"plain", "denied: " + secret + " is wrong", "denied: " + redacted + " is wrong"},
		{"base64", "data: " + "aG9zdC1qd3QtQXExU3cyRGUzRnI0R3Q1SHk2SnU3S2k4", "data: " + redacted},
		{"nothing to hide", "connection refused", "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(tc.msg, secret); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteStatus(t *testing.T) {
	members := []Status{
		{Cluster: "a", State: InSync, Secret: "ksguard-system/ksguard-host-jwt"},
		{Cluster: "bb", State: NotInstalled, Secret: "ksguard-system/ksguard-host-jwt", Reason: "namespace ksguard-system does not exist"},
	}
	for _, tc := range []struct{ format, want string }{
		{FormatTable, "CLUSTER  STATE          SECRET                           REASON\n" +
			"a        in-sync        ksguard-system/ksguard-host-jwt  \n" +
			"bb       not-installed  ksguard-system/ksguard-host-jwt  namespace ksguard-system does not exist\n"},
		{FormatJSON, `[
  {
    "cluster": "a",
    "state": "in-sync",
    "secret": "ksguard-system/ksguard-host-jwt"
  },
  {
    "cluster": "bb",
    "state": "not-installed",
    "secret": "ksguard-system/ksguard-host-jwt",
    "reason": "namespace ksguard-system does not exist"
  }
]
`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteStatus(&b, members, tc.format); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
	if AllInSync(members) || !AllInSync(members[:1]) {
		t.Error("AllInSync")
	}
}

// TestStatesExported: the metrics' state labels are the states.
func TestStatesExported(t *testing.T) {
	states := []State{InSync, Stale, NotInstalled, Unreachable, Refused}
	if len(states) != len(metrics.FleetStates) {
		t.Fatalf("metrics.FleetStates %v, want %v", metrics.FleetStates, states)
	}
	for i, s := range states {
		if string(s) != metrics.FleetStates[i] {
			t.Errorf("metrics.FleetStates[%d] = %s, want %s", i, metrics.FleetStates[i], s)
		}
	}
}
