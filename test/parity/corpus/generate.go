// Package corpus generates kubesphere.yaml documents for the differential
// tests between ksguard and KubeSphere's own configuration loaders
// (test/parity/ks3 and test/parity/ks4, separate modules because each pins
// its own viper), and checks ksguard's decisions against a loader.
//
// The documents start from the v3.4.1 and v4.1.3 member configs and vary
// the jwtSecret and accessTokenMaxAge scalars (style, quoting, tags, block
// scalars, whitespace), the structure around them (flow style, dotted keys,
// anchors and merge keys, duplicate and case-variant keys, non-scalar keys,
// schema hybrids) and the text as a whole (CRLF, CR, BOM, '---', several
// documents). Generation is deterministic: the same cases every run.
package corpus

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed testdata/v3.4.1-member.yaml
var templateV3 string

//go:embed testdata/v4.1.3-member.yaml
var templateV4 string

// Case is one document to judge, with the host cluster's jwtSecret.
type Case struct {
	// Name says how the document was made ("v3/secret=dq/age=0s/host=yes").
	Name string
	// Doc is the kubesphere.yaml document.
	Doc string
	// Host is the host cluster's jwtSecret.
	Host string
}

// StrongHost is a host jwtSecret as KubeSphere generates them (32
// characters; the example of KubeSphere's documentation).
const StrongHost = "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU"

// hosts are host secrets whose spelling YAML 1.1 and 1.2 read differently,
// or read as something other than a string, plus a strong one.
var hosts = []string{
	StrongHost, "yes", "On", "n", "OFF", "y", "Y", "0123", "123", "1e3", "0x1F", "0o17",
	"true", "null", "~", "2001-12-14", "1_000", ".5", "+1", "kubesphere", "a b", "1:20",
}

// form writes a value after "key:"; indent is the key's indentation, for
// block scalars.
type form struct {
	name  string
	write func(v, indent string) string
}

var secretForms = []form{
	{"plain", func(v, _ string) string { return " " + v }},
	{"dq", func(v, _ string) string { return ` "` + dqEscape(v) + `"` }},
	{"sq", func(v, _ string) string { return " '" + strings.ReplaceAll(v, "'", "''") + "'" }},
	{"tag-str", func(v, _ string) string { return " !!str " + v }},
	{"literal-strip", func(v, ind string) string { return " |-\n" + ind + "  " + v }},
	{"folded-strip", func(v, ind string) string { return " >-\n" + ind + "  " + v }},
	{"literal-clip", func(v, ind string) string { return " |\n" + ind + "  " + v }},
	{"dq-trailing-space", func(v, _ string) string { return ` "` + dqEscape(v) + ` "` }},
	{"anchored", func(v, _ string) string { return ` &sec "` + dqEscape(v) + `"` }},
	{"plain-comment", func(v, _ string) string { return " " + v + " # the host's" }},
}

// ageForms are accessTokenMaxAge values; "ABSENT" removes the key.
var ageForms = []string{
	" 0", ` "0"`, " 0s", ` "0s"`, " '0s'", " 0h", " 0.0", " 0m0s", ` "0s "`, ` " 0s"`, ` "\t0"`,
	" |\n      0s", " >\n      0s", " |-\n      0s", " >-\n      0s", " 2h", ` "2h"`, " 7200", " -1s", " null",
	" ~", "", " {}", " []", " true", " false", " 0x0", " 00", " +0", " -0", " 0e0", " .0", " !!str 0",
	" !!int 0", " !!float 0", ` "0ns"`, ` "0us"`, ` "0µs"`, " 1ns", " 0.5ns", " 0.5", " 1.5", " .inf",
	" .nan", " 0_0", " 0b0", " 0o0", " 1e-9", " !!str 0s", " &age 0s", " 0s # zero", " 2h # two hours",
	" !!binary MHM=", ` "+0s"`, ` "-0s"`, ` "0.0s"`, " 0s0ms", " 00s", ` "0 s"`, " 1e-10", " -0.9",
	"ABSENT",
}

