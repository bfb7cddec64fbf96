package validate

// readings remembers the last few loader readings by text. One write is
// judged twice (the mutating webhook, then the validating webhook on the
// mutated text) and an edit is checked by reading its result, so without
// it every write reads the same text through the loader two or three
// times. A reading is read-only once made, so callers share it.
var readings readingCache

// readingCache keeps readings by schema and a digest of the text (in
// memory only).
type readingCache struct{ recent recent[loaderReading] }

// read returns the reading of text as schema's loader makes it, from the
// cache when the same text was read lately; tree is text parsed, or nil
// (see loadAsKubeSphere).
func (c *readingCache) read(schema string, text []byte, tree *Document) loaderReading {
	if len(text) > maxCachedText {
		return loadAsKubeSphere(schema, text, tree)
	}
	w := newKeyWriter()
	w.str(schema)
	w.bytes(text)
	key := w.sum()
	if r, ok := c.recent.get(key); ok {
		return r
	}
	r := loadAsKubeSphere(schema, text, tree)
	c.recent.put(key, r)
	return r
}
