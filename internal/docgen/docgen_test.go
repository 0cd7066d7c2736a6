package docgen

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const begin, end = "<!-- x:begin -->", "<!-- x:end -->"

func TestSplice(t *testing.T) {
	tests := []struct {
		name, doc, section, want string
		err                      error
	}{
		{"replace", "# A\n" + begin + "\nold\n" + end + "\ntail\n", "new", "# A\n" + begin + "\nnew\n" + end + "\ntail\n", nil},
		{"empty section", "a " + begin + "x" + end + " b", "", "a " + begin + "\n" + end + " b", nil},
		{"section with newline", begin + end, "t\n", begin + "\nt\n" + end, nil},
		{"no markers", "# A\n", "x", "", ErrNoMarkers},
		{"end before begin", end + begin, "x", "", ErrNoMarkers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Splice([]byte(tt.doc), []byte(tt.section), begin, end)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err == nil {
				again, _ := Splice(got, []byte(tt.section), begin, end)
				if string(again) != string(got) {
					t.Errorf("splicing twice changed the document: %q", again)
				}
			}
		})
	}
}

func TestUpdateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte("intro\n"+begin+"\n"+end+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(path, []byte("table"), begin, end); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "intro\n" + begin + "\ntable\n" + end + "\n"; string(b) != want {
		t.Errorf("file %q, want %q", b, want)
	}
	if err := UpdateFile(filepath.Join(t.TempDir(), "missing.md"), nil, begin, end); err == nil {
		t.Error("a missing file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.md")
	if err := os.WriteFile(bad, []byte("no markers"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(bad, nil, begin, end); !errors.Is(err, ErrNoMarkers) {
		t.Errorf("no markers: %v", err)
	}
}
