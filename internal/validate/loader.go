package validate

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mitchellh/mapstructure"
	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

// loaderReading is what one KubeSphere version's ks-apiserver reads from a
// document: its configuration loader is viper over a YAML library, then
// mapstructure into the authentication options (kubesphere.go). ksguard
// reads every document this way, with the libraries at the versions
// KubeSphere pins (yaml.v2 v2.4.0 for v3, yaml.v3 v3.0.1 for v4, mapstructure
// v1.5.0, viper's steps ported in viper.go), besides its own
// position-keeping parse, and refuses a document where the two disagree.
// test/parity checks this reading against the real loaders.
type loaderReading struct {
	// loader names the loader in messages.
	loader string
	// err is set when the loader cannot load the document: ks-apiserver
	// would not start.
	err *loadError
	// settings is viper's AllSettings: what Unmarshal decodes (lower-case
	// keys).
	settings map[string]any
	// jwtSecret and accessTokenMaxAge are the decoded values (with
	// KubeSphere's defaults for what the document does not set).
	jwtSecret         string
	accessTokenMaxAge time.Duration
	maximumClockSkew  time.Duration
}

// Loader names, for messages.
const (
	loaderNameV3 = "KubeSphere v3's loader (viper v1.4 with yaml.v2, YAML 1.1)"
	loaderNameV4 = "KubeSphere v4's loader (viper v1.18 with yaml.v3)"
)

// loadError is why a loader cannot load a document. It never holds a value
// from the document.
type loadError struct {
	// path is the setting the loader could not decode ("" for YAML errors).
	path Path
	// line is where, when known.
	line int
	// message says what is wrong, without values.
	message string
}

// readAsKubeSphere reads text as ks-apiserver of schema does (v3 for any
// schema but v4), once per text: see readings.
func readAsKubeSphere(schema string, text []byte) loaderReading {
	return readings.read(schema, text, nil)
}

// loadAsKubeSphere is readAsKubeSphere without the cache. tree, when not
// nil, is text parsed (ParseDocument): where configFromTree can, the
// config is built from it instead of decoding text again.
func loadAsKubeSphere(schema string, text []byte, tree *Document) loaderReading {
	r := settingsAsKubeSphere(schema, text, tree)
	if r.err != nil {
		return r
	}
	v, ok := decodeFast(schema, r.settings)
	if !ok {
		if v, r.err = decodeSlow(schema, r.settings); r.err != nil {
			return r
		}
	}
	r.jwtSecret, r.accessTokenMaxAge, r.maximumClockSkew = v.jwtSecret, v.accessTokenMaxAge, v.maximumClockSkew
	return r
}

// settingsAsKubeSphere reads text with the YAML library schema's loader
// pins and goes through viper's steps: the reading's settings (viper's
// AllSettings), not decoded yet. tree is as for loadAsKubeSphere.
func settingsAsKubeSphere(schema string, text []byte, tree *Document) loaderReading {
	r := loaderReading{loader: loaderNameV3}
	flavor := viperV14
	if schema == SchemaV4 {
		r.loader, flavor = loaderNameV4, viperV118
	}
	config, fromTree := configFromTree(tree, schema)
	var err error
	switch {
	case fromTree:
	case schema == SchemaV4:
		config = map[string]any{}
		err = yaml3.Unmarshal(text, &config)
	default:
		config = map[string]any{}
		err = unmarshalYAML2(text, &config)
	}
	if err != nil {
		r.err = yamlLoadError(err)
		return r
	}
	flavor.insensitivise(config)
	if plain, ok := plainSettings(config); ok {
		r.settings = plain
	} else {
		r.settings = flavor.allSettings(config)
	}
	return r
}

// decodeSlow decodes settings into the authentication options with
// mapstructure and viper's decoder config (viper's Unmarshal); a
// loadError when ks-apiserver could not decode them.
func decodeSlow(schema string, settings map[string]any) (decoded, *loadError) {
	dc := &mapstructure.DecoderConfig{ // viper's defaultDecoderConfig
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	}
	var v decoded
	var err error
	if schema == SchemaV4 {
		c := newKSConfigV4()
		dc.Result = c
		err = decode(dc, settings)
		if a := c.AuthenticationOptions; err == nil && a != nil && a.Issuer != nil {
			v = decoded{a.Issuer.JWTSecret, a.Issuer.AccessTokenMaxAge, a.Issuer.MaximumClockSkew}
		}
	} else {
		c := newKSConfigV3()
		dc.Result = c
		err = decode(dc, settings)
		if a := c.AuthenticationOptions; err == nil && a != nil && a.OAuthOptions != nil {
			v = decoded{a.JwtSecret, a.OAuthOptions.AccessTokenMaxAge, a.MaximumClockSkew}
		}
	}
	if err != nil {
		return v, decodeLoadError(err, reflect.TypeOf(dc.Result).Elem())
	}
	return v, nil
}

