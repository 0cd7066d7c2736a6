package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apitap/apitap/analyze/sensitive"
)

// Values that package sensitive classifies; they must never reach a
// schema.
const (
	testCard  = "4012888888881881"
	testCard2 = "4111111111111111"
	testJWT   = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	testEmail = "jane.roe@corp-mail.example.com"
	testIBAN  = "GB33BUKB20201555555555"
	testAWS   = "AKIAIOSFODNN7EXAMPLE"
	testPass  = "hunter2-correct-horse"
)

func TestSensitiveFields(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want []string // "pointer classes count"
	}{
		{"brief example", []string{`{"email":"a@b.co","card":"` + testCard2 + `"}`},
			[]string{"/card card 1", "/email email 1"}},
		{"nested and array items", []string{
			`{"user":{"email":"` + testEmail + `","name":"Jane"},"items":[{"card":"` + testCard + `"},{"card":"n/a"}]}`,
			`{"user":{"email":"` + testEmail + `"},"items":[]}`},
			[]string{"/items/*/card card 1", "/user/email email 2"}},
		{"field names", []string{`{"password":"` + testPass + `","api_key":"k9Xz2LmQ8rT5vW1yB4nD7fH0"}`},
			[]string{"/api_key api-key 1", "/password password 1"}},
		{"jwt and iban and cloud", []string{`{"t":"` + testJWT + `","iban":"` + testIBAN + `","aws":"` + testAWS + `"}`},
			[]string{"/aws cloud-credential 1", "/iban iban 1", "/t jwt 1"}},
		{"card as a number", []string{`{"pan":` + testCard + `}`}, []string{"/pan card 1"}},
		{"escaped pointer tokens", []string{`{"a/b":{"c~d":"` + testEmail + `"}}`}, []string{"/a~1b/c~0d email 1"}},
		{"map values", []string{`{"m":{"u123":{"e":"` + testEmail + `"},"u456":{"e":"x"}}}`}, []string{"/m/*/e email 1"}},
		{"sensitive keys make a map", []string{`{"byEmail":{"` + testEmail + `":1}}`}, []string{"/byEmail email 1"}},
		{"ordinary values", []string{`{"id":"123e4567-e89b-12d3-a456-426614174000","n":12,"s":"hello","d":"2024-01-31"}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := learnJSON(t, nil, tt.docs...)
			var got []string
			for _, f := range l.Sensitive() {
				got = append(got, fmt.Sprintf("%s %s %d", f.Pointer, strings.Join(f.Classes.Names(), ","), f.Count))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sensitive() = %q, want %q", got, tt.want)
			}
			schemaJSON(t, l)
		})
	}
}

func TestSensitiveText(t *testing.T) {
	l := New(nil)
	l.ObserveParam("password", testPass)
	l.ObserveParam("password", "other-secret")
	got := l.Sensitive()
	if len(got) != 1 || got[0].Pointer != "" || got[0].Classes != sensitive.Password || got[0].Count != 2 {
		t.Errorf("Sensitive() = %+v", got)
	}
	f := New(nil)
	if err := f.ObserveForm([]byte("user=jane&password=" + testPass + "&email=" + strings.ReplaceAll(testEmail, "@", "%40"))); err != nil {
		t.Fatal(err)
	}
	var ptrs []string
	for _, x := range f.Sensitive() {
		ptrs = append(ptrs, x.Pointer+" "+x.Classes.String())
	}
	if want := []string{"/email " + sensitive.Email.String(), "/password " + sensitive.Password.String()}; !slices.Equal(ptrs, want) {
		t.Errorf("form Sensitive() = %q, want %q", ptrs, want)
	}
	assertNoSecrets(t, f)
}

// assertNoSecrets fails when a raw sensitive test value appears anywhere
// in the marshalled schema or the sensitive report.
func assertNoSecrets(t *testing.T, l *Learner) {
	t.Helper()
	b, err := json.Marshal(l.Schema())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := json.Marshal(l.Sensitive())
	out := string(b) + string(r)
	for _, secret := range []string{testCard, testJWT, testEmail, testIBAN, testAWS, testPass, "hunter2", "eyJzdWIi", "4012888888"} {
		if strings.Contains(out, secret) {
			t.Errorf("raw sensitive value %q appears in the output:\n%s", secret, out)
		}
	}
}

func TestNeverStoresSensitiveValues(t *testing.T) {
	docs := []string{
		`{"card":"` + testCard + `","jwt":"` + testJWT + `","email":"` + testEmail + `","iban":"` + testIBAN + `"}`,
		`{"list":["` + testCard + `","` + testEmail + `"],"pan":` + testCard + `,"password":"` + testPass + `"}`,
		`{"keys":{"` + testEmail + `":{"jwt":"` + testJWT + `"}}}`,
		`{"auth":{"token":"` + testJWT + `","aws":"` + testAWS + `"}}`,
	}
	// Many samples so that enum tracking would pick the values up if it
	// kept them; and enough examples to keep every distinct value.
	cfg := Config{EnumMinSamples: 1, MaxExamples: 50}
	l := New(&cfg)
	for i := 0; i < 200; i++ {
		for _, d := range docs {
			if err := l.ObserveJSON([]byte(d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	schemaJSON(t, l)
	assertNoSecrets(t, l)

	// Text and parameters.
	p := New(&cfg)
	for i := 0; i < 100; i++ {
		p.ObserveText(testCard)
		p.ObserveText(testJWT)
		p.ObserveParam("password", testPass)
	}
	assertNoSecrets(t, p)

	// Merged learners.
	m := New(&cfg)
	m.Merge(l)
	m.Merge(p)
	assertNoSecrets(t, m)

	// Redacted examples that fit the schema are kept.
	s := l.Schema()
	if ex := s.Properties["email"].Value.Example; ex == nil {
		t.Errorf("email: no redacted example")
	}
}

// TestNameShortcut checks that classifying by sensitive.Value for fields
// whose name is not evidence gives what sensitive.Field would: the probe
// values in nameMatters must cover every name rule of package sensitive.
func TestNameShortcut(t *testing.T) {
	names := []string{"id", "name", "title", "status", "created_at", "user", "items", "description", "url",
		"password", "new_password", "passwd", "pwd", "pin", "client_secret", "secret", "api_key", "apiKey",
		"X-API-Key", "access_token", "refresh_token", "token", "page_token", "aws_secret_access_key",
		"aws_session_token", "private_key", "authorization", "Cookie", "ssn", "national_id", "tax_id",
		"passport_number", "phone", "phone_number", "mobile", "fax", "email", "email_address", "mail",
		"card_number", "pan", "cc", "iban", "account_iban", "session", "sid", "JSESSIONID", "zip", "amount"}
	values := []string{"", "x", "true", "null", "12", "123456789", "123-45-6789", "AB123456C", "078-05-1120",
		"+14155552671", "(415) 555-2671", "415.555.2671", "4155552671", "a@b", "jane@example.com",
		"4111111111111111", "4111-1111-1111-1111", "378282246310005", "6011111111111117",
		"GB82WEST12345698765432", "gb82 west 1234 5698 7654 32", testJWT, testAWS, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "k9Xz2LmQ8rT5vW1yB4nD7fH0",
		"Token abcdef0123456789abcdef", "hello world", "2024-01-31", "123e4567-e89b-12d3-a456-426614174000",
		"sid=abc; theme=dark", "JSESSIONID=A1B2C3D4E5F6A7B8C9D0E1F2", "session=0123456789abcdef0123"}
	for _, name := range names {
		n := &node{field: name, nameSens: nameMatters(name)}
		for _, v := range values {
			if got, want := classify(n, name, v), sensitive.Field(name, v); got != want {
				t.Errorf("name %q value %q: shortcut %v, Field %v (nameMatters %v)", name, v, got, want, n.nameSens)
			}
		}
	}
}

// TestPlainFormatsAreNotSensitive checks the assumption behind the
// plainFormat shortcut against package sensitive.
func TestPlainFormatsAreNotSensitive(t *testing.T) {
	for _, v := range []string{"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff", "2024-01-31", "1999-12-31", "2024-01-31T10:00:00Z",
		"2024-01-31T10:00:00.123456789+05:30", "10.0.0.1", "255.255.255.255", "2001:db8::1", "::ffff:192.0.2.1"} {
		f := detectFormat([]byte(v))
		if !plainFormat(f) {
			t.Errorf("%q: format %q is not plain", v, f.name())
		}
		if c := sensitive.Value(v); c != 0 {
			t.Errorf("sensitive.Value(%q) = %v: the plainFormat shortcut would miss it", v, c)
		}
	}
}
