package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The guarded object.
const (
	guardedNS      = "kubesphere-system"
	guardedName    = "kubesphere-config"
	hostSecretName = "ksguard-host-jwt"
)

// memberDoc is a KubeSphere v3.4 member's kubesphere.yaml as ks-installer
// renders it, with placeholders.
const memberDoc = `authentication:
  authenticateRateLimiterMaxTries: 10
  authenticateRateLimiterDuration: 10m0s
  loginHistoryRetentionPeriod: 168h
  maximumClockSkew: 10s
  multipleLogin: True
  kubectlImage: kubesphere/kubectl:v1.22.0
  jwtSecret: "JWT_SECRET"
  oauthOptions:
    accessTokenMaxAge: MAX_AGE   # keep this comment
    clients:
    - name: kubesphere
      secret: kubesphere
      redirectURIs:
      - '*'
network:
  ippoolType: none
multicluster:
  clusterRole: member
  enable: false
monitoring:
  endpoint: http://prometheus-operated.kubesphere-monitoring-system.svc:9090
  enableGPUMonitoring: false
terminal:
  image: alpine:3.14
  timeout: TIMEOUT
`

// document returns write n's kubesphere.yaml: an even n sets
// accessTokenMaxAge to 2h (a guard edits it to 0s), an odd n is a harmless
// change (the terminal timeout) of a document already at 0s. Every n
// gives a different text, so every write is stored.
func document(secret string, n int) string {
	maxAge := "0s"
	if n%2 == 0 {
		maxAge = "2h"
	}
	return strings.NewReplacer("JWT_SECRET", secret, "MAX_AGE", maxAge, "TIMEOUT", fmt.Sprint(600+n)).Replace(memberDoc)
}

// mutated is write n's document as a guard stores it: accessTokenMaxAge
// at 0s, every other byte as written (the in-place edit).
func mutated(secret string, n int) string {
	return strings.Replace(document(secret, n), "accessTokenMaxAge: 2h", "accessTokenMaxAge: 0s", 1)
}

// write updates the guarded ConfigMap with write n's document and returns
// how long the API server took to answer.
func (r *runner) write(ctx context.Context) (time.Duration, error) {
	r.n++
	cm := r.cm.DeepCopy()
	cm.Data = map[string]string{"kubesphere.yaml": document(r.cfg.hostSecret, r.n)}
	start := time.Now()
	err := r.cluster.Client.Update(ctx, cm)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("write %d: %w", r.n, err)
	}
	r.cm = cm
	return took, nil
}

func guardedConfigMap(secret string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: guardedName},
		Data:       map[string]string{"kubesphere.yaml": document(secret, 1)},
	}
}
