// Package docgen replaces the generated section of a Markdown document (the
// benchmark tables of docs/PERFORMANCE.md and docs/ACCURACY.md) between two
// marker comments, leaving the prose around it alone.
package docgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// ErrNoMarkers is returned when a document lacks its markers (or has the
// end marker before the begin marker).
var ErrNoMarkers = errors.New("docgen: the document has no generated section between its markers")

// Splice returns doc with the text between begin and end replaced by
// section (the markers stay, each on its own line).
func Splice(doc, section []byte, begin, end string) ([]byte, error) {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("%w (%s … %s)", ErrNoMarkers, begin, end)
	}
	i += len(begin)
	out := make([]byte, 0, len(doc)+len(section)+2)
	out = append(out, doc[:i]...)
	out = append(out, '\n')
	out = append(out, section...)
	if len(section) > 0 && section[len(section)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, doc[j:]...), nil
}

// UpdateFile splices section into the file at path. Errors name the file.
func UpdateFile(path string, section []byte, begin, end string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := Splice(doc, section, begin, end)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
