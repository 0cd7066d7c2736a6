package sensitive

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apitap/apitap/reassembly"
)

// FuzzValue: no panic; Value is stable; Field includes Value; a value
// IsJWT accepts is a JWT for Value; Redact never returns a sensitive
// value itself and cuts others to a prefix of at most MaxExampleLen bytes.
// Seeds: testdata/fuzz/FuzzValue plus the test tables.
func FuzzValue(f *testing.F) {
	for _, v := range allValues() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Value(s)
		if again := Value(s); again != c {
			t.Fatalf("Value(%q) = %v, then %v", s, c, again)
		}
		if c&^All != 0 {
			t.Fatalf("Value(%q) = %d has unknown bits", s, c)
		}
		for _, name := range []string{"password", "api_key", "ssn", "phone", "email", "card_number", "iban", "Authorization", "Cookie", "x"} {
			if fc := Field(name, s); fc&c != c {
				t.Fatalf("Field(%q, %q) = %v lacks Value's %v", name, s, fc, c)
			}
		}
		if ts := trimSpace(s); len(ts) <= maxValueLen && IsJWT(ts) && c&JWT == 0 {
			t.Fatalf("IsJWT(%q) but Value = %v", s, c)
		}
		r := Redact(c, s)
		if c != 0 {
			if r == s {
				t.Fatalf("Redact(%v, %q) returned the value", c, s)
			}
		} else if len(r) > MaxExampleLen || !strings.HasPrefix(s, r) || (utf8.ValidString(s) && !utf8.ValidString(r)) {
			t.Fatalf("Redact(0, %q) = %q: not a bounded prefix", s, r)
		}
		for _, k := range []Class{Email, Phone, Card, NationalID, IBAN, JWT, APIKey, CloudCredential, Password} {
			if r := Redact(k, s); r == s || r == "" {
				t.Fatalf("Redact(%v, %q) = %q", k, s, r)
			}
		}
	})
}

// FuzzCredentials: no panic, at least one credential, None only alone,
// names bounded.
func FuzzCredentials(f *testing.F) {
	f.Add("Authorization", "Bearer "+jwtIO, "api_key=x")
	f.Add("Cookie", "JSESSIONID=a; token=b; x", "")
	f.Add("X-API-Key", "k", "key=AIzaSyD"+b62a[:32]+"&&=&a")
	f.Add("authorization", "Basic", "token")
	f.Fuzz(func(t *testing.T, name, value, query string) {
		got := Credentials(nil, []reassembly.Header{{Name: name, Value: value}, {Name: "Cookie", Value: value}}, query)
		if len(got) == 0 {
			t.Fatal("no credential, not even None")
		}
		for _, c := range got {
			if c.Scheme == None && len(got) != 1 {
				t.Fatalf("None among credentials: %v", got)
			}
			if len(c.Name) > maxNameLen || c.Scheme > SessionCookie {
				t.Fatalf("bad credential %v", c)
			}
		}
	})
}
