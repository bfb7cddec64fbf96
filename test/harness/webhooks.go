package harness

import (
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WebhookConfigurations returns ksguard's mutating and validating webhook
// configurations for the ConfigMap namespace/name, as the chart installs
// them: scoped by a namespaceSelector and a matchCondition on the name so
// that no other ConfigMap ever waits on ksguard, failurePolicy Fail, and
// reinvocationPolicy IfNeeded on the mutating one. The service reference
// (path without a leading slash, as envtest joins it to a URL) is replaced
// by envtest with the local address.
func WebhookConfigurations(namespace, name string) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	ifNeeded := admissionregistrationv1.IfNeededReinvocationPolicy
	scope := admissionregistrationv1.NamespacedScope
	timeout := int32(10)
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}}
	conditions := []admissionregistrationv1.MatchCondition{{
		Name:       "guarded-configmap",
		Expression: fmt.Sprintf("request.name == %q", name),
	}}
	rule := func(ops ...admissionregistrationv1.OperationType) []admissionregistrationv1.RuleWithOperations {
		return []admissionregistrationv1.RuleWithOperations{{
			Operations: ops,
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}, Scope: &scope,
			},
		}}
	}
	svc := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Namespace: "ksguard-system", Name: "ksguard", Path: &path,
		}}
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "ksguard"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "mutate.ksguard.io",
			ClientConfig:            svc("mutate"),
			Rules:                   rule(admissionregistrationv1.Create, admissionregistrationv1.Update),
			NamespaceSelector:       selector,
			MatchConditions:         conditions,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy:      &ifNeeded,
		}},
	}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "ksguard"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.ksguard.io",
			ClientConfig:            svc("validate"),
			Rules:                   rule(admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete),
			NamespaceSelector:       selector,
			MatchConditions:         conditions,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	return m, v
}

// StandInDeployment returns a Deployment that stands in for ks-apiserver
// (or ks-agent): no kubelet runs in the test cluster, so the pod template
// changing is what a restart looks like.
func StandInDeployment(namespace, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "ks-apiserver", Image: "kubesphere/ks-apiserver:v3.4.1"}}},
			},
		},
	}
}
