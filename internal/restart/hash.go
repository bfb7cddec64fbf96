package restart

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// MinKeyBytes is the shortest config-hash key accepted.
const MinKeyBytes = 16

// hashPrefix starts every config hash: the algorithm and format, so a
// recorded value says how it was made.
const hashPrefix = "hmac-sha256:"

// keyIDMessage is what the key's identity is the HMAC of. It cannot be the
// encoding of any ConfigMap (those start with "d" or "b", or are empty).
const keyIDMessage = "ksguard.io/config-hash key id"

// Hasher computes the config hash, the identity of a ConfigMap's content
// that the restart signal records on the Deployment (annotation
// ksguard.io/config-hash) and exports as ksguard_config_info: an
// HMAC-SHA256 over every data and binaryData key and value, in key order,
// keyed with a secret key, written "hmac-sha256:KEYID:MAC" (8 and 16 hex
// digits). The data holds the jwtSecret, so an unkeyed digest of it would
// let anyone who can read Deployments or scrape metrics test guesses of a
// weak secret offline; without the key nothing can be learned from the
// hash. The key comes from a Secret (the chart creates one and mounts it),
// so every replica and every restart computes the same hash and the signal
// rolls once per change. KEYID, an HMAC of a constant, names the key
// without revealing it, so a hash made with another key is recognised as
// such and never mistaken for a change of config.
type Hasher struct {
	key   []byte
	keyID string
}

// NewHasher returns a Hasher keyed with key, which must hold at least
// MinKeyBytes bytes.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("the config-hash key has %d bytes; it needs at least %d random bytes", len(key), MinKeyBytes)
	}
	h := &Hasher{key: bytes.Clone(key)}
	m := hmac.New(sha256.New, h.key)
	io.WriteString(m, keyIDMessage)
	h.keyID = hex.EncodeToString(m.Sum(nil))[:8]
	return h, nil
}

// ReadKeyFile returns a Hasher keyed with the content of the file at path
// (a mounted Secret's key; one trailing newline is ignored).
func ReadKeyFile(path string) (*Hasher, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config-hash key: %w", err)
	}
	h, err := NewHasher(bytes.TrimSuffix(b, []byte("\n")))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// NewProcessHasher returns a Hasher keyed with random bytes: its hashes
// identify configs within this process only, and are never published.
func NewProcessHasher() (*Hasher, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating a config-hash key: %w", err)
	}
	return NewHasher(key)
}

// KeyID names the key (8 hex digits) without revealing anything about it.
func (h *Hasher) KeyID() string { return h.keyID }

// Hash returns the config hash of cm's data. It changes when any key
// changes, so a change ks-apiserver reads from any key counts; metadata is
// not part of it.
func (h *Hasher) Hash(cm *corev1.ConfigMap) string {
	m := hmac.New(sha256.New, h.key)
	encode(m, cm)
	return hashPrefix + h.keyID + ":" + hex.EncodeToString(m.Sum(nil))[:16]
}

// Recorded is how a hash recorded on the Deployment relates to a config.
type Recorded int

const (
	// RecordedNone: no hash is recorded (first sight).
	RecordedNone Recorded = iota
	// RecordedSame: the recorded hash is the config's.
	RecordedSame
	// RecordedOther: the recorded hash is another config's.
	RecordedOther
	// RecordedOtherKey: the recorded hash was made with another key, so
	// whether the config changed cannot be told.
	RecordedOtherKey
	// RecordedLegacySame: the recorded hash is the config's unkeyed digest,
	// as ksguard recorded before the hash was keyed; it must be replaced.
	RecordedLegacySame
)

// Compare tells how the hash recorded on the Deployment relates to cm. An
// unkeyed digest recorded by an older ksguard is recognised, so an upgrade
// neither rolls for nothing nor misses a change made meanwhile (a legacy
// digest of another config is RecordedOther).
func (h *Hasher) Compare(recorded string, cm *corev1.ConfigMap) Recorded {
	switch {
	case recorded == "":
		return RecordedNone
	case hmac.Equal([]byte(recorded), []byte(h.Hash(cm))):
		return RecordedSame
	case strings.HasPrefix(recorded, hashPrefix+h.keyID+":"):
		return RecordedOther
	case strings.HasPrefix(recorded, hashPrefix):
		return RecordedOtherKey
	case recorded == legacyHash(cm):
		return RecordedLegacySame
	}
	return RecordedOther
}

// legacyHash is the unkeyed digest older versions recorded: SHA-256 of
// the same encoding, 16 hex digits. It is only compared with a recorded
// value, never published.
func legacyHash(cm *corev1.ConfigMap) string {
	s := sha256.New()
	encode(s, cm)
	return hex.EncodeToString(s.Sum(nil))[:16]
}

// encode writes every data and binaryData key and value of cm, in key
// order, each length-prefixed so no two contents encode alike.
func encode(w hash.Hash, cm *corev1.ConfigMap) {
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "d%d:%s%d:%s", len(k), k, len(cm.Data[k]), cm.Data[k])
	}
	keys = keys[:0]
	for k := range cm.BinaryData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "b%d:%s%d:", len(k), k, len(cm.BinaryData[k]))
		w.Write(cm.BinaryData[k])
	}
}
