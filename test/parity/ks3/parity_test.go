package ks3

import (
	"testing"
	"time"

	"github.com/ksguard/ksguard/test/parity/corpus"
)

func load(doc []byte) (string, time.Duration, error) {
	r, err := Load(doc)
	return r.JWTSecret, r.AccessTokenMaxAge, err
}

// TestParity: for every generated document that KubeSphere v3 reads,
// whenever ksguard allows the write, ks-apiserver v3's own loader loads the
// stored document and reads the host's jwtSecret and a zero
// accessTokenMaxAge (0 unsafe allows), and ksguard's reading equals the
// loader's (0 misread). The figures, over-denials included, are logged
// (go test -v).
func TestParity(t *testing.T) {
	corpus.Run(t, corpus.V3, load)
}

// FuzzParity: the same properties for any document and host secret.
func FuzzParity(f *testing.F) {
	corpus.Fuzz(f, corpus.V3, load)
}
