package openapi

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for a person: shadow operations, zombie
// operations, then the drift grouped by operation, each group with its
// count. An empty report says so in one line.
func (r Report) WriteText(w io.Writer) error {
	if r.Empty() {
		_, err := io.WriteString(w, "No differences: every observed operation is documented, every documented operation was observed, and nothing drifted.\n")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ops := func(title string, list []Operation) {
		fmt.Fprintf(tw, "%s: %d\n", title, len(list))
		for _, o := range list {
			host := o.Host
			if host == "" {
				host = "(no host)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Method, o.Template, host)
		}
	}
	ops("Shadow operations (observed, not documented)", r.Shadow)
	ops("Zombie operations (documented, not observed)", r.Zombie)
	groups := 0
	for i := range r.Drift {
		if i == 0 || r.Drift[i].Operation != r.Drift[i-1].Operation {
			groups++
		}
	}
	fmt.Fprintf(tw, "Drift: %s in %s\n", plural(int64(len(r.Drift)), "difference"), plural(int64(groups), "operation"))
	for i, d := range r.Drift {
		if i == 0 || d.Operation != r.Drift[i-1].Operation {
			n := 0
			for _, e := range r.Drift[i:] {
				if e.Operation != d.Operation {
					break
				}
				n++
			}
			fmt.Fprintf(tw, "  %s: %d\n", d.Operation, n)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", d.Kind, d.Where, describe(d))
	}
	return tw.Flush()
}

// describe renders both sides of a drift.
func describe(d Drift) string {
	var b strings.Builder
	b.WriteString("observed ")
	b.WriteString(d.Observed)
	if d.Documented == "" {
		b.WriteString(", not documented")
	} else {
		b.WriteString(", documented ")
		b.WriteString(d.Documented)
	}
	return b.String()
}
