package validate

import (
	"reflect"
	"strings"
	"time"
)

// decodeFast decodes viper's settings into the authentication options as
// mapstructure v1.5.0 does with viper's decoder config (weakly typed, with
// the string-to-duration and string-to-slice hooks), for the settings a
// loadable document nearly always has: every value the options read has
// exactly the type its field takes (strings for strings, ints for ints,
// booleans, durations as strings time.ParseDuration reads or as ints,
// lists of such, mappings for structs). It returns ok=false for anything
// else — a weak conversion, a hook that splits a string into a list, a
// null, a duration that does not parse, two keys that fold to one field —
// and the caller decodes with mapstructure itself, which also makes the
// errors. Where it answers, it answers as mapstructure does:
// TestDecodeFastAgreesWithMapstructure and FuzzDecodeFast compare the two,
// and `make parity` compares the whole reading with the real loaders'.
//
// It exists for speed: mapstructure's reflection was about half of a
// loader reading (docs/BENCHMARKS.md).
func decodeFast(schema string, settings map[string]any) (r decoded, ok bool) {
	root := fastV3
	if schema == SchemaV4 {
		root = fastV4
	}
	if !root.check(settings) {
		return r, false
	}
	auth, _ := fastField(settings, "authentication")
	if schema == SchemaV4 {
		r.accessTokenMaxAge, r.maximumClockSkew = DefaultAccessTokenMaxAge, 10*time.Second
		issuer, _ := fastField(auth, "Issuer")
		r.jwtSecret = stringField(issuer, "JWTSecret", "")
		r.accessTokenMaxAge = durationField(issuer, "AccessTokenMaxAge", r.accessTokenMaxAge)
		r.maximumClockSkew = durationField(issuer, "MaximumClockSkew", r.maximumClockSkew)
		return r, true
	}
	r.jwtSecret = stringField(auth, "JwtSecret", "")
	r.maximumClockSkew = durationField(auth, "MaximumClockSkew", 10*time.Second)
	oauth, _ := fastField(auth, "OAuthOptions")
	r.accessTokenMaxAge = durationField(oauth, "AccessTokenMaxAge", DefaultAccessTokenMaxAge)
	return r, true
}

// decoded are the values a reading takes from the decoded options.
type decoded struct {
	jwtSecret                           string
	accessTokenMaxAge, maximumClockSkew time.Duration
}

// fastShape is what decodeFast accepts for one Go type.
type fastShape struct {
	kind   fastKind
	fields map[string]*fastShape // kind fastStruct: lower-case field name -> shape
	elem   *fastShape            // kind fastSlice
}

type fastKind int

const (
	fastString fastKind = iota
	fastInt
	fastBool
	fastDurationKind
	fastStruct
	fastSlice
	fastStringMap // map[string]interface{}
	fastNever     // a type decodeFast leaves to mapstructure whenever it is set
)

// The shapes come from the mirrored types themselves, so they cannot drift
// from what mapstructure decodes into.
var (
	durationType = reflect.TypeFor[time.Duration]()
	fastV3       = shapeOf(reflect.TypeFor[ksConfigV3]())
	fastV4       = shapeOf(reflect.TypeFor[ksConfigV4]())
)

// shapeOf derives what decodeFast accepts for t.
func shapeOf(t reflect.Type) *fastShape {
	switch {
	case t == durationType:
		return &fastShape{kind: fastDurationKind}
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		return shapeOf(t.Elem()) // a pointer to a struct with its defaults: decoded in place
	case t.Kind() == reflect.String:
		return &fastShape{kind: fastString}
	case t.Kind() == reflect.Int:
		return &fastShape{kind: fastInt}
	case t.Kind() == reflect.Bool:
		return &fastShape{kind: fastBool}
	case t.Kind() == reflect.Slice:
		return &fastShape{kind: fastSlice, elem: shapeOf(t.Elem())}
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Interface:
		return &fastShape{kind: fastStringMap}
	case t.Kind() == reflect.Struct:
		s := &fastShape{kind: fastStruct, fields: map[string]*fastShape{}}
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ","); tag != "" {
				name = tag
			}
			s.fields[strings.ToLower(name)] = shapeOf(f.Type)
		}
		return s
	}
	return &fastShape{kind: fastNever} // e.g. *time.Duration: the hook's path through pointers is left to mapstructure
}

// check reports whether v decodes into s as decodeFast assumes.
func (s *fastShape) check(v any) bool {
	switch s.kind {
	case fastString:
		_, ok := v.(string)
		return ok
	case fastInt:
		_, ok := v.(int)
		return ok
	case fastBool:
		_, ok := v.(bool)
		return ok
	case fastDurationKind:
		switch x := v.(type) {
		case int:
			return true
		case string:
			_, err := time.ParseDuration(x)
			return err == nil
		}
		return false
	case fastSlice:
		items, ok := v.([]any)
		if !ok {
			return false
		}
		for _, it := range items {
			if !s.elem.check(it) {
				return false
			}
		}
		return true
	case fastStringMap:
		m, ok := v.(map[string]any)
		return ok && m != nil
	case fastStruct:
		seen := map[string]bool{}
		ok := eachStringKey(v, func(k string, val any) bool {
			lower := strings.ToLower(k)
			f, known := s.fields[lower]
			if !known {
				return true // mapstructure ignores keys no field takes
			}
			if seen[lower] {
				return false // two keys fold to one field: mapstructure picks one at random
			}
			seen[lower] = true
			return f.check(val)
		})
		return ok
	}
	return false
}

// eachStringKey calls fn for every entry of a mapping (map[string]any, or
// map[any]any with string keys only); false when v is not such a mapping
// or fn returns false.
func eachStringKey(v any, fn func(k string, val any) bool) bool {
	switch m := v.(type) {
	case map[string]any:
		if m == nil {
			return false
		}
		for k, val := range m {
			if !fn(k, val) {
				return false
			}
		}
		return true
	case map[any]any:
		if m == nil {
			return false
		}
		for k, val := range m {
			ks, ok := k.(string)
			if !ok || !fn(ks, val) {
				return false
			}
		}
		return true
	}
	return false
}

// fastField returns the value of the one key of mapping m that folds to
// name (check has made sure there is at most one).
func fastField(m any, name string) (any, bool) {
	var out any
	found := false
	eachStringKey(m, func(k string, val any) bool {
		if strings.EqualFold(k, name) {
			out, found = val, true
			return false
		}
		return true
	})
	return out, found
}

func stringField(m any, name, def string) string {
	if v, ok := fastField(m, name); ok {
		return v.(string)
	}
	return def
}

func durationField(m any, name string, def time.Duration) time.Duration {
	v, ok := fastField(m, name)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case int:
		return time.Duration(x)
	case string:
		d, _ := time.ParseDuration(x)
		return d
	}
	return def
}
