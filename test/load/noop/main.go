// Command noop is the load harness's no-op webhook: it decodes every
// AdmissionReview with encoding/json and allows it, over TLS (HTTP/1.1, as
// ksguard serves), counting the connections it accepts and timing each
// review, both exported on a plain-HTTP /metrics. It is a binary of its
// own so that its RSS and CPU are a tiny server's.
//
// Usage: noop WEBHOOK_ADDR METRICS_ADDR CERT_DIR (tls.crt, tls.key).
package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Metric names, as the load harness reads them.
const (
	reviewMetric = "noop_review_duration_seconds"
	connsMetric  = "noop_connections_total"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: noop WEBHOOK_ADDR METRICS_ADDR CERT_DIR")
		os.Exit(2)
	}
	os.Exit(serve(os.Args[1], os.Args[2], os.Args[3]))
}

// serve serves the webhook until the process is killed; it returns an
// exit code.
func serve(addr, metricsAddr, certs string) int {
	cert, err := tls.LoadX509KeyPair(filepath.Join(certs, "tls.crt"), filepath.Join(certs, "tls.key"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop: loading the serving certificate:", err)
		return 1
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop: listening:", err)
		return 1
	}
	cl := &countingListener{Listener: l}
	h := newHistogram()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { allow(w, r, h) })
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}}
	go func() {
		m := http.NewServeMux()
		m.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			h.write(w, reviewMetric)
			fmt.Fprintf(w, "%s %d\n", connsMetric, cl.accepted.Load())
		})
		if err := http.ListenAndServe(metricsAddr, m); err != nil {
			fmt.Fprintln(os.Stderr, "noop: metrics:", err)
			os.Exit(1)
		}
	}()
	if err := srv.ServeTLS(cl, "", ""); err != nil {
		fmt.Fprintln(os.Stderr, "noop: serving:", err)
		return 1
	}
	return 0
}

// allow answers an AdmissionReview with allowed: true, recording the time
// from the body read to the response ready (what ksguard's
// ksguard_decision_duration_seconds measures).
func allow(w http.ResponseWriter, r *http.Request, h *histogram) {
	var review struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Request    *reviewRequest `json:"request"`
	}
	dec := json.NewDecoder(r.Body)
	start := time.Now()
	if err := dec.Decode(&review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	out, err := json.Marshal(map[string]any{
		"apiVersion": review.APIVersion,
		"kind":       review.Kind,
		"response":   map[string]any{"uid": review.Request.UID, "allowed": true},
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.observe(time.Since(start))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// reviewRequest is the part of an AdmissionReview's request the no-op
// reads; encoding/json still parses the whole body.
type reviewRequest struct {
	UID    string          `json:"uid"`
	Object json.RawMessage `json:"object"`
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}
