package kscluster

import (
	"encoding/base64"
	"strings"
	"testing"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: m
  cluster:
    server: https://10.0.0.1:6443
users:
- name: m
  user:
    token: abc
contexts:
- name: m
  context: {cluster: m, user: m}
current-context: m
`

func TestRESTConfig(t *testing.T) {
	for _, tc := range []struct {
		name, encoded string
		set           bool
		host          string
		problem       string
	}{
		{name: "a kubeconfig", set: true, encoded: base64.StdEncoding.EncodeToString([]byte(kubeconfig)), host: "https://10.0.0.1:6443"},
		{name: "none", problem: "has no spec.connection.kubeconfig"},
		{name: "not base64", set: true, encoded: "%%%", problem: "is not base64"},
		{name: "not a kubeconfig", set: true, encoded: base64.StdEncoding.EncodeToString([]byte("- a list")), problem: "cannot be used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := New()
			cl.SetName("member")
			if tc.set {
				cl.Object["spec"] = map[string]any{"connection": map[string]any{"kubeconfig": tc.encoded}}
			}
			cfg, err := RESTConfig(cl)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) || !strings.Contains(err.Error(), "Cluster member") {
					t.Fatalf("error %v, want one naming the Cluster and saying %q", err, tc.problem)
				}
				return
			}
			if err != nil || cfg.Host != tc.host {
				t.Fatalf("%v, %v; want host %s", cfg, err, tc.host)
			}
		})
	}
}

func TestIsHost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{"host", map[string]string{HostLabel: ""}, true},
		{"member", nil, false},
		{"other label", map[string]string{"cluster-role.kubesphere.io/member": ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := New()
			cl.SetLabels(tc.labels)
			if IsHost(cl) != tc.want {
				t.Errorf("IsHost = %v, want %v", !tc.want, tc.want)
			}
		})
	}
}
