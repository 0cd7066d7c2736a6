package sensitive

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// handOrdinary are values real API traffic is full of: ids, names, prices,
// dates, UUIDs, SKUs, URLs, hashes, enums. None of them is sensitive.
var handOrdinary = []string{
	// ids and numbers
	"1", "42", "1024", "65535", "123456", "987654321", "4155552671", "1234567890", "20240115",
	"3.14", "19.99", "1299.00", "0.000125", "-42", "-73.985664", "40.748817", "1e10", "6.02e23",
	"100", "1,234", "1,234,567.89", "99.9%", "12345678901", "2147483647", "9223372036854775807",
	"1700000000", "1700000000000", "1700000000000000", "1189567892345678901", "00042", "000123456",
	// dates and times
	"2024-01-15", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.123456+02:00", "2024-01-15 10:30:00",
	"Mon, 15 Jan 2024 10:30:00 GMT", "15/01/2024", "01/15/2024", "15.01.2024", "10:30", "10:30:00",
	"2024-W03", "2024-015", "P1Y2M10DT2H30M", "PT15M", "1h30m", "Europe/Berlin", "America/New_York", "UTC",
	// uuids, hashes, object ids
	"550e8400-e29b-41d4-a716-446655440000", "123e4567-e89b-12d3-a456-426614174000",
	"00000000-0000-0000-0000-000000000000", "6F9619FF-8B86-D011-B42D-00C04FC964FF",
	"d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"507f1f77bcf86cd799439011", "5f8d0d55b54764421b7156c9", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
	"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"W/\"33a64df551425fcc55e4d42a148795d9f25f89d4\"", "\"686897696a7c876b7e\"",
	// prefixed and base62 ids as APIs use them
	"cus_NffrFeUfNV2Hib", "pi_3MtwBwLkdIwHu7ix28a3tqPa", "tr_8f3aK2", "ch_1Hh1XYZabc123", "acct_1032D82eZvKYlo2C",
	"usr_2Nf8sK1vQ9", "ord-000123", "INV-2024-0042", "PO#4411", "ticket-7781", "req_01HQX3", "evt_1NG8Du2eZvKYlo2CUI79vXWy",
	"xoxo", "sk-1", "sku-12345", "sk-winter-sale", "ghost_rider", "glpat", "AKIA", "AIza", "ya29",
	"dQw4w9WgXcQ", "aGVsbG8gd29ybGQ=", "SGVsbG8sIFdvcmxkIQ==", "eyJmb28iOiJiYXIifQ==", "eyJmb28iOiJiYXIifQ",
	// SKUs and codes
	"SKU-10023", "TSHIRT-BLK-M", "AB-1234", "B07XJ8C8F5", "978-3-16-148410-0", "9783161484100",
	"A1B2C3", "X-Large", "ABC123XYZ", "US", "DE", "EUR", "USD", "en-US", "de_DE", "ISO-8859-1",
	"GB", "GBP", "BE", "SE", "FR75", "DE89", "UA", "NLD", "CHE", "ESP",
	// names and text
	"John Smith", "Jane", "Doe", "María José García", "Zoë", "北京", "O'Brien", "van der Berg",
	"Hello, world!", "The quick brown fox jumps over the lazy dog", "Lorem ipsum dolor sit amet",
	"pending", "active", "cancelled", "in_progress", "COMPLETED", "true", "false", "null", "N/A", "",
	"admin", "user", "guest", "read:users write:users", "openid profile email", "Bearer", "Basic",
	"password", "secret", "token", "api_key", "email", "phone", "card", "iban",
	// urls, paths, hosts, addresses
	"https://api.example.com/v1/users/42", "http://localhost:8080/health", "/v2/orders/123/items",
	"https://cdn.example.com/img/logo@2x.png", "https://example.com/search?q=shoes&page=2",
	"mailto:", "ftp://files.example.org/pub/file.tar.gz", "api.example.com", "example.com:443",
	"192.168.1.1", "10.0.0.254", "::1", "2001:db8::8a2e:370:7334", "fe80::1%eth0", "00:1A:2B:3C:4D:5E",
	"127.0.0.1:6379", "s3://bucket/key/path.json", "arn:aws:s3:::my-bucket/object",
	"arn:aws:iam::123456789012:role/Admin", "projects/my-project/locations/us-central1",
	// files, types, versions, agents
	"image/png", "application/json; charset=utf-8", "text/html", "report-2024.pdf", "avatar.jpg",
	"icon@2x.png", "v1.2.3", "1.2.3-beta.1+build.42", "go1.26.8", "Mozilla/5.0 (X11; Linux x86_64)",
	"curl/8.5.0", "okhttp/4.12.0", "gzip, deflate, br", "max-age=3600", "no-cache", "keep-alive",
	// colors, coordinates, misc
	"#ff00aa", "#FFF", "rgb(255, 0, 170)", "40.7128,-74.0060", "51.5074° N, 0.1278° W", "12px", "100vh",
	"<p>Hello</p>", "{\"a\":1}", "[1,2,3]", "a=1&b=2", "key=value", "x", "  ", "\t",
	"lodash@4.17.21", "@scope/package", "user@localhost", "a@b", "nginx:1.25-alpine",
	"(555) 0100", "555-0100", "+1", "+", "(12) 34", "1-2-3-4", "12-34-56", "123-45-678",
	"US-CA", "CA-ON", "NY 10001", "SW1A 1AA", "75008", "10115", "100-0001",
}

