package sensitive

import (
	"encoding/base64"
	"testing"
)

func TestField(t *testing.T) {
	cases := []struct {
		name, value string
		want        Class
	}{
		// Password names: any non-literal value.
		{"password", "hunter2", Password},
		{"Password", "correct horse battery staple", Password},
		{"passwd", "x", Password},
		{"pwd", "1234", Password},
		{"pass", "letmein", Password},
		{"passphrase", "a long passphrase", Password},
		{"passcode", "842913", Password},
		{"pin", "0000", Password},
		{"secret", "s3cr3t", Password},
		{"client_secret", "abc", Password},
		{"clientSecret", "abc", Password},
		{"Client-Secret", "abc", Password},
		{"webhook_secret", "whsec_abc", Password},
		{"new_password", "N3w!", Password},
		{"confirmPassword", "N3w!", Password},
		{"currentPassword", "old", Password},
		{"db_pwd", "p", Password},
		{"/user/credentials/password", "p4ss", Password},
		{"user.password", "p4ss", Password},
		{"password", "  ", 0},
		{"password", "true", 0},
		{"password", "null", 0},
		// Cloud credentials by name.
		{"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", CloudCredential},
		{"AWS_SESSION_TOKEN", "FwoGZXIvYXdzEJr" + b62a, CloudCredential},
		{"secretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", CloudCredential},
		{"private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", CloudCredential},
		{"aws_access_key_id", awsKey("AKIA"), CloudCredential},
		{"aws_region", "us-east-1", 0},
		// API keys by name with opaque values.
		{"api_key", "3f8a9c2d1e0b4a7f8c9d0e1f2a3b4c5d", APIKey},
		{"apikey", "AbCd1234EfGh5678", APIKey},
		{"apiKey", "550e8400-e29b-41d4-a716-446655440000", APIKey},
		{"X-API-Key", "k_9f8e7d6c5b4a3210", APIKey},
		{"x-api-key", "k_9f8e7d6c5b4a3210", APIKey},
		{"token", "0a1b2c3d4e5f60718293a4b5", APIKey},
		{"access_token", "gAAAAABk" + b62a, APIKey},
		{"refresh_token", "def50200" + b62b, APIKey},
		{"auth_token", "tok_1234567890abcdef", APIKey},
		{"X-Auth-Token", "c2VjcmV0LXRva2VuLTEyMzQ1", APIKey},
		{"access_key", "AK1234567890ABCDEF", APIKey},
		{"Ocp-Apim-Subscription-Key", "0123456789abcdef0123456789abcdef", APIKey},
		{"sessionid", "9x8y7z6w5v4u3t2s1r0q", APIKey},
		{"JSESSIONID", "1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D", APIKey},
		{"key", "d0552b41536279a0ad88bd595327b96f01176a60c2243e906c52ac02375f9bc4", APIKey},
		{"key", "photos/2024/summer/beach-0042.jpg", 0},
		{"key", "PROJ-1234", 0},
		{"api_key", "short1", 0},
		{"api_key", "no digits here at all", 0},
		// Authorization values.
		{"Authorization", "Bearer " + jwtIO, JWT},
		{"Authorization", "Bearer " + b62a, APIKey},
		{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p")), Password},
		{"Authorization", "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", APIKey},
		{"Authorization", "ApiKey a1b2c3d4e5f6a7b8c9d0", APIKey},
		{"authorization", "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", APIKey},
		{"Authorization", "Negotiate", 0},
		// National ids by name.
		{"ssn", "123456789", NationalID},
		{"SSN", "123-45-6789", NationalID},
		{"customer_ssn", "123 45 6789", NationalID},
		{"social_security_number", "987654321", NationalID},
		{"national_id", "19800101-1234", NationalID},
		{"nationalId", "AB123456C", NationalID},
		{"tax_id", "12-3456789", NationalID},
		{"passport_number", "X12345678", NationalID},
		{"cpf", "123.456.789-09", NationalID},
		{"dni", "12345678Z", NationalID},
		{"aadhaar", "2345 6789 0123", NationalID},
		{"ssn", "12", 0},
		// Phones by name.
		{"phone", "4155552671", Phone},
		{"phone_number", "555-0100", Phone},
		{"phoneNumber", "+1 415 555 2671", Phone},
		{"mobile", "07700900123", Phone},
		{"cell", "(415) 555-2671", Phone},
		{"tel", "0301234567", Phone},
		{"msisdn", "447700900123", Phone},
		{"fax", "+49 30 1234567", Phone},
		{"homePhone", "5551234567", Phone},
		{"phone", "12345", 0},
		{"phone", "call me", 0},
		// Emails by name (relaxed).
		{"email", "root@localhost", Email},
		{"Email", "a@b", Email},
		{"contact_email", "ops@intranet", Email},
		{"email", "john@example.com", Email},
		{"email", "no-at-sign", 0},
		// Cards by name (Luhn, no issuer check).
		{"card_number", "79927398713", 0}, // 11 digits: too short
		{"card_number", "799273987138", Card},
		{"cardNumber", "4111 1111 1111 1111", Card},
		{"pan", "1234567812345670", Card},
		{"cc_number", "1234567812345678", 0},
		// IBAN by name, either case.
		{"iban", "de89370400440532013000", IBAN},
		{"account_iban", "GB82 WEST 1234 5698 7654 32", IBAN},
		{"iban", "DE00000000000000000000", 0},
		// Value evidence with any name.
		{"description", "reach me at jane@example.com", 0},
		{"contact", "jane@example.com", Email},
		{"data", jwtIO, JWT},
		{"x", awsKey("AKIA"), CloudCredential},
		{"notes", "4111111111111111", Card},
		// Cookies.
		{"Cookie", "JSESSIONID=1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D; theme=dark", APIKey},
		{"Cookie", "token=" + jwtIO, JWT | APIKey},
		{"Cookie", "remember=" + jwtIO, JWT},
		{"cookie", "email=jane%40example.com; lang=en", Email},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			if got := Field(tc.name, tc.value); got != tc.want {
				t.Errorf("Field(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestFieldIncludesValue(t *testing.T) {
	for _, tc := range positiveValues() {
		t.Run(tc.name, func(t *testing.T) {
			if got := Field("value", tc.in); got&tc.want != tc.want {
				t.Errorf("Field(value, %q) = %v, want at least %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormKey(t *testing.T) {
	cases := []struct{ in, want string }{
		{"client_secret", "clientsecret"},
		{"clientSecret", "clientsecret"},
		{"Client-Secret", "clientsecret"},
		{"X-API-Key", "xapikey"},
		{"/user/credentials/password", "password"},
		{"/items/*/card_number", "cardnumber"},
		{"user.password", "userpassword"},
		{"", ""},
		{"/", ""},
		{"a_very_long_field_name_that_goes_on_and_on_and_on_and_ends_in_password", "ngfieldnamethatgoesonandonandonandendsinpassword"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var k key
			normKey(&k, tc.in)
			if got := string(k.bytes()); got != tc.want {
				t.Errorf("normKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
