package validate

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// entry is one key/value pair of a mapping, as ks-apiserver would resolve it.
type entry struct {
	key   *yaml.Node // the key as written (for merged entries: in the merged mapping)
	value *yaml.Node // the value, with aliases resolved
	// shared is true when the value is reached through an alias or a merge
	// key (<<), so that editing its text would change other keys too.
	shared bool
}

// resolve follows an alias node to the node it names.
func resolve(n *yaml.Node) (*yaml.Node, bool) {
	aliased := false
	for n != nil && n.Kind == yaml.AliasNode {
		n, aliased = n.Alias, true
	}
	return n, aliased
}

// lookup finds key in mapping m the way viper does for KubeSphere: keys match
// case-insensitively and the last match wins; keys written in m win over keys
// merged in with "<<". It returns ok=false when m holds no such key.
func lookup(m *yaml.Node, key string) (e entry, ok bool) {
	if m == nil || m.Kind != yaml.MappingNode {
		return entry{}, false
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		if strings.EqualFold(k.Value, key) {
			val, aliased := resolve(v)
			e, ok = entry{key: k, value: val, shared: aliased}, true
		}
	}
	if ok {
		return e, true
	}
	// YAML merge keys: the first merged mapping that has the key wins.
	for _, mv := range merges {
		mv, _ = resolve(mv)
		sources := []*yaml.Node{mv}
		if mv != nil && mv.Kind == yaml.SequenceNode {
			sources = mv.Content
		}
		for _, src := range sources {
			src, _ = resolve(src)
			if me, found := lookup(src, key); found {
				me.shared = true
				return me, true
			}
		}
	}
	return entry{}, false
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Style == 0)
}

// isNull reports whether n is a YAML null (absent value, "~" or "null").
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}
