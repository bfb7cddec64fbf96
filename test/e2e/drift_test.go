package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksguard/ksguard/test/harness"
)

// TestDriftReported: drift that no write caused (written while the
// webhooks were away) is reported by the audit: ksguard_drift{check} is 1
// while the stored config fails the check and 0 once a write fixes it,
// with a Drift Event; without --remediate nothing is written back.
func TestDriftReported(t *testing.T) {
	c, _ := newClient(t)
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none")
	good := strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", "timeout: 800", 1)
	if err := put(c, good); err != nil {
		t.Fatal(err)
	}
	waitGauge(t, k, "ksguard_drift", 0, `check="accessTokenMaxAge"`)
	waitGauge(t, k, "ksguard_drift", 0, `check="policy"`)
	for _, tc := range []struct {
		check, other string
		drifted      string
		says         string
	}{
		{"accessTokenMaxAge", "policy", strings.Replace(good, "accessTokenMaxAge: 0s", "accessTokenMaxAge: 2h", 1),
			"authentication.oauthOptions.accessTokenMaxAge must be 0s"},
		{"policy", "accessTokenMaxAge", strings.Replace(document(t, driftJWT, "0s"), "timeout: 600", "timeout: 800", 1),
			"does not match the host cluster's jwtSecret"},
	} {
		t.Run(tc.check, func(t *testing.T) {
			writeWithoutWebhooks(t, c, tc.drifted)
			waitGauge(t, k, "ksguard_drift", 1, `check="`+tc.check+`"`)
			if v := gauge(t, k, "ksguard_drift", `check="`+tc.other+`"`); v != 0 {
				t.Errorf("ksguard_drift{check=%q} = %v; only %s drifted", tc.other, v, tc.check)
			}
			waitEvent(t, guardedName, "Drift", tc.says)
			if got := getConfig(t, guardedKey()); got != tc.drifted {
				t.Fatalf("without --remediate the stored config was rewritten:\n%s", got)
			}
			if err := put(c, good); err != nil { // the fix, through the webhooks
				t.Fatal(err)
			}
			waitGauge(t, k, "ksguard_drift", 0, `check="`+tc.check+`"`)
		})
	}
}

// gauge reads a metric of k that must be there: a missing series fails
// the test instead of reading as 0.
func gauge(t *testing.T, k *harness.Ksguard, name string, labels ...string) float64 {
	t.Helper()
	v, found, err := k.Sample(name, labels...)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s{%s} is not exported", name, strings.Join(labels, ","))
	}
	return v
}

// waitGauge waits until a metric of k is exported with the value want.
func waitGauge(t *testing.T, k *harness.Ksguard, name string, want float64, labels ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s{%s} = %v", name, strings.Join(labels, ","), want), func() error {
		v, found, err := k.Sample(name, labels...)
		switch {
		case err != nil:
			return err
		case !found:
			return fmt.Errorf("not exported")
		case v != want:
			return fmt.Errorf("= %v", v)
		}
		return nil
	})
}