// unmarshalYAML2 is yaml.v2's Unmarshal, which reports some documents
// (invalid map keys, bad merges) by panicking inside and recovering; any
// other panic becomes an error too.
func unmarshalYAML2(text []byte, out any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: %v", p)
		}
	}()
	return yaml2.Unmarshal(text, out)
}

func decode(dc *mapstructure.DecoderConfig, in map[string]any) error {
	d, err := mapstructure.NewDecoder(dc)
	if err != nil {
		return err
	}
	return d.Decode(in)
}

// get returns the value viper's settings hold at path (any case), and
// whether there is one.
func (r loaderReading) get(path Path) (any, bool) {
	var cur any = r.settings
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[strings.ToLower(k)]; !ok {
			return nil, false
		}
	}
	return cur, true
}

var (
	yamlErrLineRE   = regexp.MustCompile(`line (\d+)`)
	backquotedRE    = regexp.MustCompile("`[^`]*`")
	invalidMapKeyRE = regexp.MustCompile(`invalid map key: .*`)
	mappingKeyRE    = regexp.MustCompile(`mapping key ".*?" already`)
)

// yamlLoadError turns a YAML library's error into a loadError. The
// libraries quote scalars and keys in some messages; those are cut.
func yamlLoadError(err error) *loadError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n", "")
	msg = backquotedRE.ReplaceAllString(msg, "a value")
	msg = invalidMapKeyRE.ReplaceAllString(msg, "a key that is a list or a mapping")
	msg = mappingKeyRE.ReplaceAllString(msg, "a mapping key already")
	msg = strings.Join(strings.Fields(msg), " ")
	le := &loadError{message: "it cannot read the YAML: " + msg}
	if m := yamlErrLineRE.FindStringSubmatch(msg); m != nil {
		le.line, _ = strconv.Atoi(m[1])
	}
	return le
}

var quotedNameRE = regexp.MustCompile(`'([^']*)'`)

// decodeLoadError turns mapstructure's error into a loadError naming the
// first setting that failed and the type it needs. mapstructure's own
// messages quote the value, so only the setting's name is kept.
func decodeLoadError(err error, root reflect.Type) *loadError {
	msgs := []string{err.Error()}
	var me *mapstructure.Error
	if errors.As(err, &me) && len(me.Errors) > 0 {
		msgs = me.Errors
	}
	m := quotedNameRE.FindStringSubmatch(msgs[0])
	if m == nil {
		return &loadError{message: "it cannot decode the authentication settings"}
	}
	var path Path
	for _, p := range strings.Split(m[1], ".") {
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		path = append(path, p)
	}
	le := &loadError{path: path, message: fmt.Sprintf("it cannot decode %s as %s", path, typeDescription(fieldType(root, path)))}
	if len(msgs) > 1 {
		le.message += fmt.Sprintf(" (and %d more settings)", len(msgs)-1)
	}
	return le
}

// fieldType follows path (mapstructure field names, matched without case;
// the first element is the "authentication" tag) through root's fields.
func fieldType(root reflect.Type, path Path) reflect.Type {
	t := root
	for _, name := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if strings.EqualFold(f.Name, name) || f.Tag.Get("mapstructure") == name {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return nil
		}
	}
	return t
}

func typeDescription(t reflect.Type) string {
	if t == nil {
		return "its type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "a duration (such as 0s or 10m)"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "an integer"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "a mapping"
	}
	return "its type"
}

// KubeSphereReading is what ks-apiserver reads from a kubesphere.yaml
// document: the settings doctor compares across clusters. It holds the
// jwtSecret: never print it.
type KubeSphereReading struct {
	// JWTSecret is the effective jwtSecret ("" when unset).
	JWTSecret string
	// AccessTokenMaxAge is the effective accessTokenMaxAge (the 2h default
	// when unset).
	AccessTokenMaxAge time.Duration
	// MaximumClockSkew is the effective maximumClockSkew (v3:
	// authentication.maximumClockSkew, v4: authentication.issuer's; the
	// 10s default when unset).
	MaximumClockSkew time.Duration
	// ClusterRole is multicluster.clusterRole ("" when unset).
	ClusterRole string
	// Keys are the settings the document sets, as viper's lower-case
	// dotted keys (environment variables override only these).
	Keys []string
}

// ReadAsKubeSphere returns what ks-apiserver of schema (SchemaV4, else v3)
// reads from text, a kubesphere.yaml document, or an error saying why it
// cannot load the document (the error never holds a value from it). It is
// the reading every decision rests on; doctor and the differential tests
// against KubeSphere's own loaders use it too.
func ReadAsKubeSphere(schema string, text []byte) (KubeSphereReading, error) {
	r := readAsKubeSphere(schema, text)
	if r.err != nil {
		return KubeSphereReading{}, errors.New(r.err.message)
	}
	out := KubeSphereReading{JWTSecret: r.jwtSecret, AccessTokenMaxAge: r.accessTokenMaxAge, MaximumClockSkew: r.maximumClockSkew}
	if role, ok := r.get(Path{"multicluster", "clusterRole"}); ok {
		out.ClusterRole = castToString(role)
	}
	out.Keys = allKeys(r.settings)
	return out, nil
}
