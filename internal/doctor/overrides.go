package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/internal/validate"
)

// Settings doctor follows through overrides.
const (
	settingJWTSecret         = "jwtSecret"
	settingAccessTokenMaxAge = "accessTokenMaxAge"
	settingMaximumClockSkew  = "maximumClockSkew"
)

// Override is a setting the ks-apiserver container sets outside the file:
// an environment variable, which viper (env prefix KUBESPHERE, "." → "_")
// lets beat the file for keys the file sets, or a command-line flag, which
// beats both. Value may be a secret: compare it, never print it.
type Override struct {
	// Setting is jwtSecret, accessTokenMaxAge or maximumClockSkew.
	Setting string
	// Source names it: "env KUBESPHERE_AUTHENTICATION_JWTSECRET" or
	// "flag --jwt-secret".
	Source string
	// Value is its value; "" with Problem set when it could not be read.
	Value string
	// Problem says why Value could not be read (a Secret doctor may not
	// read).
	Problem string
	// key is viper's key for an environment variable; "" for a flag.
	key string
}

// overrideSources: per setting, the environment variables of each schema
// and the flag (kubesphere/kubesphere v3.4.1 pkg/apiserver/config
// defaultConfig: SetEnvPrefix("kubesphere"), SetEnvKeyReplacer(".", "_");
// v4.1.3 pkg/config the same; flags from authentication.Options.AddFlags).
var overrideSources = []struct {
	setting    string
	v3Key      string
	v4Key      string
	flag       string
	isDuration bool
}{
	{settingJWTSecret, "authentication.jwtsecret", "authentication.issuer.jwtsecret", "--jwt-secret", false},
	{settingAccessTokenMaxAge, "authentication.oauthoptions.accesstokenmaxage", "authentication.issuer.accesstokenmaxage", "--access-token-max-age", true},
	{settingMaximumClockSkew, "authentication.maximumclockskew", "authentication.issuer.maximumclockskew", "--maximum-clock-skew", true},
}

// envName is viper's environment variable for key.
func envName(key string) string {
	return "KUBESPHERE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// overrides lists the overrides on container ct.
func (s *Snapshot) overrides(ctx context.Context, ct corev1.Container) []Override {
	var out []Override
	for _, src := range overrideSources {
		key := src.v3Key
		if s.Schema == validate.SchemaV4 {
			key = src.v4Key
		}
		for _, e := range ct.Env {
			if e.Name != envName(key) {
				continue
			}
			o := Override{Setting: src.setting, Source: "env " + e.Name, key: key}
			o.Value, o.Problem = s.envValue(ctx, e)
			out = append(out, o)
		}
		args := append(append([]string(nil), ct.Command...), ct.Args...)
		for i, a := range args {
			var v string
			switch {
			case strings.HasPrefix(a, src.flag+"="):
				v = strings.TrimPrefix(a, src.flag+"=")
			case a == src.flag && i+1 < len(args):
				v = args[i+1]
			default:
				continue
			}
			out = append(out, Override{Setting: src.setting, Source: "flag " + src.flag, Value: v})
		}
	}
	return out
}

// envValue reads an environment variable's value, following a Secret or
// ConfigMap reference.
func (s *Snapshot) envValue(ctx context.Context, e corev1.EnvVar) (string, string) {
	switch {
	case e.ValueFrom == nil:
		return e.Value, ""
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		sec := &corev1.Secret{}
		if err := s.c.Get(ctx, types.NamespacedName{Namespace: configKey.Namespace, Name: ref.Name}, sec); err != nil {
			return "", fmt.Sprintf("it comes from Secret %s/%s, which doctor could not read: %v", configKey.Namespace, ref.Name, err)
		}
		v, ok := sec.Data[ref.Key]
		if !ok {
			return "", fmt.Sprintf("Secret %s/%s has no key %s", configKey.Namespace, ref.Name, ref.Key)
		}
		return string(v), ""
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		cm := &corev1.ConfigMap{}
		if err := s.c.Get(ctx, types.NamespacedName{Namespace: configKey.Namespace, Name: ref.Name}, cm); err != nil {
			return "", fmt.Sprintf("it comes from ConfigMap %s/%s, which doctor could not read: %v", configKey.Namespace, ref.Name, err)
		}
		return cm.Data[ref.Key], ""
	}
	return "", "its value comes from the pod's own fields, which doctor does not follow"
}

// effective is a setting as ks-apiserver runs with it: a flag beats an
// environment variable, which beats the file for keys the file sets.
type effective struct {
	value   string // for the jwtSecret
	dur     time.Duration
	source  string // "the file", or the override's Source
	problem string // the value could not be read (an unreadable Secret, a bad duration)
}

// effectiveSetting resolves setting for s, starting from the file's value.
func (s *Snapshot) effectiveSetting(setting string) effective {
	e := effective{source: "kubesphere.yaml"}
	switch setting {
	case settingJWTSecret:
		e.value = s.Reading.JWTSecret
	case settingAccessTokenMaxAge:
		e.dur = s.Reading.AccessTokenMaxAge
	case settingMaximumClockSkew:
		e.dur = s.Reading.MaximumClockSkew
	}
	apply := func(o Override) {
		e.source, e.problem = o.Source, o.Problem
		if o.Problem != "" {
			return
		}
		if setting == settingJWTSecret {
			e.value = o.Value
			return
		}
		d, err := time.ParseDuration(o.Value)
		if err != nil {
			e.problem = fmt.Sprintf("%s is not a duration ks-apiserver can read", o.Source)
			return
		}
		e.dur = d
	}
	for _, o := range s.Overrides { // environment variables first
		if o.Setting == setting && o.key != "" && slices.Contains(s.Reading.Keys, o.key) {
			apply(o)
		}
	}
	for _, o := range s.Overrides { // then flags
		if o.Setting == setting && o.key == "" {
			apply(o)
		}
	}
	return e
}
