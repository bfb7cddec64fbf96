package doctor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// logCauses are the lines ks-apiserver logs when it refuses a token the
// host forwarded, and their causes (kubesphere/kubesphere v3.4.1
// pkg/models/auth/token.go and pkg/apiserver/authentication/token/jwt.go;
// clock skew: kubesphere/kubesphere#3833 and #5934).
var logCauses = []struct {
	line, cause string
}{
	{"token not found in cache", "accessTokenMaxAge is not 0"},
	{"signature is invalid", "the jwtSecret differs from the host's"},
	{"token used before issued", "the clocks differ by more than maximumClockSkew"},
	{"token is expired by", "the clocks differ by more than maximumClockSkew (or the token expired)"},
}

// LogSource reads the ks-apiserver logs of a member.
type LogSource interface {
	// Logs returns the ks-apiserver containers' logs since then, one
	// reader per pod.
	Logs(ctx context.Context, since time.Duration) ([]io.ReadCloser, error)
}

// PodLogs reads the ks-apiserver container's logs of the Deployment's pods
// through the API server (which asks each node's kubelet).
type PodLogs struct {
	// Client reaches the member.
	Client kubernetes.Interface
	// Pods are the pods to read.
	Pods []corev1.Pod
}

// Logs implements LogSource.
func (p PodLogs) Logs(ctx context.Context, since time.Duration) ([]io.ReadCloser, error) {
	secs := int64(since.Seconds())
	var out []io.ReadCloser
	for _, pod := range p.Pods {
		if pod.Spec.NodeName == "" {
			continue // not scheduled: no kubelet holds its logs (the API server answers with nothing)
		}
		rc, err := p.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
			Container: apiserverContainer, SinceSeconds: &secs,
		}).Stream(ctx)
		if err != nil {
			for _, r := range out {
				r.Close()
			}
			return nil, fmt.Errorf("logs unavailable (pod %s: %w)", pod.Name, err)
		}
		out = append(out, rc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("logs unavailable: no ks-apiserver pod runs on a node")
	}
	return out, nil
}

// countCauses counts the lines of each cause in the logs.
func countCauses(logs []io.ReadCloser) (map[string]int, error) {
	counts := map[string]int{}
	for _, r := range logs {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			for _, c := range logCauses {
				if strings.Contains(sc.Text(), c.line) {
					counts[c.line]++
				}
			}
		}
		r.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading the logs: %w", err)
		}
	}
	return counts, nil
}

func checkLogs(ctx context.Context, env *Env) Outcome {
	m := env.Member
	switch {
	case m.Unreachable != nil:
		return notChecked("the cluster is unreachable")
	case env.Logs == nil || len(m.Pods) == 0:
		return notChecked("logs unavailable: no ks-apiserver pods")
	}
	logs, err := env.Logs.Logs(ctx, env.Since)
	if err != nil {
		return notChecked(err.Error())
	}
	counts, err := countCauses(logs)
	if err != nil {
		return notChecked(err.Error())
	}
	if len(counts) == 0 {
		return ok(fmt.Sprintf("none in the last %s", env.Since))
	}
	var parts []string
	for _, c := range logCauses {
		if n := counts[c.line]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d × %q (%s)", n, c.line, c.cause))
		}
	}
	return failed(fmt.Sprintf("in the last %s: %s", env.Since, strings.Join(parts, "; ")),
		"fix the failed checks above; the lines stop once users log in again")
}
