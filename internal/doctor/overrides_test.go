package doctor

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/ksguard/ksguard/internal/validate"
)

// TestOverrides: the environment variables and flags of each schema that
// beat the file are found on the ks-apiserver container, others are not.
func TestOverrides(t *testing.T) {
	ct := corev1.Container{
		Name:    "ks-apiserver",
		Command: []string{"ks-apiserver", "--logtostderr=true", "--jwt-secret=from-flag"},
		Args:    []string{"--access-token-max-age", "1h"},
		Env: []corev1.EnvVar{
			{Name: "KUBESPHERE_AUTHENTICATION_JWTSECRET", Value: "v3-env"},
			{Name: "KUBESPHERE_AUTHENTICATION_ISSUER_JWTSECRET", Value: "v4-env"},
			{Name: "KUBESPHERE_AUTHENTICATION_MAXIMUMCLOCKSKEW", Value: "30s"},
			{Name: "UNRELATED", Value: "x"},
		},
	}
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{validate.SchemaV3, []string{"jwtSecret env KUBESPHERE_AUTHENTICATION_JWTSECRET", "jwtSecret flag --jwt-secret", "accessTokenMaxAge flag --access-token-max-age", "maximumClockSkew env KUBESPHERE_AUTHENTICATION_MAXIMUMCLOCKSKEW"}},
		{validate.SchemaV4, []string{"jwtSecret env KUBESPHERE_AUTHENTICATION_ISSUER_JWTSECRET", "jwtSecret flag --jwt-secret", "accessTokenMaxAge flag --access-token-max-age"}},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			s := &Snapshot{Schema: tc.schema}
			var got []string
			for _, o := range s.overrides(context.Background(), ct) {
				got = append(got, o.Setting+" "+o.Source)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("overrides = %q, want %q", got, tc.want)
			}
		})
	}
}
