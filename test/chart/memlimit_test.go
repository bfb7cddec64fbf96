package chart

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksguard/ksguard/internal/memlimit"
)

// container returns the ksguard container of the chart's Deployment in objs.
func container(t *testing.T, objs []*unstructured.Unstructured) corev1.Container {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		var d struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			t.Fatalf("reading the chart's Deployment: %v", err)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == "ksguard" {
				return c
			}
		}
		t.Fatal("the chart's Deployment has no container ksguard")
	}
	t.Fatal("the chart rendered no Deployment")
	return corev1.Container{}
}

// podEnv returns the environment the kubelet gives container c: literal
// values as they are, and resourceFieldRef limits.memory as c's memory
// limit in bytes (divisor 1). Any other source fails t: the helper would
// need to learn it.
func podEnv(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory" &&
			(e.ValueFrom.ResourceFieldRef.Divisor.IsZero() || e.ValueFrom.ResourceFieldRef.Divisor.Value() == 1):
			limit, ok := c.Resources.Limits[corev1.ResourceMemory]
			if !ok {
				t.Fatalf("env %s takes limits.memory, but the container has no memory limit (the kubelet would give the node's allocatable memory)", e.Name)
			}
			env[e.Name] = strconv.FormatInt(limit.Value(), 10)
		default:
			t.Fatalf("env %s: podEnv does not resolve %+v", e.Name, e.ValueFrom)
		}
	}
	return env
}

// TestMemoryLimitEnv: the chart passes the container's memory limit to
// ksguard as KSGUARD_MEMORY_LIMIT through the downward API, and extraEnv
// (GOMEMLIMIT, say) comes after it.
func TestMemoryLimitEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want map[string]string
	}{
		{name: "default", want: map[string]string{memlimit.EnvContainerLimit: "268435456"}}, // values.yaml: 256Mi
		{name: "default", set: []string{"resources.limits.memory=100M"}, want: map[string]string{memlimit.EnvContainerLimit: "100000000"}},
		{name: "everything", want: map[string]string{memlimit.EnvContainerLimit: "536870912", memlimit.EnvGoMemLimit: "400MiB"}},
	} {
		t.Run(tc.name+strings.Join(tc.set, ","), func(t *testing.T) {
			c := container(t, objects(t, render(t, "ksguard-system", tc.name, tc.set...)))
			if len(c.Env) == 0 || c.Env[0].Name != memlimit.EnvContainerLimit || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.ResourceFieldRef == nil ||
				c.Env[0].ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
				t.Fatalf("the container's first env is not %s from resourceFieldRef limits.memory: %+v", memlimit.EnvContainerLimit, c.Env)
			}
			got := podEnv(t, c)
			if len(got) != len(tc.want) {
				t.Errorf("env %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("env %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// assertMemoryLimit checks that ksguard, started with env, logged once the
// soft memory limit memlimit chooses for env: GOMEMLIMIT when set, else 90%
// of the container's limit.
func assertMemoryLimit(t *testing.T, logs string, env map[string]string) {
	t.Helper()
	want := memlimit.Choice{Source: memlimit.SourceNone}
	if v := env[memlimit.EnvContainerLimit]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		want = memlimit.Choice{Source: memlimit.SourceContainer, Limit: memlimit.Share(n)}
	}
	if env[memlimit.EnvGoMemLimit] != "" {
		want.Source = memlimit.SourceGoMemLimit // its bytes are checked in internal/memlimit
	}
	var lines []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"Go soft memory limit"`) {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("ksguard logged the Go soft memory limit %d times, want once:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var got struct {
		Bytes  int64  `json:"memoryLimitBytes"`
		Source string `json:"memoryLimitSource"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("reading %s: %v", lines[0], err)
	}
	if got.Source != want.Source || (want.Source == memlimit.SourceContainer && got.Bytes != want.Limit) {
		t.Errorf("ksguard chose %d bytes from %s; with the chart's env %v want %d from %s", got.Bytes, got.Source, env, want.Limit, want.Source)
	}
}
