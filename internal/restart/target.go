package restart

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Target modes of --restart-target.
const (
	// TargetAuto picks ks-apiserver, or ks-agent where that runs the API
	// server (KubeSphere v4 members), in the guarded namespace.
	TargetAuto = "auto"
	// TargetNone turns the restart signal off.
	TargetNone = "none"
)

// autoNames are the Deployments auto looks for, in order.
var autoNames = []string{"ks-apiserver", "ks-agent"}

// Target is the Deployment to roll: auto, none, or one named.
type Target struct {
	// Mode is TargetAuto, TargetNone, or "" for the named Deployment Key.
	Mode string
	// Key names the Deployment (Mode ""), or holds the namespace auto looks in.
	Key types.NamespacedName
}

// Names lists the Deployments the target may be (for RBAC and logs).
func (t Target) Names() []types.NamespacedName {
	switch t.Mode {
	case TargetNone:
		return nil
	case TargetAuto:
		var keys []types.NamespacedName
		for _, n := range autoNames {
			keys = append(keys, types.NamespacedName{Namespace: t.Key.Namespace, Name: n})
		}
		return keys
	}
	return []types.NamespacedName{t.Key}
}

// resolve reads the target Deployment; nil when there is none.
func (t Target) resolve(ctx context.Context, r client.Reader) (*appsv1.Deployment, error) {
	for _, key := range t.Names() {
		d := &appsv1.Deployment{}
		err := r.Get(ctx, key, d)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading Deployment %s: %w", key, err)
		}
		return d, nil
	}
	return nil, nil
}
