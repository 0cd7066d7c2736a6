package sensitive

import (
	"testing"

	"github.com/apitap/apitap/reassembly"
)

// allValues gathers every value of the tables: positives, negatives and
// ordinary values.
func allValues() []string {
	var vs []string
	for _, tc := range positiveValues() {
		vs = append(vs, tc.in)
	}
	for _, tc := range negativeValues() {
		vs = append(vs, tc.in)
	}
	vs = append(vs, handOrdinary...)
	return append(vs, generatedOrdinary()...)
}

func TestNoAllocs(t *testing.T) {
	values := allValues()
	fieldNames := []string{"password", "client_secret", "api_key", "X-API-Key", "token", "next_page_token", "ssn",
		"phone", "email", "card_number", "iban", "Authorization", "Cookie", "aws_secret_access_key",
		"/user/contact/phoneNumber", "a_very_long_field_name_that_goes_on_and_on_and_on_and_ends_in_password", "id", ""}
	wellKnown := [][]reassembly.Header{
		hdrs("Host", "api.example.com", "User-Agent", "curl/8.5.0", "Accept", "*/*", "Authorization", "Bearer "+jwtIO),
		hdrs("Authorization", "Basic YWxpY2U6d29uZGVybGFuZA==", "X-API-Key", "k", "x-auth-token", "t"),
		hdrs("Authorization", "Bearer opaque-token-123", "Cookie", "JSESSIONID=a; PHPSESSID=b; connect.sid=c; session=d; sid=e; ASP.NET_SessionId=f; api_key=g; token=h; theme=dark"),
		hdrs("Authorization", "Token abc", "Ocp-Apim-Subscription-Key", "k", "Private-Token", "p", "X-CSRF-Token", "x"),
		hdrs("Content-Type", "application/json", "Accept-Encoding", "gzip"),
	}
	queries := []string{"", "page=2", "api_key=a&apikey=b&access_token=c&token=d&key=" + b62a + "&jwt=" + jwtIO, "apiKey=x&auth_token=y"}

	cases := []struct {
		name string
		f    func()
	}{
		{"Value", func() {
			for _, v := range values {
				Value(v)
			}
		}},
		{"IsJWT", func() {
			for _, v := range values {
				IsJWT(v)
			}
		}},
		{"Field", func() {
			for _, n := range fieldNames {
				for _, v := range values {
					Field(n, v)
				}
			}
		}},
		{"Redact", func() {
			n := 0
			for _, v := range values {
				n += len(Redact(Value(v), v))
			}
			if n == 0 {
				t.Error("no redacted bytes")
			}
		}},
		{"Credentials", func() {
			dst := make([]Credential, 0, 16)
			for _, h := range wellKnown {
				for _, q := range queries {
					dst = Credentials(dst[:0], h, q)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if a := testing.AllocsPerRun(5, tc.f); a != 0 {
				t.Errorf("%s allocates %v times per run", tc.name, a)
			}
		})
	}
}

// TestAllocsMeasured: the measurement above can see an allocation; a
// name that is not well known is copied.
func TestAllocsMeasured(t *testing.T) {
	h := hdrs("X-Acme-Api-Key", "k")
	dst := make([]Credential, 0, 4)
	if a := testing.AllocsPerRun(10, func() { dst = Credentials(dst[:0], h, "") }); a != 1 {
		t.Errorf("Credentials with a custom header name: %v allocations, want 1 (the copied name)", a)
	}
}
