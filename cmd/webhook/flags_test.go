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
