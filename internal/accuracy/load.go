package accuracy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Spec is one spec of the benchmark: a directory of the specs directory
// holding one OpenAPI document.
type Spec struct {
	Name string // the directory's name ("vampi")
	Path string // the document (".json", ".yaml" or ".yml")
}

// ErrNoSpecs is returned by FindSpecs when the directory holds no spec.
var ErrNoSpecs = errors.New("accuracy: no specs found")

// FindSpecs lists the specs of dir, sorted by name: each subdirectory
// must hold exactly one file ending in .json, .yaml or .yml (other files,
// such as LICENSE.upstream and SOURCE.txt, are ignored).
func FindSpecs(dir string) ([]Spec, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("accuracy: reading the specs directory: %w", err)
	}
	var specs []Spec
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("accuracy: reading spec directory: %w", err)
		}
		var docs []string
		for _, f := range files {
			switch strings.ToLower(filepath.Ext(f.Name())) {
			case ".json", ".yaml", ".yml":
				if !f.IsDir() {
					docs = append(docs, f.Name())
				}
			}
		}
		if len(docs) != 1 {
			return nil, fmt.Errorf("accuracy: spec directory %s: want one .json, .yaml or .yml document, found %d", filepath.Join(dir, e.Name()), len(docs))
		}
		specs = append(specs, Spec{Name: e.Name(), Path: filepath.Join(dir, e.Name(), docs[0])})
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoSpecs, dir)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	return specs, nil
}
