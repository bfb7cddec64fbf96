package validate

import (
	"math"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// DefaultAccessTokenMaxAge is what ks-apiserver uses when accessTokenMaxAge is
// absent or null.
const DefaultAccessTokenMaxAge = 2 * time.Hour

// durationValue is how ks-apiserver reads a duration scalar.
type durationValue struct {
	seconds float64 // effective value in seconds
	valid   bool    // ks-apiserver can read it at all
	// bareNumber is true for an unquoted integer or float: v3 reads it as
	// nanoseconds, v4's host refuses it.
	bareNumber bool
}

// readDuration interprets a scalar the way KubeSphere v3's viper and
// mapstructure do (weakly typed, with the string-to-duration hook):
//   - a YAML string goes through time.ParseDuration ("0", "0s", "2h"), untrimmed;
//   - an unquoted integer is nanoseconds (7200 is 7.2µs, not two hours);
//   - an unquoted float is truncated to whole nanoseconds (0.0 is zero);
//   - null means the 2h default.
//
// Anything else (a bool, a map, a malformed string) is not a valid duration.
func readDuration(n *yaml.Node) durationValue {
	if isNull(n) {
		return durationValue{seconds: DefaultAccessTokenMaxAge.Seconds(), valid: true}
	}
	if n.Kind != yaml.ScalarNode {
		return durationValue{}
	}
	switch n.Tag {
	case "!!str":
		// No trimming: mapstructure's hook hands the string to
		// time.ParseDuration as it is, and " 0s" or a block scalar's "0s\n"
		// fails to load.
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return durationValue{}
		}
		return durationValue{seconds: d.Seconds(), valid: true}
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return durationValue{bareNumber: true} // out of int64 range: unreadable
		}
		return durationValue{seconds: float64(i) / 1e9, valid: true, bareNumber: true}
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return durationValue{bareNumber: true}
		}
		return durationValue{seconds: math.Trunc(f) / 1e9, valid: true, bareNumber: true}
	}
	return durationValue{}
}
