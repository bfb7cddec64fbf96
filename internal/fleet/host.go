package fleet

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// HostSecret returns the jwtSecret ks-apiserver reads from cm, the host's
// kubesphere-config (v3 or v4 layout, through validate.ReadAsKubeSphere,
// the reading every ksguard decision rests on), or an error saying why
// there is none. The error never holds a value from the document.
func HostSecret(cm *corev1.ConfigMap) ([]byte, error) {
	name := cm.Namespace + "/" + cm.Name
	text, ok := cm.Data[validate.ConfigKey]
	if !ok {
		return nil, fmt.Errorf("the host's ConfigMap %s has no key %s: fleet pushes nothing until it has one", name, validate.ConfigKey)
	}
	schema := validate.ParseDocument([]byte(text)).Schema
	reading, err := validate.ReadAsKubeSphere(schema, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("the host's ConfigMap %s cannot be loaded as ks-apiserver loads it (%w): fleet pushes nothing until it can; `ksguard doctor` says more", name, err)
	}
	if reading.JWTSecret == "" {
		return nil, errors.New("the host's ConfigMap " + name + " sets no jwtSecret: fleet pushes nothing until it does")
	}
	return []byte(reading.JWTSecret), nil
}

// notFoundError says the host's kubesphere-config is missing.
func notFoundError(key types.NamespacedName) error {
	return fmt.Errorf("the host's ConfigMap %s does not exist: is this the KubeSphere host cluster (else point --kubeconfig at it, or --host-config at its config)? Nothing is pushed until it exists", key)
}

// setHostAvailable sets ksguard_fleet_host_secret_available.
func setHostAvailable(ok bool) {
	if ok {
		metrics.FleetHostSecretAvailable.Set(1)
	} else {
		metrics.FleetHostSecretAvailable.Set(0)
	}
}
