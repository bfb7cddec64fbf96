package main

import (
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
			if err := fs.Parse([]string{"--host-secret-file", "x", "--restart-target", tc.in}); err != nil {
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
