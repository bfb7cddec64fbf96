package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestServeFlagsRestartTarget: --restart-target is auto, none or
// NAMESPACE/NAME; auto looks in the guarded namespace.
func TestServeFlagsRestartTarget(t *testing.T) {
	for _, tc := range []struct {
		in    string
		names []string
		err   bool
	}{
		{in: "auto", names: []string{"kubesphere-system/ks-apiserver", "kubesphere-system/ks-agent"}},
		{in: "none"},
		{in: "ns/my-apiserver", names: []string{"ns/my-apiserver"}},
		{in: "ks-apiserver", err: true},
		{in: "a/b/c", err: true},
		{in: "/x", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var f serveFlags
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.register(fs)
			if err := fs.Parse([]string{"--host-secret-file", "x", "--config-hash-key-file", "k", "--restart-target", tc.in}); err != nil {
				t.Fatal(err)
			}
			err := f.check()
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "--restart-target must be NAMESPACE/NAME") {
					t.Errorf("err = %v", err)
				}
				return
			}
			var names []string
			for _, k := range f.target.Names() {
				names = append(names, k.String())
			}
			if strings.Join(names, ",") != strings.Join(tc.names, ",") {
				t.Fatalf("names = %v, want %v", names, tc.names)
			}
		})
	}
}

// TestServeFlagsTLS: --tls-secret needs a DNS name and sane validities; its
// companions need it.
func TestServeFlagsTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{name: "none"},
		{name: "self-managed", args: []string{"--tls-secret=ns/tls", "--tls-dns-name=svc.ns.svc", "--tls-webhook-configuration=ksguard"}},
		{name: "no DNS name", args: []string{"--tls-secret=ns/tls"}, err: "needs at least one --tls-dns-name"},
		{name: "bad secret", args: []string{"--tls-secret=tls", "--tls-dns-name=x"}, err: "--tls-secret must be NAMESPACE/NAME"},
		{name: "CA shorter than the certificate", args: []string{"--tls-secret=ns/tls", "--tls-dns-name=x", "--tls-ca-validity=1h", "--tls-validity=2h"}, err: "shorter than --tls-ca-validity"},
		{name: "companion alone", args: []string{"--tls-dns-name=x"}, err: "--tls-secret, which is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f serveFlags
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.register(fs)
			if err := fs.Parse(append([]string{"--host-secret-file", "x", "--config-hash-key-file", "k"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			err := f.check()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("check() = %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

// TestServeFlagsConfigHashKey: the restart signal needs a config-hash key;
// without one, only --restart-target=none starts.
func TestServeFlagsConfigHashKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{name: "key and restart signal", args: []string{"--config-hash-key-file=k"}},
		{name: "key, no restart signal", args: []string{"--config-hash-key-file=k", "--restart-target=none"}},
		{name: "no key, no restart signal", args: []string{"--restart-target=none"}},
		{name: "no key, restart signal", err: "--restart-target=auto needs --config-hash-key-file"},
		{name: "no key, named target", args: []string{"--restart-target=ns/d"}, err: "or turn the restart signal off with --restart-target=none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f serveFlags
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.register(fs)
			if err := fs.Parse(append([]string{"--host-secret-file", "x"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			err := f.check()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("check() = %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

// TestLoggers: the decision logger writes every line; the main logger may
// sample repeats, and leaves out failed Event writes once ksguard stops.
func TestLoggers(t *testing.T) {
	const n = 500 // zap's production sampler keeps 100 a second, then 1 in 100
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{name: "production"},
		{name: "development", flags: []string{"--zap-devel"}},
		{name: "debug level", flags: []string{"--zap-log-level=debug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f serveFlags
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			f.zap.DestWriter = &out
			unsent := &unsentEvents{}
			log, decisions := newLoggers(&f.zap, unsent)
			decisions = decisions.WithName("decision")
			for i := range n {
				decisions.Info("decision", "uid", i)
			}
			if got := strings.Count(out.String(), "\n"); got != n {
				t.Fatalf("%d of %d decision lines written", got, n)
			}
			out.Reset()
			for i := range n {
				log.Info("other", "i", i)
			}
			if got := strings.Count(out.String(), "\n"); got == 0 || tc.name == "production" && got >= n {
				t.Errorf("%d of %d other lines written; want some, and fewer in production (sampled)", got, n)
			}

			out.Reset()
			events := log.WithName("events")
			events.Error(errors.New("connection refused"), "Unable to write event (may retry after sleeping)")
			if !strings.Contains(out.String(), "connection refused") {
				t.Errorf("a failed Event write while running was not logged: %q", out.String())
			}
			unsent.stopping.Store(true)
			out.Reset()
			for range 3 {
				events.Error(context.Canceled, "Unable to write event (may retry after sleeping)")
			}
			events.Error(errors.New("boom"), "another error")
			if strings.Contains(out.String(), "Unable to write event") || !strings.Contains(out.String(), "another error") || unsent.writes.Load() != 3 {
				t.Errorf("at shutdown: log %q, %d writes counted; want only the other error logged and 3 counted", out.String(), unsent.writes.Load())
			}
		})
	}
}
