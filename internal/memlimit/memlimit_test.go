package memlimit

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestShare: Percent of the container's limit, rounded down, with no
// overflow at the top of int64.
func TestShare(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{
		{in: 1, want: 0},
		{in: 10, want: 9},
		{in: 100, want: 90},
		{in: 256 << 20, want: 241591910}, // 268435456 * 0.9 = 241591910.4
		{in: 64 << 20, want: 60397977},   // 67108864 * 0.9 = 60397977.6
		{in: 1 << 40, want: 989560464998},
		{in: math.MaxInt64, want: 8301034833169298226}, // 9223372036854775807 * 0.9 = 8301034833169298226.3
	} {
		if got := Share(tc.in); got != tc.want {
			t.Errorf("Share(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestChoose: GOMEMLIMIT wins over the container's limit; the container's
// limit gives Percent of it; neither leaves the runtime's limit alone; a
// container limit that is not a positive number of bytes is an error that
// names the variable.
func TestChoose(t *testing.T) {
	const current = 123 << 20
	for _, tc := range []struct {
		name      string
		env       map[string]string
		current   int64
		want      Choice
		err       string
		describes string
	}{
		{name: "neither", env: nil, current: math.MaxInt64,
			want: Choice{Limit: math.MaxInt64, Source: SourceNone}, describes: "none (neither"},
		{name: "container", env: map[string]string{EnvContainerLimit: "268435456"}, current: math.MaxInt64,
			want: Choice{Limit: 241591910, Source: SourceContainer, Container: 268435456}, describes: "241591910 bytes (230.4 MiB, 90% of the container limit 268435456)"},
		{name: "container with spaces", env: map[string]string{EnvContainerLimit: " 100\n"}, current: math.MaxInt64,
			want: Choice{Limit: 90, Source: SourceContainer, Container: 100}},
		{name: "GOMEMLIMIT wins", env: map[string]string{EnvGoMemLimit: "123MiB", EnvContainerLimit: "268435456"}, current: current,
			want: Choice{Limit: current, Source: SourceGoMemLimit, Container: 268435456}, describes: "128974848 bytes (123.0 MiB, from GOMEMLIMIT)"},
		{name: "GOMEMLIMIT alone", env: map[string]string{EnvGoMemLimit: "123MiB"}, current: current,
			want: Choice{Limit: current, Source: SourceGoMemLimit}},
		{name: "GOMEMLIMIT=off wins", env: map[string]string{EnvGoMemLimit: "off", EnvContainerLimit: "268435456"}, current: math.MaxInt64,
			want: Choice{Limit: math.MaxInt64, Source: SourceGoMemLimit, Container: 268435456}, describes: "none (GOMEMLIMIT=off)"},
		{name: "quantity", env: map[string]string{EnvContainerLimit: "256Mi"}, err: `KSGUARD_MEMORY_LIMIT="256Mi" is not a positive number of bytes`},
		{name: "zero", env: map[string]string{EnvContainerLimit: "0"}, err: `KSGUARD_MEMORY_LIMIT="0"`},
		{name: "negative", env: map[string]string{EnvContainerLimit: "-5"}, err: `KSGUARD_MEMORY_LIMIT="-5"`},
		{name: "bad even with GOMEMLIMIT", env: map[string]string{EnvGoMemLimit: "1GiB", EnvContainerLimit: "x"}, err: "resourceFieldRef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Choose(env(tc.env), tc.current)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Choose = %+v, want %+v", got, tc.want)
			}
			if tc.describes != "" && !strings.HasPrefix(got.String(), tc.describes) {
				t.Errorf("String() = %q, want it to start with %q", got.String(), tc.describes)
			}
		})
	}
}

// TestApply: the runtime's limit read back after Apply is the container's
// share, or left as it was when GOMEMLIMIT is set.
func TestApply(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	c, err := Apply(env(map[string]string{EnvContainerLimit: "268435456"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 241591910 || c.Limit != got {
		t.Fatalf("after Apply with a 256 MiB container: runtime limit %d, choice %d; want 241591910", got, c.Limit)
	}

	debug.SetMemoryLimit(77 << 20) // as the runtime would have from GOMEMLIMIT=77MiB
	c, err = Apply(env(map[string]string{EnvGoMemLimit: "77MiB", EnvContainerLimit: "268435456"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 77<<20 || c.Limit != got || c.Source != SourceGoMemLimit {
		t.Fatalf("with GOMEMLIMIT set: runtime limit %d, choice %+v; want GOMEMLIMIT's %d left alone", got, c, 77<<20)
	}
}
