package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFmt(t *testing.T) {
	ugly := readFile(t, "testdata/fmt-unformatted/ugly.rego.txt")
	const pretty = "package ksguard.admission\n\nviolation contains msg if {\n\tcheckable\n\tmsg := \"x\"\n}\n"
	for _, tc := range []struct {
		name      string
		args      []string // after fmt; DIR is replaced by a directory holding ugly.rego
		code      int
		stdoutHas string
		stderrHas string
		after     string // ugly.rego afterwards
	}{
		{name: "lists", args: []string{"DIR"}, code: 0, stdoutHas: "ugly.rego", after: ugly},
		{name: "check fails", args: []string{"--check", "DIR"}, code: 1, stdoutHas: "ugly.rego", stderrHas: "run ksguard fmt -w", after: ugly},
		{name: "write", args: []string{"-w", "DIR"}, code: 0, stdoutHas: "ugly.rego", after: pretty},
		{name: "a file by name", args: []string{"--check", "DIR/ugly.rego"}, code: 1, stdoutHas: "ugly.rego", after: ugly},
		{name: "the embedded policies and the example are formatted", args: []string{"--check", "../../policies", "../../examples"}, code: 0, after: ugly},
		{name: "check and write", args: []string{"--check", "-w", "DIR"}, code: 2, stderrHas: "not both", after: ugly},
		{name: "a file that does not parse", args: []string{"testdata/policy-syntax"}, code: 2, stderrHas: "testdata/policy-syntax/extra.rego:4", after: ugly},
		{name: "missing directory", args: []string{"testdata/nope"}, code: 2, stderrHas: "no such file", after: ugly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "ugly.rego")
			if err := os.WriteFile(file, []byte(ugly), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"fmt"}
			for _, a := range tc.args {
				args = append(args, strings.Replace(a, "DIR", dir, 1))
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdoutHas) || (tc.stdoutHas == "" && stdout != "") {
				t.Errorf("stdout %q, want %q", stdout, tc.stdoutHas)
			}
			if !strings.Contains(stderr, tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderrHas)
			}
			if got := readFile(t, file); got != tc.after {
				t.Errorf("ugly.rego is now:\n%s\nwant:\n%s", got, tc.after)
			}
		})
	}
}
