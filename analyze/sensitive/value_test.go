package sensitive

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Provider tokens are assembled from parts so that the test sources do not
// look like leaked secrets to secret scanners. None of them is real.
const (
	b62a = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1bC2dE3f" // 40 mixed base62
	b62b = "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876" // 40 mixed base62
)

func awsKey(prefix string) string { return prefix + "IOSFODNN7EXAMPLE" }

func jwtOf(header, claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." +
		enc.EncodeToString([]byte("signature-bytes-0123456789"))
}

// jwtIO is the example token of jwt.io (HS256, public).
const jwtIO = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

type valueCase struct {
	name string
	in   string
	want Class
}

func positiveValues() []valueCase {
	rs256 := jwtOf(`{"alg":"RS256","typ":"JWT","kid":"2024-05-key-1"}`, `{"sub":"user-42","exp":1735689600}`)
	return []valueCase{
		// Email
		{"email plain", "john.smith@example.com", Email},
		{"email plus tag", "jane_doe+news@mail.example.co.uk", Email},
		{"email dashes", "a.b-c@sub.domain.io", Email},
		{"email upper", "USER@EXAMPLE.ORG", Email},
		{"email apostrophe", "o'connor@example.ie", Email},
		{"email digits first", "42user@example.net", Email},
		{"email long tld", "someone@example.museum", Email},
		{"email punycode tld", "info@example.xn--p1ai", Email},
		{"email percent-encoded at", "user%40example.com", Email},
		{"email padded", "  padded@example.com \n", Email},
		{"email company", "first.last@company-name.de", Email},
		{"email display name", "Jane Doe <jane.doe@example.com>", Email},
		{"email brackets", "<ops@example.org>", Email},
		// Phone
		{"e164 us", "+14155552671", Phone},
		{"e164 uk", "+442079460958", Phone},
		{"e164 in", "+919876543210", Phone},
		{"intl us parens", "+1 (415) 555-2671", Phone},
		{"intl us dashes", "+1-415-555-2671", Phone},
		{"intl uk spaces", "+44 20 7946 0958", Phone},
		{"intl fr", "+33 6 12 34 56 78", Phone},
		{"intl de", "+49 30 123456", Phone},
		{"intl in", "+91 98765 43210", Phone},
		{"intl au", "+61 2 9876 5432", Phone},
		{"intl uk trunk", "+44 (0)20 7946 0958", Phone},
		{"nanp parens", "(415) 555-2671", Phone},
		{"nanp dashes", "415-555-2671", Phone},
		{"nanp dots", "415.555.2671", Phone},
		{"nanp spaces", "415 555 2671", Phone},
		{"nanp 1-800", "1-800-555-0199", Phone},
		{"nanp 1 parens", "1 (212) 555-0100", Phone},
		{"uk national", "020 7946 0958", Phone},
		{"fr national", "06 12 34 56 78", Phone},
		{"fr national dots", "06.12.34.56.78", Phone},
		{"de national", "030 12345678", Phone},
		{"au mobile", "0412 345 678", Phone},
		// Card (documented test numbers of the networks)
		{"visa", "4111111111111111", Card},
		{"visa spaces", "4111 1111 1111 1111", Card},
		{"visa dashes", "4111-1111-1111-1111", Card},
		{"visa 13", "4222222222222", Card},
		{"visa 2", "4012888888881881", Card},
		{"visa debit", "4000056655665556", Card},
		{"mastercard", "5555555555554444", Card},
		{"mastercard spaces", "5105 1051 0510 5100", Card},
		{"mastercard debit", "5200828282828210", Card},
		{"mastercard 2-series", "2223003122003222", Card},
		{"amex", "378282246310005", Card},
		{"amex grouped", "3782 822463 10005", Card},
		{"amex 2", "371449635398431", Card},
		{"discover", "6011111111111117", Card},
		{"discover grouped", "6011 0009 9013 9424", Card},
		{"discover 2", "6011981111111113", Card},
		{"jcb", "3530111333300000", Card},
		{"jcb 2", "3566002020360505", Card},
		{"diners 14", "30569309025904", Card},
		{"diners 36", "36227206271667", Card},
		{"diners 38", "38520000023237", Card},
		{"unionpay", "6200000000000005", Card},
		{"unionpay 19", "6205500000000000004", Card},
		{"maestro", "6759649826438453", Card},
		{"mir", "2200000000000004", Card},
		// National ids
		{"ssn", "123-45-6789", NationalID},
		{"ssn 2", "536-22-1234", NationalID},
		{"ssn low", "001-01-0001", NationalID},
		{"ssn high", "899-99-9999", NationalID},
		{"ssn near woolworth", "078-05-1121", NationalID},
		{"ssn spaces", "123 45 6789", NationalID},
		{"nino", "AB123456C", NationalID},
		{"nino spaced", "AB 12 34 56 C", NationalID},
		{"nino 2", "JG103759A", NationalID},
		{"nino 3", "CE123456D", NationalID},
		{"dni", "12345678Z", NationalID},
		{"nie x", "X1234567L", NationalID},
		{"nie y", "Y0000000Z", NationalID},
		// IBAN (registry examples)
		{"iban de", "DE89370400440532013000", IBAN},
		{"iban de spaced", "DE89 3704 0044 0532 0130 00", IBAN},
		{"iban gb", "GB82WEST12345698765432", IBAN},
		{"iban gb spaced", "GB82 WEST 1234 5698 7654 32", IBAN},
		{"iban fr", "FR1420041010050500013M02606", IBAN},
		{"iban nl", "NL91ABNA0417164300", IBAN},
		{"iban be", "BE68539007547034", IBAN},
		{"iban ch", "CH9300762011623852957", IBAN},
		{"iban es", "ES9121000418450200051332", IBAN},
		{"iban it", "IT60X0542811101000000123456", IBAN},
		{"iban no", "NO9386011117947", IBAN},
		{"iban sa", "SA0380000000608010167519", IBAN},
		{"iban mixed case", "Gb82west12345698765432", IBAN},
		// JWT
		{"jwt.io", jwtIO, JWT},
		{"jwt rs256 kid", rs256, JWT},
		{"jwt spaced header", jwtOf("{ \"typ\" : \"JWT\",\n  \"alg\" : \"ES256\" }", `{"iss":"https://issuer.example.com"}`), JWT},
		{"jwt unsecured", "eyJhbGciOiJub25lIn0.e30.", JWT},
		{"jwt escaped header", jwtOf(`{"kid":"a\"b","alg":"HS512"}`, `{}`), JWT},
		{"bearer jwt", "Bearer " + jwtIO, JWT},
		// API keys
		{"github pat classic", "gh" + "p_" + b62a[:36], APIKey},
		{"github oauth", "gh" + "o_" + b62b[:36], APIKey},
		{"github server", "gh" + "s_" + b62a[2:38], APIKey},
		{"github fine-grained", "github" + "_pat_" + "11ABCDEFG0" + b62a + "_" + b62b + "xYz", APIKey},
		{"gitlab", "gl" + "pat-" + "xY3_" + b62a[:16], APIKey},
		{"stripe secret live", "sk" + "_live_" + b62a[:24], APIKey},
		{"stripe secret test", "sk" + "_test_" + b62b[:24], APIKey},
		{"stripe restricted", "rk" + "_live_" + b62b[:30], APIKey},
		{"slack bot", "xo" + "xb-" + "123456789012-1234567890123-" + b62a[:24], APIKey},
		{"slack user", "xo" + "xp-" + "123456789012-1234567890123-1234567890123-" + strings.ToLower(b62b[:32]), APIKey},
		{"openai legacy", "sk" + "-" + b62a + b62b[:8], APIKey},
		{"openai project", "sk" + "-proj-" + b62a + "_" + b62b + "-" + b62a, APIKey},
		{"anthropic", "sk" + "-ant-api03-" + b62b + b62a + "-" + b62a[:20] + "AA", APIKey},
		{"sendgrid", "S" + "G." + b62a[:22] + "." + b62b + "abc", APIKey},
		{"npm", "np" + "m_" + b62b[:36], APIKey},
		{"hugging face", "h" + "f_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH", APIKey},
		{"shopify", "shp" + "at_" + "0123456789abcdef0123456789abcdef", APIKey},
		{"pypi", "pypi" + "-AgEIcHlwaS5vcmc" + b62a + b62b, APIKey},
		{"digitalocean", "dop" + "_v1_" + strings.Repeat("0123456789abcdef", 4), APIKey},
		{"bearer opaque", "Bearer " + b62a, APIKey},
		// Cloud credentials
		{"aws akia", awsKey("AKIA"), CloudCredential},
		{"aws asia", awsKey("ASIA"), CloudCredential},
		{"aws abia", awsKey("ABIA"), CloudCredential},
		{"aws a3t", awsKey("A3TX"), CloudCredential},
		{"google api key", "AI" + "za" + "SyD" + b62a[:32], CloudCredential},
		{"google oauth", "ya" + "29." + "a0AfH6SM" + b62a, CloudCredential},
		{"aws sigv4", "AWS4-HMAC-SHA256 Credential=" + awsKey("AKIA") + "/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abcdef", CloudCredential},
		{"azure storage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + b62a + "==;EndpointSuffix=core.windows.net", CloudCredential},
		{"pem rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + b62a + "\n-----END RSA PRIVATE KEY-----", CloudCredential},
		{"pem pkcs8", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", CloudCredential},
		{"pem ec", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE", CloudCredential},
		{"pem openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE", CloudCredential},
		{"pem encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq", CloudCredential},
		{"pem pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF", CloudCredential},
		{"pem huge", "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", 1000), CloudCredential},
		// Password
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t!")), Password},
		{"basic lower", "basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter22")), Password},
	}
}

func negativeValues() []valueCase {
	return []valueCase{
		// Email look-alikes
		{"a@b", "a@b", 0},
		{"no dot domain", "user@localhost", 0},
		{"retina image", "icon@2x.png", 0},
		{"retina webp", "logo@3x.webp", 0},
		{"npm version", "lodash@4.17.21", 0},
		{"mention", "@handle", 0},
		{"empty domain", "user@", 0},
		{"leading dot domain", "user@.com", 0},
		{"double dot domain", "user@domain..com", 0},
		{"leading dot local", ".user@example.com", 0},
		{"double dot local", "us..er@example.com", 0},
		{"hyphen label", "user@-example.com", 0},
		{"one letter tld", "user@example.c", 0},
		{"space in local", "user name@example.com", 0},
		{"git remote", "git@github.com:org/repo.git", 0},
		{"url userinfo", "https://user:pw@host.example.com/path", 0},
		{"docker digest", "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", 0},
		{"two ats", "a@b@example.com", 0},
		{"bracket no address", "Jane Doe <jane>", 0},
		{"bracket unbalanced", "jane@example.com>", 0},
		{"html tag", "<b>bold</b>", 0},
		// Phone look-alikes
		{"bare 10 digits", "4155552671", 0},
		{"nanp area 1", "123-456-7890", 0},
		{"nanp exchange 0", "415-055-2671", 0},
		{"iso date", "2024-01-15", 0},
		{"epoch", "1700000000", 0},
		{"ipv4", "192.168.100.123", 0},
		{"ipv4 short", "10.0.0.1", 0},
		{"version", "1.2.3", 0},
		{"time", "12:30:45", 0},
		{"plus one", "+1", 0},
		{"plus short", "+12345", 0},
		{"plus zero", "+0123456789", 0},
		{"plus too long", "+1234567890123456", 0},
		{"datetime space", "2024-01-15 10:30", 0},
		{"pi", "3.14159265", 0},
		{"local 7 digits", "555-1234", 0},
		{"compact date", "20240115", 0},
		{"isbn", "978-3-16-148410-0", 0},
		{"thousands", "1,234,567.89", 0},
		{"slash date", "01/02/2024", 0},
		{"dotted date", "15.01.2024", 0},
		{"leading zero id dotted", "0.123.456.789", 0},
		{"version mixed", "01.23-45.6789", 0},
		{"phone with letters", "1-800-FLOWERS", 0},
		{"mac", "00:1A:2B:3C:4D:5E", 0},
		{"range", "100-200", 0},
		// Card look-alikes
		{"luhn fail", "4111111111111112", 0},
		{"random 16 visa-ish", "4532015112830367", 0},
		{"sequential", "1234567812345678", 0},
		{"luhn ok no iin", "9999999999999995", 0},
		{"epoch micros", "1700000000000000", 0},
		{"epoch millis", "1700000000000", 0},
		{"bad grouping", "4111 1111 1111 111", 0},
		{"dotted card", "4111.1111.1111.1111", 0},
		{"20 digits", "41111111111111111111", 0},
		{"mixed separators", "4111 1111-1111 1111", 0},
		{"visa 15", "411111111111116", 0},
		{"amex 16", "3782822463100050", 0},
		{"zeros", "0000000000000000", 0},
		{"snowflake", "1189567892345678901", 0},
		// National id look-alikes
		{"ssn area 000", "000-12-3456", 0},
		{"ssn area 666", "666-12-3456", 0},
		{"ssn area 900", "900-12-3456", 0},
		{"ssn group 00", "123-00-4567", 0},
		{"ssn serial 0000", "123-45-0000", 0},
		{"ssn woolworth", "078-05-1120", 0},
		{"ssn advert", "219-09-9999", 0},
		{"bare 9 digits", "123456789", 0},
		{"ssn bad layout", "12-345-6789", 0},
		{"ssn bad layout 2", "123-456-789", 0},
		{"ssn mixed sep", "123-45 6789", 0},
		{"nino qq", "QQ123456C", 0},
		{"nino bg", "BG123456A", 0},
		{"nino suffix", "AB123456E", 0},
		{"nino d first", "DA123456A", 0},
		{"nino o second", "AO123456A", 0},
		{"nino short", "AB12345C", 0},
		{"dni wrong letter", "12345678A", 0},
		{"nie wrong letter", "X1234567A", 0},
		{"sku like", "SKU123456", 0},
		// IBAN look-alikes
		{"iban check", "DE89370400440532013001", 0},
		{"iban length", "DE8937040044053201300", 0},
		{"iban country", "XX89370400440532013000", 0},
		{"iban gb short", "GB82WEST1234569876543", 0},
		{"iban bad spacing", "DE89 37040044 0532 0130 00", 0},
		{"iban dash", "DE89-3704-0044-0532-0130-00", 0},
		// JWT look-alikes
		{"jwt one part", "eyJhbGciOiJIUzI1NiJ9", 0},
		{"jwt two parts", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", 0},
		{"jwt four parts", jwtIO + ".abc", 0},
		{"jwt no alg", jwtOf(`{"typ":"JWT"}`, `{"sub":"1"}`), 0},
		{"jwt alg as value", jwtOf(`{"typ":"alg"}`, `{"sub":"1"}`), 0},
		{"jwt nested alg", jwtOf(`{"x":{"alg":"HS256"}}`, `{"sub":"1"}`), 0},
		{"jwt header not json", jwtOf(`{alg:HS256`, `{"sub":"1"}`), 0},
		{"jwt header trailing", jwtOf(`{"alg":"HS256"}x`, `{"sub":"1"}`), 0},
		{"jwt payload not json", "eyJhbGciOiJIUzI1NiJ9.YWJjZGVm.c2ln", 0},
		{"jwt padded", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0=.c2ln", 0},
		{"jwt bad char", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi*iIxIn0.c2ln", 0},
		{"jwe five parts", "eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ", 0},
		// Token look-alikes
		{"slug sk-", "sk-winter-collection-2024-limited-edition-jacket", 0},
		{"stripe short", "sk" + "_live_abc", 0},
		{"stripe publishable", "pk" + "_live_" + b62a[:24], 0},
		{"github short", "gh" + "p_short", 0},
		{"aws short", "AKIA1234", 0},
		{"aws bad alphabet", "AKIAIOSFODNN7EXAMPL1", 0},
		{"aws other prefix", "AIDAIOSFODNN7EXAMPLE", 0},
		{"pem certificate", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE", 0},
		{"pem public key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B", 0},
		{"xoxo", "xoxo-hugs-and-kisses-1234", 0},
		{"bearer words", "Bearer of bad news", 0},
		{"basic words", "Basic information", 0},
		{"basic no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("just-a-user")), 0},
		{"glpat short", "gl" + "pat-abc", 0},
		{"google short", "AIzaShort", 0},
	}
}

func TestValue(t *testing.T) {
	for _, group := range []struct {
		name  string
		cases []valueCase
	}{{"positive", positiveValues()}, {"negative", negativeValues()}} {
		t.Run(group.name, func(t *testing.T) {
			for _, tc := range group.cases {
				t.Run(tc.name, func(t *testing.T) {
					if got := Value(tc.in); got != tc.want {
						t.Errorf("Value(%q) = %v (%d), want %v (%d)", tc.in, got, got, tc.want, tc.want)
					}
				})
			}
		})
	}
}

func TestIsJWT(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"jwt.io", jwtIO, true},
		{"unsecured", "eyJhbGciOiJub25lIn0.e30.", true},
		{"newline header", jwtOf("{\n\"alg\":\"HS256\"\n}", "{\"a\":1}"), true},
		{"array in header", jwtOf(`{"crit":["exp"],"alg":"PS256"}`, `{}`), true},
		{"bearer prefix is not a token", "Bearer " + jwtIO, false},
		{"empty", "", false},
		{"dots", "..", false},
		{"uuid", "550e8400-e29b-41d4-a716-446655440000", false},
		{"header only json", "eyJhbGciOiJIUzI1NiJ9..", false},
		{"alg key case", jwtOf(`{"ALG":"HS256"}`, `{}`), false},
		{"alg prefix key", jwtOf(`{"algo":"HS256"}`, `{}`), false},
		{"length 1 mod 4", "eyJhbGciOiJIUzI1NiJ9a.eyJzdWIiOiIxIn0.c2ln", false},
		{"header array", jwtOf(`["alg"]`, `{}`), false},
		{"unclosed", jwtOf(`{"alg":"HS256"`, `{}`), false},
		{"unclosed string", jwtOf(`{"alg":"HS256}`, `{}`), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsJWT(tc.in); got != tc.want {
				t.Errorf("IsJWT(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestValueLongInputs(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Class
	}{
		{"long text", strings.Repeat("lorem ipsum dolor sit amet ", 1000), 0},
		{"long base64", strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", 1000), 0},
		{"long digits", strings.Repeat("4111111111111111", 100), 0},
		{"email at limit", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + ".example.com", Email},
		{"local part too long", strings.Repeat("a", 65) + "@example.com", 0},
		{"long jwt", jwtOf(`{"alg":"RS256","x5c":["`+strings.Repeat("MIIC", 2000)+`"]}`, `{"sub":"1"}`), JWT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Value(tc.in); got != tc.want {
				t.Errorf("Value(%.40q…) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestBase64Tables(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alphabet string
		want     string
	}{
		{"std", stdAlphabet, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
		{"url", urlAlphabet, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.alphabet) != 256 {
				t.Fatalf("table has %d entries", len(tc.alphabet))
			}
			for c := 0; c < 256; c++ {
				want := strings.IndexByte(tc.want, byte(c))
				if got := b64Value(byte(c), tc.alphabet); got != want {
					t.Errorf("b64Value(%q) = %d, want %d", rune(c), got, want)
				}
			}
		})
	}
}

func TestBasicDecoding(t *testing.T) {
	for _, cred := range []string{"a:b", "user:", ":pw", "alice:wonderland", "x:" + strings.Repeat("y", 300)} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding} {
			s := enc.EncodeToString([]byte(cred))
			t.Run(s, func(t *testing.T) {
				if !basicHasPassword(s) {
					t.Errorf("basicHasPassword(%q) = false for %q", s, cred)
				}
			})
		}
	}
	for _, s := range []string{"YWJj", "YWJjZA==", "YT=i", "YTpi=", "Y===", "YTpi====", "YTp*"} {
		t.Run(s, func(t *testing.T) {
			if basicHasPassword(s) {
				t.Errorf("basicHasPassword(%q) = true", s)
			}
		})
	}
}
