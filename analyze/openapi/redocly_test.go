package openapi

import (
	"path/filepath"
	"testing"

	"github.com/apitap/apitap/internal/redocly"
)

// TestRedoclyLint lints the golden documents (both versions, both formats)
// with the Redocly CLI and its recommended rules (less the ones
// internal/redocly/redocly.yaml turns off, each with its reason): any error fails,
// warnings are printed.
func TestRedoclyLint(t *testing.T) {
	var files []string
	for _, c := range goldenCases {
		files = append(files, filepath.Join("testdata", c.name))
	}
	redocly.Lint(t, files...)
}
