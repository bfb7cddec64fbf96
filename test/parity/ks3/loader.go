// Package ks3 is KubeSphere v3.4.1's own configuration loader, for the
// differential tests: viper v1.4.0 over gopkg.in/yaml.v2 v2.4.0 and
// mapstructure v1.5.0, the versions kubesphere/kubesphere@v3.4.1 pins in its
// go.mod (replace block), decoding into copies of its authentication options.
//
// Nothing here is ksguard's code: the tests compare ksguard's decisions with
// what this loader reads, so it must stay an independent copy.
package ks3

import (
	"bytes"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Config mirrors the authentication part of Config in
// kubesphere/kubesphere@v3.4.1 pkg/apiserver/config/config.go.
type Config struct {
	AuthenticationOptions *Options `json:"authentication,omitempty" yaml:"authentication,omitempty" mapstructure:"authentication"`
}

// Options mirrors kubesphere/kubesphere@v3.4.1
// pkg/apiserver/authentication/options.go Options.
type Options struct {
	AuthenticateRateLimiterMaxTries int           `json:"authenticateRateLimiterMaxTries" yaml:"authenticateRateLimiterMaxTries"`
	AuthenticateRateLimiterDuration time.Duration `json:"authenticateRateLimiterDuration" yaml:"authenticateRateLimiterDuration"`
	MaximumClockSkew                time.Duration `json:"maximumClockSkew" yaml:"maximumClockSkew"`
	LoginHistoryRetentionPeriod     time.Duration `json:"loginHistoryRetentionPeriod" yaml:"loginHistoryRetentionPeriod"`
	LoginHistoryMaximumEntries      int           `json:"loginHistoryMaximumEntries,omitempty" yaml:"loginHistoryMaximumEntries,omitempty"`
	MultipleLogin                   bool          `json:"multipleLogin" yaml:"multipleLogin"`
	JwtSecret                       string        `json:"-" yaml:"jwtSecret"`
	OAuthOptions                    *OAuthOptions `json:"oauthOptions" yaml:"oauthOptions"`
	KubectlImage                    string        `json:"kubectlImage" yaml:"kubectlImage"`
}

// OAuthOptions mirrors kubesphere/kubesphere@v3.4.1
// pkg/apiserver/authentication/oauth/options.go Options.
type OAuthOptions struct {
	Issuer                       string                    `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	SignKey                      string                    `json:"signKey,omitempty" yaml:"signKey,omitempty"`
	SignKeyData                  string                    `json:"-,omitempty" yaml:"signKeyData,omitempty"`
	IdentityProviders            []IdentityProviderOptions `json:"identityProviders,omitempty" yaml:"identityProviders,omitempty"`
	Clients                      []Client                  `json:"clients,omitempty" yaml:"clients,omitempty"`
	AccessTokenMaxAge            time.Duration             `json:"accessTokenMaxAge" yaml:"accessTokenMaxAge"`
	AccessTokenInactivityTimeout time.Duration             `json:"accessTokenInactivityTimeout" yaml:"accessTokenInactivityTimeout"`
}

// IdentityProviderOptions mirrors the v3.4.1 type of the same name
// (MappingMethod is a string type there, Provider a map[string]interface{}).
type IdentityProviderOptions struct {
	Name                     string                 `json:"name" yaml:"name"`
	MappingMethod            string                 `json:"mappingMethod" yaml:"mappingMethod"`
	DisableLoginConfirmation bool                   `json:"disableLoginConfirmation" yaml:"disableLoginConfirmation"`
	Type                     string                 `json:"type" yaml:"type"`
	Provider                 map[string]interface{} `json:"provider" yaml:"provider"`
}

// Client mirrors the v3.4.1 oauth Client (GrantMethod is a string type there).
type Client struct {
	Name                         string         `json:"name,omitempty" yaml:"name,omitempty"`
	Secret                       string         `json:"-" yaml:"secret,omitempty"`
	RespondWithChallenges        bool           `json:"respondWithChallenges,omitempty" yaml:"respondWithChallenges,omitempty"`
	RedirectURIs                 []string       `json:"redirectURIs,omitempty" yaml:"redirectURIs,omitempty"`
	GrantMethod                  string         `json:"grantMethod,omitempty" yaml:"grantMethod,omitempty"`
	ScopeRestrictions            []string       `json:"scopeRestrictions,omitempty" yaml:"scopeRestrictions,omitempty"`
	AccessTokenMaxAge            *time.Duration `json:"accessTokenMaxAge,omitempty" yaml:"accessTokenMaxAge,omitempty"`
	AccessTokenInactivityTimeout *time.Duration `json:"accessTokenInactivityTimeout,omitempty" yaml:"accessTokenInactivityTimeout,omitempty"`
}

// newOptions is authentication.NewOptions and oauth.NewOptions of v3.4.1:
// the defaults set before decoding.
func newOptions() *Options {
	return &Options{
		AuthenticateRateLimiterMaxTries: 5,
		AuthenticateRateLimiterDuration: 30 * time.Minute,
		MaximumClockSkew:                10 * time.Second,
		LoginHistoryRetentionPeriod:     7 * 24 * time.Hour,
		LoginHistoryMaximumEntries:      100,
		OAuthOptions: &OAuthOptions{
			Issuer:                       "kubesphere",
			IdentityProviders:            []IdentityProviderOptions{},
			Clients:                      []Client{},
			AccessTokenMaxAge:            2 * time.Hour,
			AccessTokenInactivityTimeout: 2 * time.Hour,
		},
		KubectlImage: "kubesphere/kubectl:v1.0.0",
	}
}

// Reading is what ks-apiserver v3.4.1 reads from a document.
type Reading struct {
	JWTSecret         string
	AccessTokenMaxAge time.Duration
}

// Load reads doc as ks-apiserver v3.4.1 does (config.go defaultConfig and
// loadFromDisk: viper with env prefix kubesphere, ReadInConfig of the yaml
// file, Unmarshal into the defaults). An error means ks-apiserver would not
// start. The process environment must hold no KUBESPHERE_* variables.
func Load(doc []byte) (Reading, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix("kubesphere")
	v.AutomaticEnv()
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	if err := v.ReadConfig(bytes.NewReader(doc)); err != nil {
		return Reading{}, err
	}
	c := &Config{AuthenticationOptions: newOptions()}
	if err := v.Unmarshal(c); err != nil {
		return Reading{}, err
	}
	a := c.AuthenticationOptions
	if a == nil || a.OAuthOptions == nil {
		return Reading{AccessTokenMaxAge: -1}, nil // a null section: ks-apiserver would dereference nil
	}
	return Reading{JWTSecret: a.JwtSecret, AccessTokenMaxAge: a.OAuthOptions.AccessTokenMaxAge}, nil
}
