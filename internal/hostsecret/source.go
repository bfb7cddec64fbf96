package hostsecret

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"github.com/go-logr/logr"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// Key is the key of the Secret (and the name a mounted Secret's file has)
// that holds the host's jwtSecret.
const Key = "jwtSecret"

// MinLength is the length of the jwtSecret KubeSphere generates (32 random
// characters). A shorter host value is weak: it is reported, with its
// length and never its value, and still used.
const MinLength = 32

// Weak reports whether v, a host jwtSecret, is shorter than MinLength (an
// empty value is not weak: it is missing).
func Weak(v []byte) bool { return len(v) > 0 && len(v) < MinLength }

// weakAdvice says what a weak host jwtSecret means and what to do.
const weakAdvice = "shorter than the 32 random characters KubeSphere generates, so it can be guessed, and whoever guesses it can sign tokens for any user; " +
	"set a long random jwtSecret on the host and copy it to every member"

// WeakWarning says that the host jwtSecret read from source is weak, given
// its length n; it never holds the value.
func WeakWarning(source string, n int) string {
	return fmt.Sprintf("the host's jwtSecret (%s) is weak: its length is %d, %s", source, n, weakAdvice)
}

// Source gives the host cluster's jwtSecret as currently known.
type Source interface {
	// HostSecret returns the current value, or why there is none.
	HostSecret() validate.HostSecret
}

// current holds the latest HostSecret, logs its changes (and, once each
// time one is loaded, a weak value: see Weak) and keeps the
// ksguard_host_secret_available gauge in step.
type current struct {
	v   atomic.Pointer[validate.HostSecret]
	log logr.Logger
}

func (c *current) get() validate.HostSecret {
	if h := c.v.Load(); h != nil {
		return *h
	}
	return validate.HostSecret{Problem: "the host secret has not been read yet"}
}

func (c *current) set(h validate.HostSecret) {
	old := c.v.Swap(&h)
	metrics.SetHostSecretAvailable(h.Value != nil)
	switch {
	case old != nil && bytes.Equal(old.Value, h.Value) && old.Problem == h.Problem:
		return // unchanged: nothing to say
	case h.Value != nil && old != nil && old.Value != nil:
		c.log.Info("the host's jwtSecret changed; later writes are judged against the new value", "source", h.Source)
	case h.Value != nil:
		c.log.Info("the host's jwtSecret is available", "source", h.Source)
	default:
		c.log.Info("the host's jwtSecret is not available; writes to the guarded ConfigMap are judged by --on-missing-host", "source", h.Source, "problem", h.Problem)
	}
	if Weak(h.Value) {
		c.log.Info("the host's jwtSecret is weak: "+weakAdvice, "source", h.Source, "length", len(h.Value))
	}
}

// trimNewline drops one trailing newline (LF or CRLF), which files written
// by editors and `echo` carry and a jwtSecret never does.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
