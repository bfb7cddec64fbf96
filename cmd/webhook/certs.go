package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/ksguard/ksguard/certs"
)

const certsUsage = `Usage: ksguard certs --dir DIR --host NAME [--host NAME ...] [flags]

Creates a CA and a serving certificate signed by it, for local runs and
for setups that bring their own certificates: writes DIR/tls.crt,
DIR/tls.key and DIR/ca.crt (the caBundle of the webhook configurations).
No openssl needed. 'ksguard serve --tls-secret' does the same inside the
cluster, and renews.

Flags:
`

// runCerts writes a CA and a serving certificate to a directory.
func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ksguard certs", flag.ContinueOnError)
	var hosts stringList
	dir := fs.String("dir", "", "directory to write tls.crt, tls.key and ca.crt to (created if missing)")
	fs.Var(&hosts, "host", "DNS name or IP address the certificate is for (repeatable), e.g. ksguard.ksguard-system.svc or 127.0.0.1")
	caValidity := fs.Duration("ca-validity", 10*365*24*time.Hour, "validity of the CA")
	validity := fs.Duration("validity", 365*24*time.Hour, "validity of the serving certificate")
	if code, ok := parseArgs(fs, certsUsage, "", args, stderr); !ok {
		return code
	}
	if err := writeCerts(*dir, hosts, *caValidity, *validity); err != nil {
		fmt.Fprintf(stderr, "ksguard certs: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s, %s and %s for %v\n", filepath.Join(*dir, certs.CertFile), filepath.Join(*dir, certs.KeyFile), filepath.Join(*dir, certs.CAFile), hosts)
	return exitAllowed
}

func writeCerts(dir string, hosts []string, caValidity, validity time.Duration) error {
	if dir == "" || len(hosts) == 0 {
		return errors.New("give --dir and at least one --host")
	}
	if validity <= 0 || caValidity < validity {
		return fmt.Errorf("--validity (%v) must be positive and no longer than --ca-validity (%v)", validity, caValidity)
	}
	now := time.Now()
	ca, err := certs.NewCA("ksguard-ca", now, caValidity)
	if err != nil {
		return err
	}
	s, err := ca.Issue(hosts, now, validity)
	if err != nil {
		return err
	}
	return certs.WriteDir(dir, ca.CertPEM, s)
}
