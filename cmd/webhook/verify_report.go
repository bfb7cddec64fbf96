package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// writeVerify reports the results: pretty (PASS/FAIL per case), json (the
// results) or junit (one testsuite per suite, for CI).
func writeVerify(w io.Writer, format string, results []caseResult) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("encoding the results: %w", err)
		}
		return nil
	case "junit":
		return writeJUnit(w, results)
	}
	failed := 0
	for _, r := range results {
		if r.Pass {
			fmt.Fprintf(w, "PASS  %s/%s\n", r.Suite, r.Case)
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL  %s/%s\n", r.Suite, r.Case)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "      %s\n", f)
		}
	}
	verdict := "PASS"
	if failed > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d/%d cases passed\n", verdict, len(results)-failed, len(results))
	return nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []caseResult) error {
	var out junitSuites
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Suite]
		if !ok {
			i = len(out.Suites)
			index[r.Suite] = i
			out.Suites = append(out.Suites, junitSuite{Name: r.Suite})
		}
		s := &out.Suites[i]
		c := junitCase{Name: r.Case, Classname: r.Suite}
		s.Tests++
		if !r.Pass {
			s.Failures++
			c.Failure = &junitFailure{Message: r.Failures[0], Text: strings.Join(r.Failures, "\n")}
		}
		s.Cases = append(s.Cases, c)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, b)
	return err
}
