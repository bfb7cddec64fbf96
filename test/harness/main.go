package harness

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// RunMain is the TestMain body of a package whose tests share API servers:
// it parses the flags (a bad flag exits here, before anything starts),
// silences controller-runtime's logger (the API servers' and envtest's
// chatter), makes a temporary directory named after prefix, calls setUp
// with it, runs the tests, then calls tearDown, after a failed setUp too,
// so that what setUp started is stopped, and removes the directory. It
// returns the exit code.
func RunMain(m *testing.M, prefix string, setUp func(dir string) error, tearDown func()) int {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "removing the temporary directory:", err)
		}
	}()
	defer tearDown()
	if err := setUp(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// StopCluster stops c if it was started, saying on stderr what failed.
func StopCluster(c *Cluster) {
	if c == nil {
		return
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping a cluster:", err)
	}
}
