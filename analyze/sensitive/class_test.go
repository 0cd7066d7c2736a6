package sensitive

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestClassNames(t *testing.T) {
	cases := []struct {
		name string
		c    Class
		want []string
	}{
		{"zero", 0, nil},
		{"one", Email, []string{"email"}},
		{"all", All, []string{"api-key", "card", "cloud-credential", "email", "iban", "jwt", "national-id", "password", "phone"}},
		{"pair", Phone | Card, []string{"card", "phone"}},
		{"unknown bits ignored", Class(1<<15) | JWT, []string{"jwt"}},
		{"only unknown bits", Class(1 << 14), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.Names()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Names() = %q, want %q", got, tc.want)
			}
			if !slices.IsSorted(got) {
				t.Errorf("Names() = %q not sorted", got)
			}
			if s := tc.c.String(); s != strings.Join(tc.want, ",") {
				t.Errorf("String() = %q", s)
			}
			if n := tc.c.Count(); n != len(tc.want) {
				t.Errorf("Count() = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestParseClass(t *testing.T) {
	for i := 0; i < 9; i++ {
		c := Class(1 << i)
		names := c.Names()
		if len(names) != 1 {
			t.Fatalf("Class(%d).Names() = %q", c, names)
		}
		t.Run(names[0], func(t *testing.T) {
			if got, ok := ParseClass(names[0]); !ok || got != c {
				t.Errorf("ParseClass(%q) = %v, %v; want %v", names[0], got, ok, c)
			}
		})
	}
	if _, ok := ParseClass("ssn"); ok {
		t.Error("ParseClass(ssn) succeeded")
	}
}

func TestAppendNamesNoAlloc(t *testing.T) {
	dst := make([]string, 0, 16)
	if a := testing.AllocsPerRun(100, func() { dst = All.AppendNames(dst[:0]) }); a != 0 {
		t.Errorf("AppendNames allocates %v times", a)
	}
}

func TestRedact(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	cases := []struct {
		name string
		c    Class
		in   string
		want string
	}{
		{"plain", 0, "hello", "hello"},
		{"cut", 0, strings.Repeat("a", 100), strings.Repeat("a", MaxExampleLen)},
		{"cut at rune boundary", 0, long, strings.Repeat("é", 32)},
		{"cut odd boundary", 0, "a" + long, "a" + strings.Repeat("é", 31)},
		{"email", Email, "jane@example.com", "user@example.com"},
		{"email equal to placeholder", Email, "user@example.com", "someone@example.org"},
		{"phone", Phone, "+14155552671", "+15555550100"},
		{"card", Card, "5105105105105100", "4111111111111111"},
		{"card equal to placeholder", Card, "4111111111111111", "5555555555554444"},
		{"national id", NationalID, "123-45-6789", "000-00-0000"},
		{"iban", IBAN, "NL91ABNA0417164300", "GB82WEST12345698765432"},
		{"jwt", JWT, jwtIO, "eyJhbGciOiJub25lIn0.e30."},
		{"api key", APIKey, "k_123", "REDACTED_API_KEY"},
		{"cloud", CloudCredential, awsKey("AKIA"), "REDACTED_CLOUD_CREDENTIAL"},
		{"password", Password, "hunter2", "********"},
		{"password stars", Password, "********", "REDACTED_PASSWORD"},
		{"most secret wins", Email | Password, "a@example.com", "********"},
		{"jwt and api key", JWT | APIKey, jwtIO, "REDACTED_API_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.c, tc.in)
			if got != tc.want {
				t.Errorf("Redact(%v, %q) = %q, want %q", tc.c, tc.in, got, tc.want)
			}
			if tc.c != 0 && got == tc.in {
				t.Errorf("Redact returned the value itself")
			}
		})
	}
}

// TestRedactPlaceholdersKeepClass: a placeholder of a class that Value
// recognises is itself of that class, so a redacted example still
// validates against the format the schema reports.
func TestRedactPlaceholdersKeepClass(t *testing.T) {
	for _, c := range []Class{Email, Phone, Card, IBAN, JWT} {
		t.Run(c.String(), func(t *testing.T) {
			for _, in := range []string{"x", Redact(c, "x")} {
				if got := Value(Redact(c, in)); got != c {
					t.Errorf("Value(Redact(%v, %q)) = %v", c, in, got)
				}
			}
		})
	}
}
