// Package memlimit sets the Go runtime's soft memory limit from the
// container's memory limit, so that the garbage collector works harder as
// ksguard nears the limit instead of the kernel killing it.
//
// The chart passes the container's limit through the downward API (an env
// var from resourceFieldRef limits.memory, in bytes); ksguard sets the soft
// limit to Percent of it. GOMEMLIMIT, when set, wins: the Go runtime has
// already applied it, and it is left as it is.
package memlimit

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// EnvContainerLimit is the environment variable holding the container's
// memory limit in bytes, as the downward API writes it (resourceFieldRef
// limits.memory with the default divisor 1).
const EnvContainerLimit = "KSGUARD_MEMORY_LIMIT"

// EnvGoMemLimit is the Go runtime's own variable; when set, it wins.
const EnvGoMemLimit = "GOMEMLIMIT"

// Percent is the share of the container's limit given to the Go runtime as
// its soft limit; the rest is left for what the runtime does not count
// (the mapped binary, thread stacks outside the heap, cgo).
const Percent = 90

// Sources of a Choice.
const (
	// SourceGoMemLimit: GOMEMLIMIT was set and the runtime applied it.
	SourceGoMemLimit = "GOMEMLIMIT"
	// SourceContainer: Percent of the container's limit.
	SourceContainer = "container limit"
	// SourceNone: neither variable was set; the runtime has no soft limit.
	SourceNone = "none"
)

// Choice is the soft memory limit ksguard runs with and where it came from.
type Choice struct {
	// Limit is the soft limit in bytes; math.MaxInt64 means none.
	Limit int64
	// Source is SourceGoMemLimit, SourceContainer or SourceNone.
	Source string
	// Container is the container's limit in bytes read from
	// EnvContainerLimit, 0 when it was not set.
	Container int64
}

// Choose decides the soft limit from the environment (read with getenv)
// without applying it. current is the runtime's limit now
// (debug.SetMemoryLimit(-1)), reported when GOMEMLIMIT is set.
func Choose(getenv func(string) string, current int64) (Choice, error) {
	var c Choice
	if v := strings.TrimSpace(getenv(EnvContainerLimit)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return Choice{}, fmt.Errorf("%s=%q is not a positive number of bytes: set it from the container's limit through the downward API (valueFrom.resourceFieldRef.resource: limits.memory, divisor 1, as the chart does), or unset it", EnvContainerLimit, v)
		}
		c.Container = n
	}
	switch {
	case getenv(EnvGoMemLimit) != "":
		c.Limit, c.Source = current, SourceGoMemLimit
	case c.Container > 0:
		c.Limit, c.Source = Share(c.Container), SourceContainer
	default:
		c.Limit, c.Source = current, SourceNone
	}
	return c, nil
}

// Share returns Percent of container bytes, rounded down, without
// overflowing for any positive int64.
func Share(container int64) int64 {
	return container/100*Percent + container%100*Percent/100
}

// Apply chooses the soft limit from the process's environment (see Choose)
// and sets it with debug.SetMemoryLimit when it comes from the container's
// limit. It returns the limit the runtime then has.
func Apply(getenv func(string) string) (Choice, error) {
	c, err := Choose(getenv, debug.SetMemoryLimit(-1))
	if err != nil {
		return c, err
	}
	if c.Source == SourceContainer {
		debug.SetMemoryLimit(c.Limit)
	}
	return c, nil
}

// String describes the choice for a log line, e.g. "241591910 bytes
// (230.4 MiB, 90% of the container limit 268435456)".
func (c Choice) String() string {
	switch {
	case c.Source == SourceContainer:
		return fmt.Sprintf("%d bytes (%.1f MiB, %d%% of the container limit %d)", c.Limit, mib(c.Limit), Percent, c.Container)
	case c.Source == SourceGoMemLimit && c.Limit == math.MaxInt64:
		return "none (GOMEMLIMIT=off)"
	case c.Source == SourceGoMemLimit:
		return fmt.Sprintf("%d bytes (%.1f MiB, from GOMEMLIMIT)", c.Limit, mib(c.Limit))
	default:
		return "none (neither GOMEMLIMIT nor " + EnvContainerLimit + " is set)"
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
