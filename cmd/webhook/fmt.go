package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksguard/ksguard/internal/validate"
)

const fmtUsage = `Usage:
  ksguard fmt [--check | -w] [DIR|FILE...]

Formats Rego policies (*.rego, tests included, under each DIR; default: the
current directory) with OPA's formatter, as opa fmt does. Without a flag it
lists the files whose formatting differs; --check also exits 1 when there
is one; -w rewrites them. A file that does not parse exits 2 with its file
and line.

Flags:
`

func runFmt(args []string, stdout, stderr io.Writer) int {
	var f fmtFlags
	flags := flag.NewFlagSet("ksguard fmt", flag.ContinueOnError)
	f.register(flags)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, fmtUsage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitAllowed
		}
		return exitError
	}
	if f.check && f.write {
		fmt.Fprintln(stderr, "ksguard fmt: give --check or -w, not both")
		return exitError
	}
	paths := flags.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := regoFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard fmt: %v\n", err)
		return exitError
	}
	unformatted := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "ksguard fmt: %v\n", err)
			return exitError
		}
		out, err := validate.FormatPolicy(file, src)
		if err != nil {
			fmt.Fprintf(stderr, "ksguard fmt: %v\n", err)
			return exitError
		}
		if bytes.Equal(out, src) {
			continue
		}
		unformatted++
		fmt.Fprintln(stdout, file)
		if f.write {
			if err := os.WriteFile(file, out, 0o644); err != nil {
				fmt.Fprintf(stderr, "ksguard fmt: writing %s: %v\n", file, err)
				return exitError
			}
		}
	}
	if f.check && unformatted > 0 {
		fmt.Fprintf(stderr, "ksguard fmt: %d file(s) above are not formatted: run ksguard fmt -w on them\n", unformatted)
		return exitDenied
	}
	return exitAllowed
}

// regoFiles lists the .rego files named or under the directories named,
// leaving out ..-prefixed directories (a mounted ConfigMap's), in walk order.
func regoFiles(paths []string) ([]string, error) {
	var files []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if path != root && strings.HasPrefix(e.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".rego") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing policies: %w", err)
		}
	}
	return files, nil
}