// Cases returns the whole corpus.
func Cases() []Case {
	var cs []Case
	for _, t := range []struct{ name, text string }{{"v3", templateV3}, {"v4", templateV4}} {
		// Every secret form of every host, with a zero and a 2h age.
		for _, h := range hosts {
			for _, sf := range secretForms {
				for _, age := range []string{" 0s", " 2h", "ABSENT"} {
					cs = append(cs, Case{
						Name: fmt.Sprintf("%s/secret=%s/age=%q/host=%q", t.name, sf.name, age, h),
						Doc:  fill(t.text, sf.write(h, secretIndent(t.name)), age),
						Host: h,
					})
				}
			}
		}
		// Every age form, with a strong secret and with a YAML 1.1 word.
		for _, age := range ageForms {
			for _, h := range []string{StrongHost, "yes", "0123"} {
				cs = append(cs, Case{
					Name: fmt.Sprintf("%s/age=%q/host=%q", t.name, age, h),
					Doc:  fill(t.text, ` "`+h+`"`, age),
					Host: h,
				})
			}
		}
		// A secret that is not the host's, in every form.
		for _, sf := range secretForms {
			cs = append(cs, Case{
				Name: fmt.Sprintf("%s/secret=%s/drifted", t.name, sf.name),
				Doc:  fill(t.text, sf.write("another-secret", secretIndent(t.name)), " 0s"),
				Host: StrongHost,
			})
		}
		// Structural variants, each with a few secret and age forms.
		for _, v := range variants(t.name) {
			for _, age := range []string{" 0s", " 2h", " 0", "ABSENT"} {
				for _, h := range []string{StrongHost, "On", "0123"} {
					doc := fill(t.text, ` "`+h+`"`, age)
					cs = append(cs, Case{
						Name: fmt.Sprintf("%s/%s/age=%q/host=%q", t.name, v.name, age, h),
						Doc:  v.apply(doc, h),
						Host: h,
					})
				}
			}
		}
	}
	return cs
}

func secretIndent(schema string) string {
	if schema == "v4" {
		return "    "
	}
	return "  "
}

// fill puts the secret and age texts into a template.
func fill(tmpl, secret, age string) string {
	doc := strings.Replace(tmpl, "{{SECRET}}", secret, 1)
	if age == "ABSENT" {
		lines := strings.Split(doc, "\n")
		out := lines[:0]
		for _, l := range lines {
			if !strings.Contains(l, "{{AGE}}") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	return strings.Replace(doc, "{{AGE}}", age, 1)
}

func dqEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// variant changes a filled-in document; h is the host secret in it.
type variant struct {
	name  string
	apply func(doc, h string) string
}

// after inserts text after the first line that starts with prefix (or
// appends it when there is none).
func after(doc, prefix, text string) string {
	lines := strings.SplitAfter(doc, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return strings.Join(lines[:i+1], "") + text + strings.Join(lines[i+1:], "")
		}
	}
	return doc + text
}

// replaceLine replaces the first line that starts with prefix.
func replaceLine(doc, prefix, text string) string {
	lines := strings.SplitAfter(doc, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = text
			break
		}
	}
	return strings.Join(lines, "")
}

func appendText(text string) func(string, string) string {
	return func(doc, _ string) string { return strings.TrimRight(doc, "\n") + "\n" + text }
}

func prependText(text string) func(string, string) string {
	return func(doc, _ string) string { return text + doc }
}