// generatedOrdinary makes ordinary values of the kinds that come in bulk
// (UUIDs, hashes, object ids, base64 blobs, timestamps, small integers,
// prices, base62 ids), from a fixed seed so the set is the same each run.
func generatedOrdinary() []string {
	r := rand.New(rand.NewPCG(1, 2))
	var out []string
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 25; i++ {
		u := randBytes(16)
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		out = append(out, fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:]))
		out = append(out, hex.EncodeToString(randBytes(20)), hex.EncodeToString(randBytes(32)), hex.EncodeToString(randBytes(12)))
		out = append(out, base64.StdEncoding.EncodeToString(randBytes(18+i)), base64.RawURLEncoding.EncodeToString(randBytes(24+i)))
		ts := base.Add(time.Duration(r.Int64N(int64(5 * 365 * 24 * time.Hour))))
		out = append(out, ts.Format(time.RFC3339), ts.Format(time.RFC3339Nano), ts.Format("2006-01-02"),
			strconv.FormatInt(ts.Unix(), 10), strconv.FormatInt(ts.UnixMilli(), 10))
		out = append(out, strconv.Itoa(r.IntN(1_000_000_000)), strconv.FormatFloat(float64(r.IntN(100000))/100, 'f', 2, 64))
		id := make([]byte, 14)
		for j := range id {
			id[j] = b62[r.IntN(len(b62))]
		}
		out = append(out, "cus_"+string(id), string(id))
	}
	return out
}

func TestOrdinaryValuesAreNotSensitive(t *testing.T) {
	values := append(append([]string(nil), handOrdinary...), generatedOrdinary()...)
	if len(values) < 200 {
		t.Fatalf("only %d ordinary values, want at least 200", len(values))
	}
	for i, v := range values {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if c := Value(v); c != 0 {
				t.Errorf("Value(%q) = %v, want 0", v, c)
			}
		})
	}
	t.Logf("%d ordinary values checked", len(values))
}

// TestOrdinaryFieldsAreNotSensitive: ordinary values under ordinary field
// names, and field names that look sensitive but hold non-secret values.
func TestOrdinaryFieldsAreNotSensitive(t *testing.T) {
	cases := []struct{ name, value string }{
		{"id", "4155552671"},
		{"order_id", "123456789"},
		{"count", "1234567890"},
		{"has_password", "true"},
		{"passwordSet", "false"},
		{"password_updated_at", "2024-01-15T10:30:00Z"},
		{"password_policy", "min 12 chars"},
		{"token_type", "Bearer"},
		{"expires_in", "3600"},
		{"next_page_token", "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA"},
		{"pageToken", "eyJvZmZzZXQiOjEwMH0"},
		{"continuationToken", "AB12cd34EF56gh78"},
		{"csrf_token", "8f2a0b3c9d4e5f60718293a4b5c6d7e8"},
		{"X-CSRF-Token", "8f2a0b3c9d4e5f60718293a4b5c6d7e8"},
		{"idempotency_key", "a5d3c7e2-1b4f-4e8a-9c6d-2f1e3a4b5c6d"},
		{"api_key", "YOUR_API_KEY"},
		{"token", "abc"},
		{"apiKey", ""},
		{"phone", "N/A"},
		{"phone_verified", "true"},
		{"email", "not provided"},
		{"email_verified", "true"},
		{"ssn", "***-**-1234"},
		{"ssn_last4", "1234"},
		{"card_number", "************1111"},
		{"card_brand", "visa"},
		{"iban", "on file"},
		{"pin", "false"},
		{"passport_expiry", "2030-01-01"},
		{"mobile", "true"},
		{"secret_question", "first pet"},
		{"description", "Call 415-055-0000 for help"},
		{"Cookie", "theme=dark; lang=en; _ga=GA1.2.1234567890.1700000000"},
		{"Cookie", "XSRF-TOKEN=8f2a0b3c9d4e5f60718293a4b5c6d7e8"},
		{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"Authorization", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			if c := Field(tc.name, tc.value); c != 0 {
				t.Errorf("Field(%q, %q) = %v, want 0", tc.name, tc.value, c)
			}
		})
	}
}
