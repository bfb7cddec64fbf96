package validate

import (
	"crypto/sha256"
	"sync"
)

// readings remembers the last few loader readings by text. One write is
// judged twice (the mutating webhook, then the validating webhook on the
// mutated text) and an edit is checked by reading its result, so without
// it every write reads the same text through the loader two or three
// times. A reading is read-only once made, so callers share it.
var readings readingCache

// readingCacheSize is how many readings are kept: a write needs two or
// three, and a few writes may be judged at once.
const readingCacheSize = 16

// maxCachedText is the largest document whose reading is kept (a typical
// kubesphere.yaml is 1–4 KiB); larger ones are read every time, so the
// cache holds little memory whatever is written.
const maxCachedText = 64 << 10

// readingCache is a small ring of readings keyed by schema and a digest
// of the text (in memory only).
type readingCache struct {
	mu      sync.Mutex
	entries [readingCacheSize]readingEntry
	next    int
}

type readingEntry struct {
	used   bool
	schema string
	sum    [sha256.Size]byte
	r      loaderReading
}

// read returns the reading of text as schema's loader makes it, from the
// cache when the same text was read lately.
func (c *readingCache) read(schema string, text []byte) loaderReading {
	if len(text) > maxCachedText {
		return loadAsKubeSphere(schema, text)
	}
	sum := sha256.Sum256(text)
	c.mu.Lock()
	for i := range c.entries {
		if e := &c.entries[i]; e.used && e.schema == schema && e.sum == sum {
			r := e.r
			c.mu.Unlock()
			return r
		}
	}
	c.mu.Unlock()
	r := loadAsKubeSphere(schema, text)
	c.mu.Lock()
	c.entries[c.next] = readingEntry{used: true, schema: schema, sum: sum, r: r}
	c.next = (c.next + 1) % readingCacheSize
	c.mu.Unlock()
	return r
}
