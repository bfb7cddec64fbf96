package validate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Fingerprinter turns secrets into fingerprints: a keyed hash (HMAC-SHA256)
// with a key drawn at random when the Fingerprinter is made. Equal secrets
// have equal fingerprints within one Fingerprinter; a fingerprint seen outside
// the process reveals nothing, since its key never leaves memory.
type Fingerprinter struct {
	key [32]byte
}

// NewFingerprinter returns a Fingerprinter with a fresh random key.
func NewFingerprinter() (*Fingerprinter, error) {
	f := &Fingerprinter{}
	if _, err := rand.Read(f.key[:]); err != nil {
		return nil, fmt.Errorf("drawing a fingerprint key: %w", err)
	}
	return f, nil
}

// Sum returns the fingerprint of secret, "hmac:" followed by 24 hex digits.
func (f *Fingerprinter) Sum(secret []byte) string {
	m := hmac.New(sha256.New, f.key[:])
	m.Write(secret)
	var sum [sha256.Size]byte
	return "hmac:" + hex.EncodeToString(m.Sum(sum[:0])[:12])
}
