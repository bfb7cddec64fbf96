package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	code, out, errOut := runCLI(t, "", "certs", "--dir", dir, "--host", "localhost", "--host", "127.0.0.1")
	if code != exitAllowed || !strings.Contains(out, "wrote ") {
		t.Fatalf("ksguard certs = %d, %q, %q", code, out, errOut)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, h := range []string{"localhost", "127.0.0.1"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool}); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{name: "no host", args: []string{"--dir", dir}, err: "give --dir and at least one --host"},
		{name: "no dir", args: []string{"--host", "x"}, err: "give --dir and at least one --host"},
		{name: "stray argument", args: []string{"--dir", dir, "--host", "x", "extra"}, err: `unexpected argument "extra"`},
		{name: "certificate outlives its CA", args: []string{"--dir", dir, "--host", "x", "--ca-validity", "1h", "--validity", "2h"}, err: "no longer than --ca-validity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", append([]string{"certs"}, tc.args...)...)
			if code != exitError || !strings.Contains(errOut, tc.err) {
				t.Errorf("ksguard certs = %d, %q; want %d and %q", code, errOut, exitError, tc.err)
			}
		})
	}
}
