package speclab

import (
	"errors"
	"regexp"
	"testing"
)

func TestGenPattern(t *testing.T) {
	for _, p := range []string{
		`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.\d{3}Z$`,
		`^[A-Z]{3}-[0-9]{4}$`,
		`^(cus|prod|pi)_[A-Za-z0-9]{8,14}$`,
		`^[a-z0-9]+(?:-[a-z0-9]+)*$`,
		`^\+?[1-9]\d{1,14}$`,
		`[a-f0-9]{32}`,
		`^(?i)abc[^x-z]?$`,
		`^\w+@\w+\.(com|org)$`,
		`^\S+$`,
		`^$`,
	} {
		t.Run(p, func(t *testing.T) {
			re := regexp.MustCompile(p)
			r := newRand(3, p)
			for range 300 {
				s, err := genPattern(r, p)
				if err != nil {
					t.Fatal(err)
				}
				if !re.MatchString(s) {
					t.Fatalf("%q does not match", s)
				}
			}
		})
	}
	for _, p := range []string{`(a`, `(?<=x)y`, `\1`} {
		if _, err := genPattern(newRand(1), p); !errors.Is(err, errPattern) {
			t.Errorf("genPattern(%q) = %v, want errPattern", p, err)
		}
	}
}

// FuzzGenPattern: any pattern either yields a matching string or
// errPattern; it never panics or loops.
func FuzzGenPattern(f *testing.F) {
	for _, p := range []string{`^[A-Z]{3}-[0-9]{4}$`, `a*b+c?`, `(x|yz){2,5}`, `[^\x00-\x20]+`, `\p{Greek}{3}`, `^\d+(\.\d{1,2})?$`} {
		f.Add(p, uint64(1))
	}
	f.Fuzz(func(t *testing.T, p string, seed uint64) {
		if len(p) > 200 {
			return
		}
		s, err := genPattern(newRand(seed), p)
		if err != nil {
			if !errors.Is(err, errPattern) {
				t.Fatalf("error %v does not wrap errPattern", err)
			}
			return
		}
		if ok, _ := regexp.MatchString(p, s); !ok {
			t.Fatalf("%q does not match %q", s, p)
		}
	})
}
