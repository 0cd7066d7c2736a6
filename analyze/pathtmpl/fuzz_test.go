package pathtmpl

import (
	"strings"
	"testing"
)

// FuzzObserve feeds sequences of paths (one per line; the first line is
// the host) to a small Templater (promotion after 2 values, 16 templates
// per host) and checks its invariants: no panic; a template has as many
// segments as its path unless folded into a tail; the parameters named
// in it are the ones appended; Resolve of the returned template is the
// same match, and so is Resolve of the path.
func FuzzObserve(f *testing.F) {
	f.Add("api.example.com\n/users/42\n/users/alice\n/users/bob\n/users/me", uint64(0))
	f.Add("h\n/a/1/b/2\n/a/x/b\n/a/y/b\n/a/z/b/3\n/a/{aId}/b", uint64(0x1234))
	f.Add("\n\n/\n//\n///x\nx\n*\n/{tail}\n/x/{tail}/y", uint64(1))
	fz := strings.Repeat("/f", 40)
	f.Add("h\n"+fz+"\n/v1.41/containers/cc4fc8e49cadbb8bc41437dc2f9979a72293eabc3f0ea5ce48b77f43cb1f1d5e/json", uint64(7))
	f.Fuzz(func(t *testing.T, data string, shape uint64) {
		tp, err := New(Config{MinValues: 2, MaxTemplates: 16, MaxDepth: 8, MaxHosts: 2})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(data, "\n")
		h := lines[0]
		var params []PathParam
		for i, path := range lines[1:] {
			if i%3 == 2 {
				h = path // switch hosts now and then
			}
			var m Match
			sh := shape
			if i%2 == 1 {
				sh = 0
			}
			m, params = tp.Observe(h, path, sh, params[:0])
			if m.Template == "" && path != "" {
				t.Fatalf("Observe(%q, %q): empty template", h, path)
			}
			folded := strings.HasSuffix(m.Template, "{"+TailParam+"}") || strings.Contains(m.Template, "{"+TailParam+"}")
			if !folded && strings.Count(m.Template, "/") != strings.Count(path, "/") {
				t.Fatalf("Observe(%q) = %q: segment count differs", path, m.Template)
			}
			for _, p := range params {
				if !strings.Contains(m.Template, "{"+p.Name+"}") && !strings.Contains(m.Template, "{"+p.Name+"}.") {
					// Pattern names only come from pins; learned names appear as {name}.
					t.Fatalf("param %q not in %q", p.Name, m.Template)
				}
				if !strings.Contains(path, p.Value) {
					t.Fatalf("param value %q not in %q", p.Value, path)
				}
			}
			if r := tp.Resolve(h, m.Template); r != m {
				t.Fatalf("Resolve(Observe(%q).Template = %q) = %v", path, m.Template, r)
			}
			if r := tp.Resolve(h, path); r != m {
				t.Fatalf("Resolve(%q) = %v, Observe gave %v", path, r, m)
			}
		}
		if s := tp.Stats(); s.MaxHostTemplates > 16 {
			t.Fatalf("%d templates on a host, cap 16", s.MaxHostTemplates)
		}
	})
}
