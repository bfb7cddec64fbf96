// Package ks4 is KubeSphere v4.1.3's own configuration loader, for the
// differential tests: viper v1.18.2 over gopkg.in/yaml.v3 v3.0.1 and
// mapstructure v1.5.0, the versions kubesphere/kubesphere@v4.1.3 pins in its
// go.mod (replace block), decoding into copies of its authentication options.
//
// Nothing here is ksguard's code: the tests compare ksguard's decisions with
// what this loader reads, so it must stay an independent copy.
package ks4

import (
	"bytes"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Config mirrors the authentication part of Config in
// kubesphere/kubesphere@v4.1.3 pkg/config/config.go.
type Config struct {
	AuthenticationOptions *Options `json:"authentication,omitempty" yaml:"authentication,omitempty" mapstructure:"authentication"`
}

// Options mirrors kubesphere/kubesphere@v4.1.3
// pkg/apiserver/authentication/options.go Options.
type Options struct {
	AuthenticateRateLimiterMaxTries int            `json:"authenticateRateLimiterMaxTries" yaml:"authenticateRateLimiterMaxTries"`
	AuthenticateRateLimiterDuration time.Duration  `json:"authenticateRateLimiterDuration" yaml:"authenticateRateLimiterDuration"`
	LoginHistoryRetentionPeriod     time.Duration  `json:"loginHistoryRetentionPeriod" yaml:"loginHistoryRetentionPeriod"`
	LoginHistoryMaximumEntries      int            `json:"loginHistoryMaximumEntries,omitempty" yaml:"loginHistoryMaximumEntries,omitempty"`
	MultipleLogin                   bool           `json:"multipleLogin" yaml:"multipleLogin"`
	Issuer                          *IssuerOptions `json:"issuer" yaml:"issuer"`
}

// IssuerOptions mirrors kubesphere/kubesphere@v4.1.3
// pkg/apiserver/authentication/oauth/options.go IssuerOptions.
type IssuerOptions struct {
	URL                          string        `json:"url,omitempty" yaml:"url,omitempty"`
	JWTSecret                    string        `json:"-" yaml:"jwtSecret"`
	SignKey                      string        `json:"signKey,omitempty" yaml:"signKey,omitempty"`
	SignKeyData                  string        `json:"-,omitempty" yaml:"signKeyData,omitempty"`
	AccessTokenMaxAge            time.Duration `json:"accessTokenMaxAge" yaml:"accessTokenMaxAge"`
	AccessTokenInactivityTimeout time.Duration `json:"accessTokenInactivityTimeout" yaml:"accessTokenInactivityTimeout"`
	MaximumClockSkew             time.Duration `json:"maximumClockSkew" yaml:"maximumClockSkew"`
}

// newOptions is authentication.NewOptions and oauth.NewIssuerOptions of
// v4.1.3: the defaults set before decoding.
func newOptions() *Options {
	return &Options{
		AuthenticateRateLimiterMaxTries: 5,
		AuthenticateRateLimiterDuration: 30 * time.Minute,
		LoginHistoryRetentionPeriod:     7 * 24 * time.Hour,
		LoginHistoryMaximumEntries:      100,
		Issuer: &IssuerOptions{
			AccessTokenMaxAge:            2 * time.Hour,
			AccessTokenInactivityTimeout: 2 * time.Hour,
			MaximumClockSkew:             10 * time.Second,
		},
	}
}

// Reading is what ks-apiserver v4.1.3 reads from a document.
type Reading struct {
	JWTSecret         string
	AccessTokenMaxAge time.Duration
}

// Load reads doc as ks-apiserver v4.1.3 does (pkg/config/config.go
// defaultConfig and loadFromDisk: viper with env prefix kubesphere,
// ReadInConfig of the yaml file, Unmarshal into the defaults). An error means
// ks-apiserver would not start. The process environment must hold no
// KUBESPHERE_* variables.
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
	if a == nil || a.Issuer == nil {
		return Reading{AccessTokenMaxAge: -1}, nil // a null section: ks-apiserver would dereference nil
	}
	return Reading{JWTSecret: a.Issuer.JWTSecret, AccessTokenMaxAge: a.Issuer.AccessTokenMaxAge}, nil
}
