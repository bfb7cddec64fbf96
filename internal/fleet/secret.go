package fleet

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksguard/ksguard/internal/hostsecret"
)

// FieldManager is fleet's field manager for server-side apply on members.
const FieldManager = "ksguard-fleet"

// managedByLabel marks the Secrets fleet writes.
const managedByLabel = "app.kubernetes.io/managed-by"

// syncSecret makes the member's ksguard host Secret ref hold host under
// key jwtSecret, read as ksguard serve reads it (one trailing newline
// ignored): a Get, and a server-side apply of that key alone (forced: the
// host's value wins over a hand-copied one) when it differs. With dryRun
// nothing is stored, and a needed write that would be allowed is Stale.
// The Secret's namespace is never created: without it ksguard is not
// installed on the member.
func syncSecret(ctx context.Context, cs kubernetes.Interface, ref types.NamespacedName, host []byte, dryRun bool) Status {
	st := Status{Secret: ref.String()}
	cur, err := cs.CoreV1().Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		if bytes.Equal(hostsecret.FromSecret(cur).Value, host) {
			st.State = InSync
			return st
		}
	case !apierrors.IsNotFound(err):
		return failed(st, "reading Secret "+ref.String(), err)
	}
	ac := corev1ac.Secret(ref.Name, ref.Namespace).
		WithLabels(map[string]string{managedByLabel: FieldManager}).
		WithData(map[string][]byte{hostsecret.Key: host})
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := cs.CoreV1().Secrets(ref.Namespace).Apply(ctx, ac, opts); err != nil {
		return failed(st, "writing Secret "+ref.String(), err)
	}
	if dryRun {
		st.State = Stale
		st.Reason = fmt.Sprintf("Secret %s does not hold the host's jwtSecret (ksguard fleet writes it)", ref)
		return st
	}
	st.State = InSync
	st.wrote = append(st.wrote, written{kind: "secret", object: "Secret " + ref.String()})
	return st
}

// failed turns the member's answer to doing what into a state. Not found
// means the Secret's namespace is missing (an apply creates the Secret
// itself), so ksguard is not installed.
func failed(st Status, what string, err error) Status {
	switch {
	case apierrors.IsNotFound(err):
		ns, _, _ := strings.Cut(st.Secret, "/")
		st.State = NotInstalled
		st.Reason = fmt.Sprintf("namespace %s does not exist on the member: install ksguard there (its chart, in namespace %s) and fleet writes the Secret", ns, ns)
	case unreachable(err):
		st.State = Unreachable
		st.Reason = fmt.Sprintf("%s: %v (check the Cluster's spec.connection.kubeconfig and the member's API server; retried with backoff)", what, err)
	default:
		st.State = Refused
		st.Reason = fmt.Sprintf("%s: %v", what, err)
	}
	return st
}
