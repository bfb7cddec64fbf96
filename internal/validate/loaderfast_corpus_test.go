package validate_test

import (
	"testing"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/test/parity/corpus"
)

// TestDecodeFastOnTheParityCorpus: on every document of the parity corpus
// (about 3,200, made to sit on the edges of how KubeSphere's loaders read),
// for both loaders, decodeFast answers as mapstructure does and
// configFromTree builds what the YAML library decodes, or each leaves the
// work to the library.
func TestDecodeFastOnTheParityCorpus(t *testing.T) {
	cases := corpus.Cases()
	answered, built := 0, 0
	for _, c := range cases {
		built += validate.TreeAnswers(t, []byte(c.Doc))
		for _, schema := range []string{validate.SchemaV3, validate.SchemaV4} {
			if validate.FastAgrees(t, schema, []byte(c.Doc)) {
				answered++
			}
		}
	}
	if answered == 0 || built == 0 {
		t.Fatalf("decodeFast answered %d, configFromTree built %d: the fast paths took no document of the corpus", answered, built)
	}
	t.Logf("decodeFast answered %d of %d readings; configFromTree built %d configs", answered, 2*len(cases), built)
}
