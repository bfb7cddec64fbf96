package hostsecret

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"

	"github.com/ksguard/ksguard/internal/filewatch"
	"github.com/ksguard/ksguard/internal/validate"
)

// ReadFile reads the host's jwtSecret from a file holding its bytes; one
// trailing newline is ignored. An empty file gives a HostSecret with a
// Problem; an unreadable one, an error.
func ReadFile(path string) (validate.HostSecret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return validate.HostSecret{}, fmt.Errorf("reading the host secret: %w", err)
	}
	src := "file " + path
	if b = trimNewline(b); len(b) == 0 {
		return validate.HostSecret{Source: src, Problem: "the host secret file " + path + " is empty"}, nil
	}
	return validate.HostSecret{Value: b, Source: src}, nil
}

// File is a Source that reads a file (for example a mounted Secret's
// jwtSecret key) and reads it again when it changes.
type File struct {
	path string
	poll time.Duration
	cur  current
}

// NewFile reads path once and returns a File source for it. A missing or
// unreadable file is not an error: the source reports the problem, and
// picks the file up when it appears.
func NewFile(path string, poll time.Duration, log logr.Logger) *File {
	f := &File{path: path, poll: poll}
	f.cur.log = log
	f.load()
	return f
}

// HostSecret returns the file's current content.
func (f *File) HostSecret() validate.HostSecret { return f.cur.get() }

// Start watches the file's directory until ctx is done.
func (f *File) Start(ctx context.Context) error {
	return filewatch.Run(ctx, f.cur.log, filepath.Dir(f.path), f.poll, f.load)
}

// NeedLeaderElection is false: every replica judges writes.
func (f *File) NeedLeaderElection() bool { return false }

func (f *File) load() {
	h, err := ReadFile(f.path)
	if err != nil {
		h = validate.HostSecret{Source: "file " + f.path, Problem: err.Error()}
	}
	f.cur.set(h)
}
