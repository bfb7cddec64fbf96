package validate

import (
	"strings"
	"testing"
)

func TestComposeModules(t *testing.T) {
	embedded, err := EmbeddedModules(false)
	if err != nil {
		t.Fatal(err)
	}
	const extra = "package ksguard.admission\n\nviolation contains \"no\" if writing\n"
	for _, tc := range []struct {
		name    string
		mode    string
		dir     map[string]string
		files   []string // present in the result
		absent  []string // absent from the result
		wantErr []string
	}{
		{name: "additive adds a violation", mode: PolicyModeAdditive, dir: map[string]string{"my/extra.rego": extra},
			files: []string{"my/extra.rego", EmbeddedPrefix + "admission.rego", EmbeddedPrefix + "jwtsecret.rego"}},
		{name: "additive adds advice, edits and helpers", mode: PolicyModeAdditive, dir: map[string]string{"my/a.rego": "package ksguard.admission\n\nmine if writing\n\nadvice contains \"x\" if mine\n\nedits contains {\"path\": [\"a\"], \"value\": \"b\"} if mine\n"},
			files: []string{"my/a.rego"}},
		{name: "additive allows other packages", mode: PolicyModeAdditive, dir: map[string]string{"my/lib.rego": "package my.lib\n\nguarded := true\n"},
			files: []string{"my/lib.rego"}},
		{name: "additive leaves out a copy of a built-in file", mode: PolicyModeAdditive, dir: map[string]string{"my/admission.rego": embedded[EmbeddedPrefix+"admission.rego"], "my/extra.rego": extra},
			files: []string{"my/extra.rego", EmbeddedPrefix + "admission.rego"}, absent: []string{"my/admission.rego"}},
		{name: "additive refuses a redefined built-in", mode: PolicyModeAdditive, dir: map[string]string{"my/weak.rego": "package ksguard.admission\n\nbreak_glass if true\n"},
			wantErr: []string{"my/weak.rego:3: rule break_glass is a built-in rule of package ksguard.admission ((embedded)/admission.rego)", "--policy-mode=replace"}},
		{name: "additive refuses deny rules", mode: PolicyModeAdditive, dir: map[string]string{"my/deny.rego": "package ksguard.admission\n\ndeny := set()\n"},
			wantErr: []string{"my/deny.rego:3: rule deny is a built-in rule"}},
		{name: "additive refuses ksguard's internal package", mode: PolicyModeAdditive, dir: map[string]string{"my/r.rego": "package ksguard.internal.result\n\nresult := {}\n"},
			wantErr: []string{"my/r.rego:1: package ksguard.internal.result is ksguard's own"}},
		{name: "additive reports a syntax error with file and line", mode: PolicyModeAdditive, dir: map[string]string{"my/bad.rego": "package ksguard.admission\n\nviolation contains x if {\n"},
			wantErr: []string{"my/bad.rego:4"}},
		{name: "replace serves the directory alone", mode: PolicyModeReplace, dir: map[string]string{"my/deny.rego": "package ksguard.admission\n\ndeny := set()\n"},
			files: []string{"my/deny.rego"}, absent: []string{EmbeddedPrefix + "admission.rego"}},
		{name: "unknown mode", mode: "merge", dir: map[string]string{}, wantErr: []string{`policy mode must be additive or replace, not "merge"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ComposeModules(tc.mode, embedded, tc.dir)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; files %v", sortedKeys(got))
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.files {
				if _, ok := got[f]; !ok {
					t.Errorf("%s is not served; files %v", f, sortedKeys(got))
				}
			}
			for _, f := range tc.absent {
				if _, ok := got[f]; ok {
					t.Errorf("%s is served", f)
				}
			}
		})
	}
}