func variants(schema string) []variant {
	sec, ageParent, ageKey := "  jwtSecret:", "  oauthOptions:", "    accessTokenMaxAge:"
	secPath, agePath := "authentication.jwtSecret", "authentication.oauthOptions.accessTokenMaxAge"
	inner := "  oauthOptions.accessTokenMaxAge: 2h\n"
	if schema == "v4" {
		sec, ageParent = "    jwtSecret:", "  issuer:"
		secPath, agePath = "authentication.issuer.jwtSecret", "authentication.issuer.accessTokenMaxAge"
		inner = "  issuer.accessTokenMaxAge: 2h\n"
	}
	vs := []variant{
		{"dotted-top-secret", appendText(secPath + ": another-secret\n")},
		{"dotted-top-secret-same", func(doc, h string) string { return appendText(secPath+`: "`+dqEscape(h)+"\"\n")(doc, h) }},
		{"dotted-top-age", appendText(agePath + ": 2h\n")},
		{"dotted-top-age-zero", appendText(agePath + ": 0s\n")},
		{"dotted-top-null", appendText(agePath + ":\n")},
		{"dotted-inner-age", func(doc, _ string) string { return after(doc, "authentication:", inner) }},
		{"dotted-section", appendText(strings.TrimSuffix(agePath, ".accessTokenMaxAge") + ":\n  accessTokenMaxAge: 2h\n")},
		{"merge-after-explicit", func(doc, _ string) string {
			return after("base: &base\n  accessTokenMaxAge: 2h\n"+doc, ageKey, "    <<: *base\n")
		}},
		{"merge-before-explicit", func(doc, _ string) string {
			return after("base: &base\n  accessTokenMaxAge: 2h\n"+doc, ageParent, "    <<: *base\n")
		}},
		{"merge-secret-after", func(doc, _ string) string {
			return after("base: &base\n  jwtSecret: another-secret\n"+doc, sec, strings.Repeat(" ", len(sec)-len(strings.TrimLeft(sec, " ")))+"<<: *base\n")
		}},
		{"merge-top-after", appendText("<<: {authentication: {jwtSecret: another-secret}}\n")},
		{"merge-top-anchor-after", func(doc, _ string) string {
			return "x: &auth\n  authentication:\n    jwtSecret: another-secret\n" + strings.TrimRight(doc, "\n") + "\n<<: *auth\n"
		}},
		{"merge-scalar", func(doc, _ string) string { return after(doc, ageParent, "    <<: scalar\n") }},
		{"merge-scalar-list", func(doc, _ string) string { return after(doc, ageParent, "    <<: [scalar]\n") }},
		{"merge-top-int", appendText("<<: 1\n")},
		{"merge-list-of-maps", func(doc, _ string) string {
			return after("a: &a {accessTokenMaxAge: 2h}\nb: &b {accessTokenMaxAge: 0s}\n"+doc, ageParent, "    <<: [*a, *b]\n")
		}},
		{"nonscalar-key-top", appendText("? [a, b]\n: c\n")},
		{"nonscalar-key-auth", func(doc, _ string) string { return after(doc, "authentication:", "  ? {a: b}\n  : c\n") }},
		{"int-key-elsewhere", appendText("1: x\n")},
		{"null-key-elsewhere", appendText("~: y\n")},
		{"bool-key-elsewhere", appendText("true: t\n")},
		{"float-key-elsewhere", appendText("1.5: f\n")},
		{"int-key-auth", func(doc, _ string) string { return after(doc, "authentication:", "  1: x\n") }},
		{"duplicate-secret", func(doc, _ string) string { return after(doc, sec, sec+" another-secret\n") }},
		{"duplicate-age", func(doc, _ string) string { return after(doc, ageParent, "    accessTokenMaxAge: 2h\n") }},
		{"case-variant-secret", func(doc, _ string) string {
			return after(doc, sec, strings.Replace(sec, "jwtSecret", "JWTSecret", 1)+" another-secret\n")
		}},
		{"case-variant-age", func(doc, _ string) string { return after(doc, ageParent, "    AccessTokenMaxAge: 2h\n") }},
		{"case-variant-authentication", appendText("Authentication:\n  multipleLogin: false\n")},
		{"case-only-authentication", func(doc, _ string) string { return strings.Replace(doc, "authentication:", "AUTHENTICATION:", 1) }},
		{"anchor-secret-aliased", func(doc, h string) string {
			return appendText("copy: *sec\n")(replaceLine(doc, sec, sec+` &sec "`+dqEscape(h)+"\"\n"), h)
		}},
		{"alias-secret", func(doc, h string) string {
			return replaceLine(`s: &s "`+dqEscape(h)+"\"\n"+doc, sec, sec+" *s\n")
		}},
		{"alias-age", func(doc, _ string) string {
			return replaceLine("z: &z 2h\n"+doc, ageKey, ageKey+" *z\n")
		}},
		{"crlf", func(doc, _ string) string { return strings.ReplaceAll(doc, "\n", "\r\n") }},
		{"cr-only", func(doc, _ string) string { return strings.ReplaceAll(doc, "\n", "\r") }},
		{"u2028", func(doc, _ string) string { return strings.ReplaceAll(doc, "\n", "\u2028") }},
		{"nel", func(doc, _ string) string { return strings.ReplaceAll(doc, "\n", "\u0085") }},
		{"bom", prependText("\ufeff")},
		{"doc-start", prependText("---\n")},
		{"doc-end", appendText("...\n")},
		{"two-documents", appendText("---\nauthentication:\n  jwtSecret: another-secret\n")},
		{"yaml-directive", prependText("%YAML 1.1\n---\n")},
		{"tag-map", func(doc, _ string) string {
			return strings.Replace(doc, "authentication:\n", "authentication: !!map\n", 1)
		}},
		{"comments", func(doc, _ string) string { return strings.ReplaceAll(doc, ":\n", ": # c\n") }},
		{"tab-after-colon", func(doc, _ string) string { return strings.Replace(doc, "jwtSecret: ", "jwtSecret:\t", 1) }},
	}
	if schema == "v3" {
		vs = append(vs,
			variant{"hybrid-issuer-map", func(doc, h string) string {
				return after(doc, "authentication:", "  issuer:\n    jwtSecret: \""+dqEscape(h)+"\"\n    accessTokenMaxAge: 0s\n")
			}},
			variant{"hybrid-issuer-null", func(doc, _ string) string { return after(doc, "authentication:", "  issuer:\n") }},
			variant{"oauth-null", func(doc, _ string) string { return cutSection(doc, "  oauthOptions:", "  oauthOptions: null\n") }},
			variant{"oauth-empty-flow", func(doc, _ string) string { return cutSection(doc, "  oauthOptions:", "  oauthOptions: {}\n") }},
			variant{"oauth-flow", func(doc, _ string) string {
				return cutSection(doc, "  oauthOptions:", "  oauthOptions: {accessTokenMaxAge: 2h, clients: []}\n")
			}},
			variant{"oauth-issuer-string", func(doc, _ string) string { return after(doc, "  oauthOptions:", "    issuer: kubesphere\n") }},
		)
	} else {
		vs = append(vs,
			variant{"issuer-null", func(doc, _ string) string { return cutSection(doc, "  issuer:", "  issuer: null\n") }},
			variant{"issuer-empty", func(doc, _ string) string { return cutSection(doc, "  issuer:", "  issuer:\n") }},
			variant{"issuer-tilde", func(doc, _ string) string { return cutSection(doc, "  issuer:", "  issuer: ~\n") }},
			variant{"hybrid-oauth", func(doc, _ string) string {
				return after(doc, "authentication:", "  oauthOptions:\n    accessTokenMaxAge: 2h\n")
			}},
			variant{"legacy-secret-same", func(doc, h string) string {
				return after(doc, "authentication:", "  jwtSecret: \""+dqEscape(h)+"\"\n")
			}},
			variant{"legacy-secret-other", func(doc, _ string) string { return after(doc, "authentication:", "  jwtSecret: another-secret\n") }},
			variant{"issuer-flow", func(doc, h string) string {
				return cutSection(doc, "  issuer:", "  issuer: {jwtSecret: \""+dqEscape(h)+"\", accessTokenMaxAge: 2h}\n")
			}},
		)
	}
	vs = append(vs,
		variant{"authentication-null", func(doc, _ string) string { return cutSection(doc, "authentication:", "authentication: null\n") }},
		variant{"flow-authentication", func(doc, h string) string {
			if schema == "v4" {
				return cutSection(doc, "authentication:", "authentication: {issuer: {jwtSecret: \""+dqEscape(h)+"\", accessTokenMaxAge: 2h}}\n")
			}
			return cutSection(doc, "authentication:", "authentication: {jwtSecret: \""+dqEscape(h)+"\", oauthOptions: {accessTokenMaxAge: 2h}}\n")
		}},
		variant{"json-document", func(_, h string) string {
			if schema == "v4" {
				return `{"authentication": {"issuer": {"jwtSecret": "` + dqEscape(h) + `", "accessTokenMaxAge": "0s"}}}` + "\n"
			}
			return `{"authentication": {"jwtSecret": "` + dqEscape(h) + `", "oauthOptions": {"accessTokenMaxAge": "0s"}}}` + "\n"
		}},
		variant{"json-then-block", func(_, h string) string {
			if schema == "v4" {
				return `{"authentication": {"issuer": {"jwtSecret": "` + dqEscape(h) + `", "accessTokenMaxAge": "0s"}}}` + "\nextra: 1\n"
			}
			return `{"authentication": {"jwtSecret": "` + dqEscape(h) + `", "oauthOptions": {"accessTokenMaxAge": "0s"}}}` + "\nextra: 1\n"
		}},
	)
	return vs
}

// cutSection replaces the line starting with prefix and the more-indented
// lines below it with text.
func cutSection(doc, prefix, text string) string {
	lines := strings.SplitAfter(doc, "\n")
	indent := len(prefix) - len(strings.TrimLeft(prefix, " "))
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		j := i + 1
		for j < len(lines) {
			t := strings.TrimLeft(lines[j], " ")
			if t != "" && t != "\n" && len(lines[j])-len(t) <= indent {
				break
			}
			j++
		}
		return strings.Join(lines[:i], "") + text + strings.Join(lines[j:], "")
	}
	return doc
}

// Seeds returns the structural variants of the corpus (one per variant and
// template), as fuzz seeds.
func Seeds() []Case {
	var out []Case
	seen := map[string]bool{}
	for _, c := range Cases() {
		parts := strings.SplitN(c.Name, "/", 3)
		if len(parts) < 3 || strings.HasPrefix(parts[1], "secret=") || strings.HasPrefix(parts[1], "age=") {
			continue
		}
		if key := parts[0] + "/" + parts[1]; !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	return out
}
