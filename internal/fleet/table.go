package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Output formats of WriteStatus.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// WriteStatus prints members' states as a table (CLUSTER, STATE, SECRET,
// REASON) or as JSON.
func WriteStatus(w io.Writer, members []Status, format string) error {
	if format == FormatJSON {
		if members == nil {
			members = []Status{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(members)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tSTATE\tSECRET\tREASON")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Cluster, m.State, m.Secret, m.Reason)
	}
	return tw.Flush()
}

// AllInSync reports whether every member is in sync.
func AllInSync(members []Status) bool {
	for _, m := range members {
		if m.State != InSync {
			return false
		}
	}
	return true
}
