package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFleetFlags: usage errors of `ksguard fleet` and `ksguard fleet
// status` exit 2 with a message saying what to give.
func TestFleetFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"fleet", "-h"}, exitAllowed, "ksguard fleet status [flags]"},
		{"status help", []string{"fleet", "status", "-h"}, exitAllowed, "dry runs"},
		{"stray argument", []string{"fleet", "stats"}, exitError, `unexpected argument "stats" (the only subcommand is status)`},
		{"bad host config", []string{"fleet", "--host-config", "kubesphere-config"}, exitError, "--host-config must be NAMESPACE/NAME"},
		{"bad member secret", []string{"fleet", "status", "--member-secret", "a/b/c"}, exitError, "--member-secret must be NAMESPACE/NAME"},
		{"no concurrency", []string{"fleet", "--concurrency", "0"}, exitError, "--concurrency 0: want at least 1"},
		{"no timeout", []string{"fleet", "status", "--member-timeout", "0s"}, exitError, "--member-timeout must be positive"},
		{"backoff", []string{"fleet", "--member-backoff", "10s", "--member-backoff-max", "1s"}, exitError, "--member-backoff-max at least --member-backoff"},
		{"no resync", []string{"fleet", "--resync-period", "0s"}, exitError, "--resync-period"},
		{"format", []string{"fleet", "status", "-o", "yaml"}, exitError, "-o yaml: want table or json"},
		{"status only flag", []string{"fleet", "-o", "json"}, exitError, "flag provided but not defined: -o"},
		{"controller only flag", []string{"fleet", "status", "--sync-member-config"}, exitError, "flag provided but not defined: -sync-member-config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}
