package validate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file reproduces what viper does between the YAML library and
// mapstructure when ks-apiserver loads kubesphere.yaml: key case folding,
// flattening, the longest-dotted-prefix-first lookup, and the rebuilt
// settings map that Unmarshal decodes. Ported from spf13/viper v1.4.0
// (KubeSphere v3.4.1) and v1.18.2 (v4.1.3), util.go insensitiviseMap and
// viper.go AllKeys, flattenAndMergeMap, searchMapWithPathPrefixes /
// searchIndexableWithPathPrefixes, AllSettings and deepSearch (MIT licence).
// Only the config-file layer exists here: KubeSphere sets no viper defaults,
// overrides or flags, and environment overrides are doctor's business.
//
// Where viper depends on Go's random map order (two keys that differ only by
// case, or a dotted key that is also a section), this port picks one order;
// the document checks report such documents as ambiguous before the reading
// matters.

// viperFlavor is what differs between the two viper versions.
type viperFlavor struct {
	// indexable: lookups descend into lists by index (v1.18).
	indexable bool
	// nullEndsSearch: a null value at the longest prefix ends the lookup
	// (v1.4); v1.18 goes on with shorter prefixes.
	nullEndsSearch bool
}

var (
	viperV14  = viperFlavor{nullEndsSearch: true}
	viperV118 = viperFlavor{indexable: true}
)

// castToString is spf13/cast's ToString for the key types the YAML libraries
// produce.
func castToString(k any) string {
	switch v := k.(type) {
	case string:
		return v
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return v.String()
	}
	return ""
}

// toStringMap is cast.ToStringMap for the maps the YAML libraries produce.
func toStringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			s, ok := k.(string)
			if !ok {
				clear(out)
				return castKeys(m, out), true
			}
			out[s] = v // distinct strings: no two keys can collide
		}
		return out, true
	}
	return nil, false
}

// castKeys fills out with m's entries under their keys cast to strings; of
// keys that cast alike (1 and "1"), the one whose type's name sorts last
// wins (the string), whatever the map's order. (cast's own loop takes the
// map's order: any fixed choice reads as it may.)
func castKeys(m map[any]any, out map[string]any) map[string]any {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if a, b := castToString(keys[i]), castToString(keys[j]); a != b {
			return a < b
		}
		return fmt.Sprintf("%T", keys[i]) < fmt.Sprintf("%T", keys[j])
	})
	for _, k := range keys {
		out[castToString(k)] = m[k]
	}
	return out
}

// insensitivise lower-cases every key of m, at every depth, as viper does
// after reading the file. Of keys that differ only by case, one written with
// capitals replaces the all-lower-case one (in viper's loop the lower-case
// key is re-set with whatever value it holds when visited).
func (f viperFlavor) insensitivise(m map[string]any) {
	type rename struct{ key, lower string }
	var mixed []rename
	for k, v := range m {
		if lower := strings.ToLower(k); lower != k {
			mixed = append(mixed, rename{k, lower})
			continue
		}
		m[k] = f.insensitiviseValue(v) // an existing key: allowed while ranging
	}
	// Then the keys with capitals, in order, so that which of two
	// capitalised twins wins does not depend on the map's order.
	sort.Slice(mixed, func(i, j int) bool { return mixed[i].key < mixed[j].key })
	for _, r := range mixed {
		val := f.insensitiviseValue(m[r.key])
		delete(m, r.key)
		m[r.lower] = val
	}
}

func (f viperFlavor) insensitiviseValue(val any) any {
	switch v := val.(type) {
	case map[any]any:
		sm, _ := toStringMap(v)
		f.insensitivise(sm)
		return sm
	case map[string]any:
		f.insensitivise(v)
	case []any:
		if f.indexable { // v1.18 also folds the maps inside lists
			for i := range v {
				v[i] = f.insensitiviseValue(v[i])
			}
		}
	}
	return val
}

// allKeys is viper's AllKeys over the config layer: every leaf's dotted
// path, in a fixed order.
func allKeys(config map[string]any) []string {
	shadow := map[string]bool{}
	flatten(shadow, config, "")
	keys := make([]string, 0, len(shadow))
	for k := range shadow {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func flatten(shadow map[string]bool, m map[string]any, prefix string) {
	if prefix != "" && shadow[prefix] {
		return
	}
	if prefix != "" {
		prefix += "."
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		full := prefix + k
		m2, isMap := toStringMap(m[k])
		if !isMap {
			shadow[strings.ToLower(full)] = true
			continue
		}
		flatten(shadow, m2, full)
	}
}

// search is viper's lookup of a key path in the config layer: the longest
// dotted prefix of path that is a key wins, then the rest is looked up below
// it the same way.
func (f viperFlavor) search(source any, path []string) any {
	if len(path) == 0 {
		return source
	}
	for i := len(path); i > 0; i-- {
		prefix := strings.ToLower(strings.Join(path[:i], "."))
		var next any
		var ok bool
		switch s := source.(type) {
		case map[string]any:
			next, ok = s[prefix]
		case []any:
			if !f.indexable {
				break
			}
			if idx, err := strconv.Atoi(prefix); err == nil && idx >= 0 && idx < len(s) {
				next, ok = s[idx], true
			}
		}
		if !ok {
			continue
		}
		if i == len(path) {
			if next != nil || f.nullEndsSearch {
				return next
			}
			continue
		}
		var val any
		if m, isMap := toStringMap(next); isMap {
			val = f.search(m, path[i:])
		} else if l, isList := next.([]any); isList && f.indexable {
			val = f.search(l, path[i:])
		}
		if val != nil {
			return val
		}
	}
	return nil
}

// plainSettings is allSettings for a config (after insensitivise) whose
// keys are neither empty nor dotted and whose mappings are all
// map[string]any, as nearly every kubesphere.yaml is: viper's lookup of
// each leaf is then a walk down the tree (no dotted prefix can be a key),
// so AllSettings is the tree without its null leaves and without the
// mappings that hold no other leaf. ok is false for any other config.
// TestPlainSettings and FuzzDecodeFast compare it with allSettings.
func plainSettings(config map[string]any) (map[string]any, bool) {
	out := make(map[string]any, len(config))
	for k, v := range config {
		if k == "" || strings.Contains(k, ".") {
			return nil, false
		}
		switch x := v.(type) {
		case nil:
		case map[string]any:
			sub, ok := plainSettings(x)
			if !ok {
				return nil, false
			}
			if len(sub) > 0 {
				out[k] = sub
			}
		case map[any]any:
			return nil, false
		default:
			out[k] = v
		}
	}
	return out, true
}

// allSettings is viper's AllSettings: every key's value, looked up as Get
// does, set into a fresh nested map. It is what Unmarshal decodes.
func (f viperFlavor) allSettings(config map[string]any) map[string]any {
	m := map[string]any{}
	for _, k := range allKeys(config) {
		path := strings.Split(k, ".")
		value := f.search(config, path)
		if value == nil {
			continue
		}
		deepest := deepSearch(m, path[:len(path)-1])
		deepest[strings.ToLower(path[len(path)-1])] = value
	}
	return m
}

// deepSearch returns the map at path in m, creating (or replacing values
// with) maps on the way, as viper's does.
func deepSearch(m map[string]any, path []string) map[string]any {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}
