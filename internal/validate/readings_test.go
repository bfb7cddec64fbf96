package validate

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

// sameReading reports whether two readings are the one cached reading (the
// same settings map), not two equal ones.
func sameReading(a, b loaderReading) bool {
	return reflect.ValueOf(a.settings).Pointer() == reflect.ValueOf(b.settings).Pointer()
}

// TestReadingCache: a text is read through the loader once per schema, a
// large one every time, and concurrent readers get equal readings.
func TestReadingCache(t *testing.T) {
	doc := []byte("authentication:\n  jwtSecret: \"" + hostSecret + "\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n")
	var c readingCache
	first := c.read(SchemaV3, doc, nil)
	if again := c.read(SchemaV3, doc, nil); !sameReading(first, again) {
		t.Errorf("the same text was read twice")
	}
	if v4 := c.read(SchemaV4, doc, nil); sameReading(first, v4) || v4.jwtSecret != "" {
		t.Errorf("the v4 reading of a v3 document came from the v3 one: %+v", v4)
	}
	big := []byte(strings.Repeat("# padding\n", maxCachedText/10+1) + string(doc))
	if a, b := c.read(SchemaV3, big, nil), c.read(SchemaV3, big, nil); sameReading(a, b) || a.jwtSecret != hostSecret {
		t.Errorf("a text over %d bytes was cached", maxCachedText)
	}
	for i := 0; i < 2*recentSize; i++ { // the ring turns over
		c.read(SchemaV3, []byte(string(doc)+strings.Repeat("#\n", i+1)), nil)
	}
	if again := c.read(SchemaV3, doc, nil); sameReading(first, again) || again.jwtSecret != hostSecret {
		t.Errorf("an evicted reading came back, or a fresh one is wrong")
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := c.read(SchemaV3, doc, nil); r.jwtSecret != hostSecret || r.accessTokenMaxAge != 0 {
				t.Errorf("concurrent reading: %q %v", r.jwtSecret, r.accessTokenMaxAge)
			}
		}()
	}
	wg.Wait()
}
