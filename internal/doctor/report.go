package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Output formats.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatShort = "short"
)

// Formats lists the output formats.
var Formats = []string{FormatTable, FormatJSON, FormatShort}

// symbol marks a result in the table: ✓ passed, × failed (error), ‼ failed
// (warning), – not checked.
func symbol(r Result) string {
	switch {
	case r.Status == StatusOK:
		return "✓"
	case r.Status == StatusNotChecked:
		return "–"
	case r.Severity == SeverityWarning:
		return "‼"
	}
	return "×"
}

// Write renders the report in format to w.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatShort:
		return r.writeShort(w)
	case FormatTable, "":
		return r.writeTable(w)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func (r *Report) writeTable(w io.Writer) error {
	var b strings.Builder
	for i, m := range r.Members {
		if i > 0 {
			b.WriteString("\n")
		}
		host := r.Host
		if host == "" {
			host = "the host's jwtSecret from a file"
		}
		fmt.Fprintf(&b, "%s (member of %s)\n", m.Name, host)
		var category Category
		for _, res := range m.Results {
			if res.Category != category {
				category = res.Category
				fmt.Fprintf(&b, "  %s\n", category)
			}
			fmt.Fprintf(&b, "  %s %s [%s]\n", symbol(res), res.Description, res.ID)
			if res.Detail != "" {
				fmt.Fprintf(&b, "      %s\n", res.Detail)
			}
			if res.Hint != "" {
				fmt.Fprintf(&b, "      hint: %s\n", res.Hint)
			}
		}
	}
	b.WriteString("\n" + r.summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeShort(w io.Writer) error {
	var b strings.Builder
	for _, m := range r.Members {
		for _, res := range m.Results {
			if res.Status == StatusFailed {
				fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", m.Name, res.ID, res.Severity, res.Detail)
			}
		}
	}
	b.WriteString(r.summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// summary counts the outcomes.
func (r *Report) summary() string {
	var okN, errN, warnN, skipN int
	for _, m := range r.Members {
		for _, res := range m.Results {
			switch {
			case res.Status == StatusOK:
				okN++
			case res.Status == StatusNotChecked:
				skipN++
			case res.Severity == SeverityWarning:
				warnN++
			default:
				errN++
			}
		}
	}
	status := "OK"
	if errN > 0 {
		status = "FAILED"
	}
	return fmt.Sprintf("%s: %d member(s), %d passed, %d failed, %d warnings, %d not checked", status, len(r.Members), okN, errN, warnN, skipN)
}
