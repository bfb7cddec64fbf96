package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// findingCase is a guarded ConfigMap whose kubesphere.yaml alone would
// pass, made ambiguous by one finding of the parser.
type findingCase struct {
	name string
	// data is the ConfigMap's data.
	data func(t *testing.T) map[string]string
	// says is what the denial must say.
	says string
}

// findingCases: the findings that are about the ConfigMap rather than the
// document's text, each a bypass of the guard if it were let through.
func findingCases() []findingCase {
	return []findingCase{{
		name: "shadowing-data-key: kubesphere.json with another jwtSecret beside a good kubesphere.yaml",
		data: func(t *testing.T) map[string]string {
			return map[string]string{
				"kubesphere.yaml": document(t, hostJWT, "0s"),
				"kubesphere.json": fmt.Sprintf(`{"authentication": {"jwtSecret": %q, "oauthOptions": {"accessTokenMaxAge": "2h"}}}`, driftJWT),
			}
		},
		says: "data key kubesphere.json sits beside kubesphere.yaml",
	}, {
		name: "missing-document: no kubesphere.yaml",
		data: func(t *testing.T) map[string]string {
			return map[string]string{"config.yaml": document(t, hostJWT, "0s")}
		},
		says: "the ConfigMap has no kubesphere.yaml data key",
	}, {
		name: "too-large: a good document padded beyond the size limit",
		data: func(t *testing.T) map[string]string {
			pad := "# " + strings.Repeat("x", 1000) + "\n"
			doc := document(t, hostJWT, "0s")
			return map[string]string{"kubesphere.yaml": doc + strings.Repeat(pad, validate.MaxDocumentBytes/len(pad)+1)}
		},
		says: "more than the 1048576 ksguard reads",
	}}
}

// TestFindingsDeny: every finding that is about the ConfigMap denies the
// write, judged by the embedded policies at ConfigMap level, and through
// the API server by ksguard serve, where the stored ConfigMap stays as it
// was.
func TestFindingsDeny(t *testing.T) {
	policy, err := validate.LoadPolicy(ctx, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	ev := validate.NewEvaluator(policy, validate.DefaultOptions(), fp)
	startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none")
	c, _ := newClient(t)
	if err := put(c, document(t, hostJWT, "0s")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range findingCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("the policy denies the ConfigMap", func(t *testing.T) {
				stored := storedConfig(t)
				cm := stored.DeepCopy()
				cm.Data = tc.data(t)
				for _, op := range []struct {
					name     string
					old, obj *corev1.ConfigMap
				}{{validate.OperationCreate, nil, cm}, {validate.OperationUpdate, stored, cm}} {
					d, err := ev.Decide(ctx, validate.Request{
						UID: "findings", Operation: op.name, Namespace: guardedNS, Name: guardedName,
						User:   validate.UserInfo{Username: "e2e"},
						Object: op.obj, OldObject: op.old,
						Host: validate.HostSecret{Value: []byte(hostJWT), Source: "test"},
					})
					if err != nil {
						t.Fatal(err)
					}
					if d.Allowed || !strings.Contains(strings.Join(d.Denials, "\n"), tc.says) {
						t.Errorf("%s: allowed=%v, denials %q; want a denial saying %q", op.name, d.Allowed, d.Denials, tc.says)
					}
					assertNoSecret(t, "the decision", strings.Join(append(d.Denials, d.Warnings...), "\n"))
				}
			})
			t.Run("the API server refuses it with ksguard's message", func(t *testing.T) {
				before := storedConfig(t)
				cm := before.DeepCopy()
				cm.Data = tc.data(t)
				assertDenied(t, c.Update(ctx, cm), tc.says)
				if after := storedConfig(t); after.ResourceVersion != before.ResourceVersion {
					t.Errorf("the refused write was stored (resourceVersion %s, was %s)", after.ResourceVersion, before.ResourceVersion)
				}
				// A server-side dry-run is judged the same way.
				cm = before.DeepCopy()
				cm.Data = tc.data(t)
				assertDenied(t, c.Update(ctx, cm, client.DryRunAll), tc.says)
			})
		})
	}
}
