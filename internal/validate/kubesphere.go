package validate

import "time"

// The authentication options ks-apiserver decodes kubesphere.yaml into,
// copied field for field (names, types and defaults; the tags are the
// sources') so that ksguard's loader view decodes exactly what ks-apiserver
// decodes. KubeSphere's own modules cannot be fetched here; the sources are
// kubesphere/kubesphere at the tags named on each type.

// ksConfigV3 is the authentication part of Config in
// kubesphere/kubesphere@v3.4.1 pkg/apiserver/config/config.go.
type ksConfigV3 struct {
	AuthenticationOptions *ksAuthV3 `json:"authentication,omitempty" yaml:"authentication,omitempty" mapstructure:"authentication"`
}

// ksAuthV3 is Options in kubesphere/kubesphere@v3.4.1
// pkg/apiserver/authentication/options.go.
type ksAuthV3 struct {
	AuthenticateRateLimiterMaxTries int           `json:"authenticateRateLimiterMaxTries" yaml:"authenticateRateLimiterMaxTries"`
	AuthenticateRateLimiterDuration time.Duration `json:"authenticateRateLimiterDuration" yaml:"authenticateRateLimiterDuration"`
	MaximumClockSkew                time.Duration `json:"maximumClockSkew" yaml:"maximumClockSkew"`
	LoginHistoryRetentionPeriod     time.Duration `json:"loginHistoryRetentionPeriod" yaml:"loginHistoryRetentionPeriod"`
	LoginHistoryMaximumEntries      int           `json:"loginHistoryMaximumEntries,omitempty" yaml:"loginHistoryMaximumEntries,omitempty"`
	MultipleLogin                   bool          `json:"multipleLogin" yaml:"multipleLogin"`
	JwtSecret                       string        `json:"-" yaml:"jwtSecret"`
	OAuthOptions                    *ksOAuthV3    `json:"oauthOptions" yaml:"oauthOptions"`
	KubectlImage                    string        `json:"kubectlImage" yaml:"kubectlImage"`
}

