package main

import (
	"errors"
	"fmt"

	"github.com/apitap/apitap/analyze/openapi"
	"github.com/spf13/cobra"
)

// errDifferent is returned by `spec diff` when the documents differ: exit
// status 1, like diff(1), with the report already printed.
var errDifferent = errors.New("the documents differ")

func newSpecCommand() *cobra.Command {
	spec := &cobra.Command{
		Use:   "spec",
		Short: "Work with OpenAPI documents",
	}
	diff := &cobra.Command{
		Use:   "diff [flags] REFERENCE OBSERVED",
		Short: "Compare two OpenAPI documents: shadow, zombie and drifted operations",
		Long: `Compares OBSERVED (say, today's inferred spec) with REFERENCE (last week's,
or the published one): shadow operations (in OBSERVED only), zombie operations
(in REFERENCE only) and drift in the operations both have (parameters,
properties, status codes, content types, types). Operations match on method
and path, parameter names ignored. Exit status: 0 when the documents agree,
1 when they differ, 2 on errors.`,
		Example: `  apitap spec diff last-week.yaml today.yaml`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := openapi.Load(args[0])
			if err != nil {
				return usageError{err}
			}
			obs, err := openapi.Load(args[1])
			if err != nil {
				return usageError{err}
			}
			rep := openapi.Diff(ref, obs)
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			if !rep.Empty() {
				return errDifferent
			}
			return nil
		},
	}
	spec.AddCommand(diff)
	return spec
}
