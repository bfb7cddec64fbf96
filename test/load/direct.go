package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// directResult is what the direct mode measured for one contender.
type directResult struct {
	latencies []time.Duration
	wall      time.Duration
	own       histSnapshot
	cpu       time.Duration
	rss, peak int64
	conns     int
}

// directAll runs the direct mode against every contender with a server,
// one after the other.
func (r *runner) directAll(ctx context.Context, cs []contender) (map[string]directResult, error) {
	out := map[string]directResult{}
	for _, c := range cs {
		if c.start == nil {
			continue
		}
		d, err := r.direct(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("direct mode, %s: %w", c.name, err)
		}
		out[c.name] = d
	}
	return out, nil
}

// direct starts c's server and posts cfg.direct AdmissionReviews to it,
// cfg.concurrency at a time, each sender on one kept-alive connection.
func (r *runner) direct(ctx context.Context, c contender) (d directResult, err error) {
	s, err := c.start(ctx)
	if err != nil {
		return d, err
	}
	defer func() {
		if stopErr := s.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping: %w", stopErr)
		}
	}()
	var sampler *connSampler
	if s.connsMetric == "" {
		sampler = sampleConns(portOf(s.addr), r.cfg.sample)
		defer sampler.count()
	}
	bodies, err := r.reviews(r.cfg.direct)
	if err != nil {
		return d, err
	}
	client := r.tlsClient()
	defer client.CloseIdleConnections()
	before, _, err := s.reviews()
	if err != nil {
		return d, err
	}
	cpu0, err := cpuTime(s.pid)
	if err != nil {
		return d, err
	}
	lat := make([]time.Duration, r.cfg.direct)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, r.cfg.concurrency)
	start := time.Now()
	for range r.cfg.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(lat) || ctx.Err() != nil {
					return
				}
				url := "https://" + s.addr + s.mutatePath
				if i%2 == 1 {
					url = "https://" + s.addr + s.validatePath
				}
				body := bodies[i]
				t := time.Now()
				if err := post(ctx, client, url, body); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	d.wall = time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return d, err
	}
	d.latencies = lat
	cpu1, err := cpuTime(s.pid)
	if err != nil {
		return d, err
	}
	d.cpu = cpu1 - cpu0
	if d.rss, d.peak, err = memory(s.pid); err != nil {
		return d, err
	}
	after, conns, err := s.reviews()
	if err != nil {
		return d, err
	}
	d.own = after.sub(before)
	if sampler != nil {
		d.conns = sampler.count()
	} else {
		d.conns = int(conns)
	}
	return d, nil
}

// post sends one AdmissionReview and checks the answer allows it.
func post(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", url, err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &review); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if review.Response == nil || !review.Response.Allowed {
		return errors.New(url + " did not allow the review")
	}
	return nil
}

// reviews returns the n AdmissionReviews the direct mode sends, as the API
// server sends them for n/2 writes that each store a new text: for write w,
// the mutating review of write w's document (2h for an even w, which a
// guard edits to 0s) and then the validating review of that document as
// mutated (at 0s), each with the previous write's stored document as the
// old object. Every write's text is new, so a server that remembers its
// recent work gains only what it would gain behind the API server (a
// harmless write's validating review carries the text its mutating review
// carried, as the API server sends it when no webhook changed it).
func (r *runner) reviews(n int) ([][]byte, error) {
	review := func(i int, text, stored string) ([]byte, error) {
		obj := guardedConfigMap(r.cfg.hostSecret)
		obj.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
		old := obj.DeepCopy()
		obj.Data["kubesphere.yaml"], old.Data["kubesphere.yaml"] = text, stored
		newRaw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		oldRaw, err := json.Marshal(old)
		if err != nil {
			return nil, err
		}
		return json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID:       types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)),
				Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
				Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
				Name:      guardedName,
				Namespace: guardedNS,
				Operation: admissionv1.Update,
				UserInfo:  authenticationv1.UserInfo{Username: "admin", Groups: []string{"system:masters", "system:authenticated"}},
				Object:    runtime.RawExtension{Raw: newRaw},
				OldObject: runtime.RawExtension{Raw: oldRaw},
			},
		})
	}
	out := make([][]byte, 0, n)
	stored := mutated(r.cfg.hostSecret, 1_000_001) // a write before the first
	for w := 1_000_002; len(out) < n; w++ {
		for _, text := range []string{document(r.cfg.hostSecret, w), mutated(r.cfg.hostSecret, w)} {
			if len(out) == n {
				break
			}
			b, err := review(len(out), text, stored)
			if err != nil {
				return nil, fmt.Errorf("encoding the AdmissionReviews: %w", err)
			}
			out = append(out, b)
		}
		stored = mutated(r.cfg.hostSecret, w)
	}
	return out, nil
}