// ksOAuthV3 is Options in kubesphere/kubesphere@v3.4.1
// pkg/apiserver/authentication/oauth/options.go.
type ksOAuthV3 struct {
	Issuer                       string                 `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	SignKey                      string                 `json:"signKey,omitempty" yaml:"signKey,omitempty"`
	SignKeyData                  string                 `json:"-,omitempty" yaml:"signKeyData,omitempty"`
	IdentityProviders            []ksIdentityProviderV3 `json:"identityProviders,omitempty" yaml:"identityProviders,omitempty"`
	Clients                      []ksOAuthClientV3      `json:"clients,omitempty" yaml:"clients,omitempty"`
	AccessTokenMaxAge            time.Duration          `json:"accessTokenMaxAge" yaml:"accessTokenMaxAge"`
	AccessTokenInactivityTimeout time.Duration          `json:"accessTokenInactivityTimeout" yaml:"accessTokenInactivityTimeout"`
}

// ksIdentityProviderV3 is IdentityProviderOptions in the same file
// (MappingMethod is a string type, Provider a map[string]interface{}).
type ksIdentityProviderV3 struct {
	Name                     string         `json:"name" yaml:"name"`
	MappingMethod            string         `json:"mappingMethod" yaml:"mappingMethod"`
	DisableLoginConfirmation bool           `json:"disableLoginConfirmation" yaml:"disableLoginConfirmation"`
	Type                     string         `json:"type" yaml:"type"`
	Provider                 map[string]any `json:"provider" yaml:"provider"`
}

// ksOAuthClientV3 is Client in the same file (GrantMethod is a string type).
type ksOAuthClientV3 struct {
	Name                         string         `json:"name,omitempty" yaml:"name,omitempty"`
	Secret                       string         `json:"-" yaml:"secret,omitempty"`
	RespondWithChallenges        bool           `json:"respondWithChallenges,omitempty" yaml:"respondWithChallenges,omitempty"`
	RedirectURIs                 []string       `json:"redirectURIs,omitempty" yaml:"redirectURIs,omitempty"`
	GrantMethod                  string         `json:"grantMethod,omitempty" yaml:"grantMethod,omitempty"`
	ScopeRestrictions            []string       `json:"scopeRestrictions,omitempty" yaml:"scopeRestrictions,omitempty"`
	AccessTokenMaxAge            *time.Duration `json:"accessTokenMaxAge,omitempty" yaml:"accessTokenMaxAge,omitempty"`
	AccessTokenInactivityTimeout *time.Duration `json:"accessTokenInactivityTimeout,omitempty" yaml:"accessTokenInactivityTimeout,omitempty"`
}

// newKSConfigV3 holds the defaults of authentication.NewOptions and
// oauth.NewOptions (v3.4.1), set before decoding.
func newKSConfigV3() *ksConfigV3 {
	return &ksConfigV3{AuthenticationOptions: &ksAuthV3{
		AuthenticateRateLimiterMaxTries: 5,
		AuthenticateRateLimiterDuration: 30 * time.Minute,
		MaximumClockSkew:                10 * time.Second,
		LoginHistoryRetentionPeriod:     7 * 24 * time.Hour,
		LoginHistoryMaximumEntries:      100,
		OAuthOptions: &ksOAuthV3{
			Issuer:                       "kubesphere",
			IdentityProviders:            []ksIdentityProviderV3{},
			Clients:                      []ksOAuthClientV3{},
			AccessTokenMaxAge:            DefaultAccessTokenMaxAge,
			AccessTokenInactivityTimeout: 2 * time.Hour,
		},
		KubectlImage: "kubesphere/kubectl:v1.0.0",
	}}
}

// ksConfigV4 is the authentication part of Config in
// kubesphere/kubesphere@v4.1.3 pkg/config/config.go.
type ksConfigV4 struct {
	AuthenticationOptions *ksAuthV4 `json:"authentication,omitempty" yaml:"authentication,omitempty" mapstructure:"authentication"`
}

// ksAuthV4 is Options in kubesphere/kubesphere@v4.1.3
// pkg/apiserver/authentication/options.go.
type ksAuthV4 struct {
	AuthenticateRateLimiterMaxTries int           `json:"authenticateRateLimiterMaxTries" yaml:"authenticateRateLimiterMaxTries"`
	AuthenticateRateLimiterDuration time.Duration `json:"authenticateRateLimiterDuration" yaml:"authenticateRateLimiterDuration"`
	LoginHistoryRetentionPeriod     time.Duration `json:"loginHistoryRetentionPeriod" yaml:"loginHistoryRetentionPeriod"`
	LoginHistoryMaximumEntries      int           `json:"loginHistoryMaximumEntries,omitempty" yaml:"loginHistoryMaximumEntries,omitempty"`
	MultipleLogin                   bool          `json:"multipleLogin" yaml:"multipleLogin"`
	Issuer                          *ksIssuerV4   `json:"issuer" yaml:"issuer"`
}

// ksIssuerV4 is IssuerOptions in kubesphere/kubesphere@v4.1.3
// pkg/apiserver/authentication/oauth/options.go.
type ksIssuerV4 struct {
	URL                          string        `json:"url,omitempty" yaml:"url,omitempty"`
	JWTSecret                    string        `json:"-" yaml:"jwtSecret"`
	SignKey                      string        `json:"signKey,omitempty" yaml:"signKey,omitempty"`
	SignKeyData                  string        `json:"-,omitempty" yaml:"signKeyData,omitempty"`
	AccessTokenMaxAge            time.Duration `json:"accessTokenMaxAge" yaml:"accessTokenMaxAge"`
	AccessTokenInactivityTimeout time.Duration `json:"accessTokenInactivityTimeout" yaml:"accessTokenInactivityTimeout"`
	MaximumClockSkew             time.Duration `json:"maximumClockSkew" yaml:"maximumClockSkew"`
}

// newKSConfigV4 holds the defaults of authentication.NewOptions and
// oauth.NewIssuerOptions (v4.1.3), set before decoding.
func newKSConfigV4() *ksConfigV4 {
	return &ksConfigV4{AuthenticationOptions: &ksAuthV4{
		AuthenticateRateLimiterMaxTries: 5,
		AuthenticateRateLimiterDuration: 30 * time.Minute,
		LoginHistoryRetentionPeriod:     7 * 24 * time.Hour,
		LoginHistoryMaximumEntries:      100,
		Issuer: &ksIssuerV4{
			AccessTokenMaxAge:            DefaultAccessTokenMaxAge,
			AccessTokenInactivityTimeout: 2 * time.Hour,
			MaximumClockSkew:             10 * time.Second,
		},
	}}
}
