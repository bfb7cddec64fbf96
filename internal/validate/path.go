package validate

import "strings"

// Path is a list of mapping keys leading from the root of the kubesphere.yaml
// document to a value, spelled as they appear in the document.
type Path []string

// String returns the dotted form used in messages, e.g.
// "authentication.oauthOptions.accessTokenMaxAge".
func (p Path) String() string { return strings.Join(p, ".") }

// Guarded key paths, as ks-apiserver names them.
var (
	// PathV3JWTSecret is where KubeSphere v3 reads the jwtSecret.
	PathV3JWTSecret = Path{"authentication", "jwtSecret"}
	// PathV3AccessTokenMaxAge is where KubeSphere v3 reads accessTokenMaxAge.
	PathV3AccessTokenMaxAge = Path{"authentication", "oauthOptions", "accessTokenMaxAge"}
	// PathV4JWTSecret is where KubeSphere v4 reads the jwtSecret.
	PathV4JWTSecret = Path{"authentication", "issuer", "jwtSecret"}
	// PathV4AccessTokenMaxAge is where KubeSphere v4 reads accessTokenMaxAge.
	PathV4AccessTokenMaxAge = Path{"authentication", "issuer", "accessTokenMaxAge"}
)
