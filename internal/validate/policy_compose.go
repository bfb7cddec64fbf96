package validate

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ksguard/ksguard/policies"
)

// Policy modes: how the files of a policy directory combine with the
// embedded policies.
const (
	// PolicyModeAdditive adds the directory's files to the embedded
	// policies: they may add violation, advice and edits rules and new
	// helpers to package ksguard.admission, never redefine a built-in rule,
	// so no built-in guarantee can be lost by adding a file.
	PolicyModeAdditive = "additive"
	// PolicyModeReplace serves the directory's files alone.
	PolicyModeReplace = "replace"
)

// PolicyModes lists the policy modes, the default first.
var PolicyModes = []string{PolicyModeAdditive, PolicyModeReplace}

// EmbeddedPrefix starts the names of the embedded policy files in compiler
// messages, test reports and explanations.
const EmbeddedPrefix = "(embedded)/"

// extensionRules are the rules of package ksguard.admission that a policy
// directory may add to in additive mode.
var extensionRules = []string{"violation", "advice", "edits"}

// EmbeddedModules returns the embedded policies' sources, keyed by
// EmbeddedPrefix + file name; tests (*_test.rego) are included when tests is
// true.
func EmbeddedModules(tests bool) (map[string]string, error) {
	mods, err := readRego(policies.FS, tests)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded policies: %w", err)
	}
	out := make(map[string]string, len(mods))
	for p, src := range mods {
		out[EmbeddedPrefix+p] = src
	}
	return out, nil
}

// ReadDirModules reads the .rego files under dir (see ReadModules; with
// ReadModulesWithTests when tests is true) and names each by its path
// joined to name, the directory as the user gave it, so that compiler
// messages point at the file the user edits.
func ReadDirModules(dir fs.FS, name string, tests bool) (map[string]string, error) {
	mods, err := readRego(dir, tests)
	if err != nil {
		return nil, fmt.Errorf("reading policies from %s: %w", name, err)
	}
	out := make(map[string]string, len(mods))
	for p, src := range mods {
		out[path.Join(name, p)] = src
	}
	return out, nil
}

// ComposeModules returns the policy sources ksguard compiles for mode from
// the embedded sources and those of policy directories (each from
// ReadDirModules). Replace serves the directories alone (and the embedded
// policies when none is given). Additive adds the directories' files to the
// embedded ones after checking that none redefines a built-in rule of
// package ksguard.admission or touches ksguard's internal packages; a file
// identical to an embedded one (a copy of policies/) is the built-in itself
// and is left out.
func ComposeModules(mode string, embedded map[string]string, dirs ...map[string]string) (map[string]string, error) {
	out := map[string]string{}
	switch mode {
	case PolicyModeReplace:
		for _, d := range dirs {
			for p, src := range d {
				out[p] = src
			}
		}
		if len(dirs) == 0 {
			return embedded, nil
		}
		return out, nil
	case PolicyModeAdditive:
	default:
		return nil, fmt.Errorf("policy mode must be %s, not %q", strings.Join(PolicyModes, " or "), mode)
	}
	builtin, err := builtinRules(embedded)
	if err != nil {
		return nil, err
	}
	same := map[string]bool{}
	for p, src := range embedded {
		out[p] = src
		same[src] = true
	}
	for _, d := range dirs {
		for _, p := range sortedKeys(d) {
			if same[d[p]] {
				continue
			}
			if err := checkAdditive(p, d[p], builtin); err != nil {
				return nil, err
			}
			out[p] = d[p]
		}
	}
	return out, nil
}

// builtinRules maps each rule name of the embedded package ksguard.admission
// to the file that defines it.
func builtinRules(embedded map[string]string) (map[string]string, error) {
	names := map[string]string{}
	for _, p := range sortedKeys(embedded) {
		m, err := parseModule(p, embedded[p])
		if err != nil {
			return nil, fmt.Errorf("parsing the embedded policies: %w", err)
		}
		if m.Package.Path.String() != "data."+PolicyPackage {
			continue
		}
		for _, r := range m.Rules {
			if _, seen := names[ruleName(r)]; !seen {
				names[ruleName(r)] = p
			}
		}
	}
	return names, nil
}

// checkAdditive refuses a directory file that would change a built-in rule
// rather than add to the policies.
func checkAdditive(file, src string, builtin map[string]string) error {
	m, err := parseModule(file, src)
	if err != nil {
		return fmt.Errorf("compiling policy: %w", err)
	}
	pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
	if pkg == "ksguard.internal" || strings.HasPrefix(pkg, "ksguard.internal.") {
		return fmt.Errorf("%s:%d: package %s is ksguard's own; put your rules in package %s or a package of your own", file, m.Package.Location.Row, pkg, PolicyPackage)
	}
	if pkg != PolicyPackage {
		return nil
	}
	for _, r := range m.Rules {
		name := ruleName(r)
		def, isBuiltin := builtin[name]
		if !isBuiltin || slices.Contains(extensionRules, name) {
			continue
		}
		return fmt.Errorf("%s:%d: rule %s is a built-in rule of package %s (%s): a policy directory adds to the built-in policies (--policy-mode=%s), so it may add %s rules and new helpers but not redefine a built-in one; rename your rule, or serve the directory alone with --policy-mode=%s (chart: policies.mode=%s)",
			file, r.Location.Row, name, PolicyPackage, def, PolicyModeAdditive, strings.Join(extensionRules, ", "), PolicyModeReplace, PolicyModeReplace)
	}
	return nil
}

// ruleName is the first name of a rule's head (violation for
// `violation contains msg if ...`).
func ruleName(r *ast.Rule) string {
	ref := r.Head.Ref()
	if len(ref) == 0 {
		return r.Head.Name.String()
	}
	return ref[0].Value.String()
}

// parseModule parses one Rego v1 module, keeping its METADATA annotations.
func parseModule(file, src string) (*ast.Module, error) {
	return ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
}

// ParseModules parses Rego sources (path to source) as ksguard compiles
// them (Rego v1). The error names the file and line.
func ParseModules(sources map[string]string) (map[string]*ast.Module, error) {
	out := make(map[string]*ast.Module, len(sources))
	for _, p := range sortedKeys(sources) {
		m, err := parseModule(p, sources[p])
		if err != nil {
			return nil, fmt.Errorf("compiling policy: %w", err)
		}
		out[p] = m
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadSources reads the policy sources ksguard compiles for mode: the
// embedded policies composed with the .rego files of each directory in dirs
// (see ComposeModules); tests (*_test.rego) are included when tests is true.
func LoadSources(mode string, tests bool, dirs ...string) (map[string]string, error) {
	embedded, err := EmbeddedModules(tests)
	if err != nil {
		return nil, err
	}
	var read []map[string]string
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("reading policies: %w", err)
		}
		mods, err := ReadDirModules(os.DirFS(dir), dir, tests)
		if err != nil {
			return nil, err
		}
		read = append(read, mods)
	}
	return ComposeModules(mode, embedded, read...)
}
