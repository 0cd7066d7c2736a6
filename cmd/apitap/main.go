// Command apitap is the passive API traffic analyzer: `apitap analyze` reads
// capture files, `apitap sensor` listens on a mirror port. Both rebuild the
// HTTP transactions in the packets and write them out.
//
// This is the only package that knows every stage: it reads the
// configuration (flags, environment variables APITAP_*, viper), builds the
// logger and the metrics registry, wires capture → reassembly → storage and
// shuts them down in order.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code. Errors
// are printed as one line on stderr, never as a stack trace.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		if errors.Is(err, errDifferent) {
			return 1 // the report says how
		}
		var ue usageError
		fmt.Fprintf(stderr, "apitap: %v\n", err)
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks an error in the command line or configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "apitap",
		Short: "Passive API traffic analyzer: HTTP API calls from mirrored packets",
		Long: `apitap rebuilds the HTTP API calls inside mirrored packets (a SPAN/TAP port or
capture files) and writes them out as transactions.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newAnalyzeCommand(), newSensorCommand(), newSpecCommand(), newVersionCommand())
	return root
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "apitap %s\n", version)
			return nil
		},
	}
}
