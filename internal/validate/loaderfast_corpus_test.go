package validate_test

import (
	"testing"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/test/parity/corpus"
)

// TestDecodeFastOnTheParityCorpus: on every document of the parity corpus
// (about 3,200, made to sit on the edges of how KubeSphere's loaders read),
// for both loaders, decodeFast answers as mapstructure does or leaves the
// decoding to it.
func TestDecodeFastOnTheParityCorpus(t *testing.T) {
	cases := corpus.Cases()
	answered := 0
	for _, c := range cases {
		for _, schema := range []string{validate.SchemaV3, validate.SchemaV4} {
			if validate.FastAgrees(t, schema, []byte(c.Doc)) {
				answered++
			}
		}
	}
	if answered == 0 {
		t.Fatal("decodeFast answered for no document of the corpus")
	}
	t.Logf("decodeFast answered %d of %d readings", answered, 2*len(cases))
}
