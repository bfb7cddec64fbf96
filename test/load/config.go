package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// config is what one run of the harness does.
type config struct {
	rounds      int           // interleaved rounds; each contender runs once per round
	writes      int           // measured writes per contender per round
	warmup      int           // writes before measuring, after the switch is seen
	direct      int           // AdmissionReviews per contender in direct mode (0: no direct mode)
	concurrency int           // parallel senders in direct mode
	opa         string        // opa binary; "" or missing: OPA is left out
	sample      time.Duration // how often open connections are sampled
	hostSecret  string        // the host's jwtSecret, random; never printed
	profileDir  string        // where ksguard's CPU and heap profiles go; "": no profiling
	profileFor  time.Duration // how long the CPU profile runs
	compare     binaries      // other ksguard builds, each one more contender
	starts      int           // times ksguard's startup is timed
	idle        time.Duration // how long a started ksguard idles before its RSS is read
}

// binaries is a repeatable flag of executable paths.
type binaries []string

func (b *binaries) String() string { return strings.Join(*b, ",") }

func (b *binaries) Set(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("-compare: %w (build it with: go build -o FILE ./cmd/webhook at the commit to compare)", err)
	}
	*b = append(*b, abs)
	return nil
}

func defaultConfig() config {
	opa := os.Getenv("OPA")
	if opa == "" {
		opa = filepath.Join("bin", "tools", "opa")
	}
	return config{rounds: 20, writes: 25, warmup: 3, direct: 2000, concurrency: 4, opa: opa, sample: 20 * time.Millisecond, hostSecret: rand.Text(), profileFor: 10 * time.Second, starts: 5, idle: 2 * time.Second}
}

func (c *config) register(fs *flag.FlagSet) {
	fs.IntVar(&c.rounds, "rounds", c.rounds, "interleaved rounds (each contender runs once per round, the order rotating)")
	fs.IntVar(&c.writes, "writes", c.writes, "measured writes per contender per round (half 2h documents, half harmless changes)")
	fs.IntVar(&c.warmup, "warmup", c.warmup, "unmeasured writes per round once the contender answers")
	fs.IntVar(&c.direct, "direct", c.direct, "AdmissionReviews per contender in direct mode (0 skips it)")
	fs.IntVar(&c.concurrency, "concurrency", c.concurrency, "parallel senders in direct mode")
	fs.StringVar(&c.profileDir, "profile", c.profileDir, "after the tables, profile ksguard serve under writes through the API server and write ksguard-cpu.pprof and ksguard-heap.pprof to this directory (go tool pprof reads them)")
	fs.DurationVar(&c.profileFor, "profile-for", c.profileFor, "how long the CPU profile of -profile runs")
	fs.IntVar(&c.starts, "starts", c.starts, "how many times ksguard serve's start to ready is timed")
	fs.DurationVar(&c.idle, "idle", c.idle, "how long a started ksguard idles before its idle RSS is read")
	fs.Var(&c.compare, "compare", "another ksguard binary (go build -o FILE ./cmd/webhook at another commit) to run as one more contender, named after the file; repeatable: before/after in one run")
	fs.StringVar(&c.opa, "opa", c.opa, "opa binary (`make bench-load` builds one into bin/tools); left out when missing (default $OPA, else bin/tools/opa)")
}
