package validate

import (
	"slices"
	"testing"
)

func TestChangedSettings(t *testing.T) {
	ev := newTestEvaluator(t)
	doc := func(text string) *ConfigMap { return &ConfigMap{Data: map[string]string{ConfigKey: text}} }
	base := "authentication:\n  jwtSecret: \"aaa\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n"
	for _, tc := range []struct {
		name string
		new  string
		want []string
	}{
		{"nothing guarded", base + "network: {}\n", nil},
		{"jwtSecret", "authentication:\n  jwtSecret: \"bbb\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n", []string{"jwtSecret"}},
		{"accessTokenMaxAge", "authentication:\n  jwtSecret: \"aaa\"\n  oauthOptions:\n    accessTokenMaxAge: 2h\n", []string{"accessTokenMaxAge"}},
		{"both", "authentication:\n  jwtSecret: \"bbb\"\n  oauthOptions: {}\n", []string{"jwtSecret", "accessTokenMaxAge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, ok1 := ev.ConfigSettings(doc(base))
			cur, ok2 := ev.ConfigSettings(doc(tc.new))
			if !ok1 || !ok2 {
				t.Fatal("unreadable")
			}
			if got := ChangedSettings(old, cur); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, ok := ev.ConfigSettings(&ConfigMap{}); ok {
		t.Error("a ConfigMap without kubesphere.yaml read as settings")
	}
}
