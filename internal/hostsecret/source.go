package hostsecret

import (
	"bytes"
	"sync/atomic"

	"github.com/go-logr/logr"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// Key is the key of the Secret (and the name a mounted Secret's file has)
// that holds the host's jwtSecret.
const Key = "jwtSecret"

// Source gives the host cluster's jwtSecret as currently known.
type Source interface {
	// HostSecret returns the current value, or why there is none.
	HostSecret() validate.HostSecret
}

// current holds the latest HostSecret, logs its changes and keeps the
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
