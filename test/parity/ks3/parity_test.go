package ks3

import (
	"testing"
	"time"

	"github.com/ksguard/ksguard/test/parity/corpus"
)

func load(doc []byte) (string, time.Duration, error) {
	r, err := Load(doc)
	return r.JWTSecret, r.AccessTokenMaxAge, err
}

// TestParity: for every generated document that KubeSphere v3 reads,
// whenever ksguard allows the write, ks-apiserver v3's own loader loads the
// stored document and reads the host's jwtSecret and a zero
// accessTokenMaxAge (0 unsafe allows). The figures, over-denials included,
// are logged (go test -v).
func TestParity(t *testing.T) {
	corpus.Run(t, corpus.V3, load)
}

// FuzzParity: the same properties (no unsafe allow, no misread) for any
// document and host secret; the corpus's structural variants are the seeds,
// beside testdata/fuzz.
func FuzzParity(f *testing.F) {
	for _, c := range corpus.Seeds() {
		f.Add(c.Doc, c.Host)
	}
	k, err := corpus.NewChecker()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc, host string) {
		if host == "" || !corpus.Applies([]byte(doc), corpus.V3) {
			return
		}
		r, err := k.Check([]byte(doc), host, load)
		if err != nil {
			t.Fatal(err)
		}
		if r.Unsafe != "" {
			t.Fatalf("unsafe allow: %s\ndocument: %q\nhost: %q", r.Unsafe, doc, host)
		}
		if why := k.CompareReading([]byte(doc), corpus.V3, load); why != "" {
			t.Fatalf("ksguard reads the document differently from the loader: %s\ndocument: %q", why, doc)
		}
	})
}
