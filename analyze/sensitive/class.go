package sensitive

import (
	"strings"
	"unicode/utf8"
)

// Class is a bit set of sensitive-data classes. The zero Class means "not
// sensitive".
type Class uint16

// The sensitive-data classes.
const (
	// Email is an e-mail address (local@domain.tld).
	Email Class = 1 << iota
	// Phone is a telephone number: E.164 ("+14155552671"), an
	// international or national format with separators, or any 7 to 15
	// digits under a phone field name.
	Phone
	// Card is a payment card number (PAN): 13–19 digits, Luhn-checked, with
	// a known issuer prefix.
	Card
	// NationalID is a national identification number: US SSN, UK NINO,
	// Spanish DNI/NIE, or a 9-digit-ish value under a national-id field name.
	NationalID
	// IBAN is an international bank account number (country, length and
	// mod-97 checked).
	IBAN
	// JWT is a JSON Web Token (JWS compact serialization).
	JWT
	// APIKey is an API key or access token: a provider token of known
	// format (GitHub, GitLab, Stripe, Slack, OpenAI, SendGrid, npm, …), a
	// Bearer credential, or an opaque value under a key/token field name.
	APIKey
	// CloudCredential is a cloud or infrastructure credential: AWS access
	// key ids and secret keys, AWS SigV4 authorizations, Google Cloud API
	// keys and OAuth access tokens, Azure storage connection strings,
	// private keys in PEM form.
	CloudCredential
	// Password is a password or shared secret. Only Field reports it: a
	// password does not look like anything in particular.
	Password

	// All is the union of every class.
	All = Email | Phone | Card | NationalID | IBAN | JWT | APIKey | CloudCredential | Password
)

// classNames lists the classes in the order of their names.
const nameOrder = "api-key card cloud-credential email iban jwt national-id password phone"

// classByName returns the class with the given name, 0 when unknown.
func classByName(name string) Class {
	switch name {
	case "api-key":
		return APIKey
	case "card":
		return Card
	case "cloud-credential":
		return CloudCredential
	case "email":
		return Email
	case "iban":
		return IBAN
	case "jwt":
		return JWT
	case "national-id":
		return NationalID
	case "password":
		return Password
	case "phone":
		return Phone
	}
	return 0
}

// AppendNames appends the names of the classes in c to dst, sorted by name:
// "api-key", "card", "cloud-credential", "email", "iban", "jwt",
// "national-id", "password", "phone". The names are constants; bits that
// are not a class are ignored. It allocates only when dst must grow.
func (c Class) AppendNames(dst []string) []string {
	rest := nameOrder
	for rest != "" {
		name, tail, _ := strings.Cut(rest, " ")
		rest = tail
		if c&classByName(name) != 0 {
			dst = append(dst, name)
		}
	}
	return dst
}

// Names returns the names of the classes in c, sorted (see AppendNames);
// nil when c has none. The slice is new on every call and owned by the
// caller.
func (c Class) Names() []string {
	if c&All == 0 {
		return nil
	}
	return c.AppendNames(make([]string, 0, c.Count()))
}

// Count is the number of classes in c.
func (c Class) Count() int {
	n := 0
	for b := c & All; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// String returns the sorted names joined with ",", or "" for no class.
func (c Class) String() string {
	return strings.Join(c.Names(), ",")
}

// ParseClass returns the class named name (one of the names Names returns),
// or false when the name is unknown.
func ParseClass(name string) (Class, bool) {
	c := classByName(name)
	return c, c != 0
}

// MaxExampleLen is the length in bytes to which Redact cuts a value that
// is not sensitive.
const MaxExampleLen = 64

// Redact returns a value safe to show as an example in place of s, a value
// of class c. When c is not zero the result is a fixed placeholder of the
// most secret class in c (Password first, then CloudCredential, APIKey,
// JWT, Card, IBAN, NationalID, Phone, Email): it reveals nothing of s and
// is never equal to s. Placeholders are constants shaped like the class
// where that is harmless ("user@example.com", "+15555550100", the
// documented test card "4111111111111111", an unsigned JWT with empty
// claims); secrets become "********" or "REDACTED_…".
//
// When c is zero, s is returned unchanged except that it is cut to at most
// MaxExampleLen bytes at a UTF-8 boundary; the result then aliases s, so a
// caller that keeps it and does not own s must copy it (strings.Clone).
// Redact never allocates.
func Redact(c Class, s string) string {
	if c&All == 0 {
		return cut(s, MaxExampleLen)
	}
	var a, b string
	switch {
	case c&Password != 0:
		a, b = "********", "REDACTED_PASSWORD"
	case c&CloudCredential != 0:
		a, b = "REDACTED_CLOUD_CREDENTIAL", "REDACTED_CREDENTIAL"
	case c&APIKey != 0:
		a, b = "REDACTED_API_KEY", "REDACTED_TOKEN"
	case c&JWT != 0:
		// {"alg":"none"} . {} . (no signature), and with "typ":"JWT".
		a, b = "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.e30."
	case c&Card != 0:
		a, b = "4111111111111111", "5555555555554444"
	case c&IBAN != 0:
		a, b = "GB82WEST12345698765432", "DE89370400440532013000"
	case c&NationalID != 0:
		a, b = "000-00-0000", "REDACTED_NATIONAL_ID"
	case c&Phone != 0:
		a, b = "+15555550100", "+15555550199"
	default: // Email
		a, b = "user@example.com", "someone@example.org"
	}
	if s == a {
		return b
	}
	return a
}

// cut returns s cut to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
