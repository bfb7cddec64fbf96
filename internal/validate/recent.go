package validate

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// recentSize is how many entries each cache of recent work keeps: a write
// needs two or three, and a few writes may be judged at once.
const recentSize = 16

// maxCachedText is the largest document whose work is kept (a typical
// kubesphere.yaml is 1–4 KiB); larger ones are done every time, so the
// caches hold little memory whatever is written.
const maxCachedText = 64 << 10

// digest is a SHA-256 content key. Keys are built from everything the cached
// value depends on, so a hit is the value the work would produce again.
type digest [sha256.Size]byte

// recent is a small ring of values by digest, safe for concurrent use. The
// values are read-only once put: callers share them.
type recent[V any] struct {
	mu      sync.Mutex
	entries [recentSize]recentEntry[V]
	next    int
}

type recentEntry[V any] struct {
	used bool
	key  digest
	v    V
}

// get returns the value kept for key.
func (c *recent[V]) get(key digest) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.entries {
		if e := &c.entries[i]; e.used && e.key == key {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// put keeps v for key, in place of the oldest entry.
func (c *recent[V]) put(key digest, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[c.next] = recentEntry[V]{used: true, key: key, v: v}
	c.next = (c.next + 1) % recentSize
}

// keyWriter builds a digest from fields, each length-prefixed so that no two
// different sequences of fields write the same bytes. The fields are
// gathered in a pooled buffer and hashed once.
type keyWriter struct{ buf *[]byte }

var keyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func newKeyWriter() keyWriter { return keyWriter{buf: keyBuffers.Get().(*[]byte)} }

func (w keyWriter) str(s string) {
	*w.buf = binary.AppendUvarint(*w.buf, uint64(len(s)))
	*w.buf = append(*w.buf, s...)
}

func (w keyWriter) bytes(b []byte) {
	*w.buf = binary.AppendUvarint(*w.buf, uint64(len(b)))
	*w.buf = append(*w.buf, b...)
}

// sum returns the digest and gives the buffer back; w is not used after.
func (w keyWriter) sum() digest {
	d := digest(sha256.Sum256(*w.buf))
	if cap(*w.buf) <= 2*maxCachedText { // large buffers are left to the GC
		*w.buf = (*w.buf)[:0]
		keyBuffers.Put(w.buf)
	}
	return d
}

// flights are the values being made, by key, so that a request for one
// already under way waits for it instead of making it again.
type flights struct {
	mu     sync.Mutex
	m      map[digest]chan struct{}
	onWait func() // tests: called when a request starts waiting
}

// join returns the channel that closes when the value for key is made;
// leader is true when the caller is to make it (and then call land).
func (f *flights) join(key digest) (done <-chan struct{}, leader bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.m[key]; ok {
		if f.onWait != nil {
			f.onWait()
		}
		return ch, false
	}
	if f.m == nil {
		f.m = map[digest]chan struct{}{}
	}
	ch := make(chan struct{})
	f.m[key] = ch
	return ch, true
}

// land ends the flight for key.
func (f *flights) land(key digest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.m[key])
	delete(f.m, key)
}
