package sensitive

import "strings"

// maxKeyLen is how much of a field name Field looks at: the last
// maxKeyLen letters and digits.
const maxKeyLen = 48

// key is a field name reduced to lower-case ASCII letters and digits
// ("client_secret", "clientSecret" and "Client-Secret" are all
// "clientsecret"), its last maxKeyLen characters kept.
type key struct {
	buf [maxKeyLen]byte
	off int
}

// bytes returns the normalised name.
func (k *key) bytes() []byte { return k.buf[k.off:] }

func (k *key) is(s string) bool { return string(k.buf[k.off:]) == s }

func (k *key) hasSuffix(s string) bool {
	b := k.buf[k.off:]
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

func (k *key) hasPrefix(s string) bool {
	b := k.buf[k.off:]
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// normKey fills k from name. Only the last segment of a JSON pointer or
// dotted path counts ("/user/password", "user.password" → "password").
func normKey(k *key, name string) {
	k.off = len(k.buf)
	for i := len(name) - 1; i >= 0 && k.off > 0; i-- {
		c := name[i]
		switch {
		case c == '/':
			return
		case isLower(c), isDigit(c):
		case isUpper(c):
			c += 'a' - 'A'
		default:
			continue
		}
		k.off--
		k.buf[k.off] = c
	}
}

// Field classifies a value seen under a field name: a JSON property name
// or pointer, a query or form parameter, a header or a cookie name. It
// returns Value(value) together with the classes the name gives evidence
// for; names are compared case-insensitively without punctuation, so
// "client_secret", "clientSecret" and "Client-Secret" are the same name.
//
//   - Password: password, passwd, pwd, pass, passphrase, passcode, pin,
//     secret, client_secret and names ending in password, passwd,
//     passphrase, passcode, secret or pwd, for any non-empty value that is
//     not a boolean or null literal;
//   - CloudCredential: AWS secret access keys, session tokens and other
//     aws… key/secret/token names, private_key, with an opaque value;
//   - APIKey: api_key, apikey, x-api-key, token, access_token,
//     refresh_token, auth_token, access_key, secret_key, subscription keys
//     and names ending in apikey or token (not pagination, CSRF or
//     idempotency tokens: page_token, next_token, csrf_token, …),
//     session cookie names (JSESSIONID, PHPSESSID, sid, …), and
//     Authorization values with a scheme other than Bearer and Basic,
//     with an opaque value (at least 12 token characters, letters and
//     digits, no spaces); a bare "key" only with a long random value
//     (32 to 512 base64url characters, letters and digits);
//   - NationalID: ssn, social_security_number, national_id, nin, nino,
//     tax_id, tin, sin, passport_number, id_number, cpf, nif, dni, nie,
//     aadhaar, pesel, bsn, … with a 9-digit-ish value (6 to 18 letters and
//     digits, at least 4 of them digits, after removing separators);
//   - Phone: phone, phone_number, mobile, cell, tel, telephone, msisdn,
//     fax, … with 7 to 15 digits, separators and an optional leading '+';
//   - Email: email, e_mail, mail, email_address, … with local@domain;
//   - Card: card_number, cc_number, credit_card, pan, … with 12 to 19
//     digits that pass the Luhn check;
//   - IBAN: iban names with an IBAN in either letter case.
//
// The header name "Cookie" makes Field classify each cookie of the value
// under its own name. Field never allocates.
func Field(name, value string) Class {
	c := Value(value)
	v := trimSpace(value)
	if v == "" {
		return c
	}
	var k key
	normKey(&k, name)
	if k.off == len(k.buf) {
		return c
	}
	if k.is("cookie") {
		return c | cookieFields(v)
	}
	return c | byName(&k, v)
}

// cookieFields classifies the cookies of a Cookie header value.
func cookieFields(v string) Class {
	var c Class
	for v != "" {
		var pair string
		pair, v, _ = strings.Cut(v, ";")
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		name, val = trimSpace(name), trimSpace(val)
		if val == "" {
			continue
		}
		var k key
		normKey(&k, name)
		c |= Value(val)
		if k.off < len(k.buf) && !k.is("cookie") {
			c |= byName(&k, val)
		}
		if sessionCookieName(name) && opaque(val) {
			c |= APIKey
		}
	}
	return c
}

// byName returns the classes the normalised name k gives evidence for,
// given the (trimmed, non-empty) value v.
func byName(k *key, v string) Class {
	switch kindOf(k) {
	case namePassword:
		if !literal(v) {
			return Password
		}
	case nameCloud:
		if opaque(v) {
			return CloudCredential
		}
	case nameAPIKey:
		if opaque(v) {
			return APIKey
		}
	case nameKey:
		if m, ok := mix(v, ""); ok && len(v) >= 32 && len(v) <= 512 && m.digit > 0 && m.upper+m.lower > 0 {
			return APIKey
		}
	case nameAuthorization:
		if authValue(v) == 0 {
			if _, cred, ok := strings.Cut(v, " "); ok && opaque(trimSpace(cred)) {
				return APIKey
			}
			if opaque(v) {
				return APIKey
			}
		}
	case nameNationalID:
		if nationalIDValue(v) {
			return NationalID
		}
	case namePhone:
		if phoneValue(v) {
			return Phone
		}
	case nameEmail:
		if emailValue(v) {
			return Email
		}
	case nameCard:
		if cardValue(v) {
			return Card
		}
	case nameIBAN:
		if isIBAN(v) {
			return IBAN
		}
	}
	return 0
}

// nameKind is what a field name says its value is.
type nameKind uint8

const (
	nameOrdinary nameKind = iota
	namePassword
	nameCloud
	nameAPIKey
	nameKey // a bare "key": an API key only when the value is a long random token
	nameAuthorization
	nameNationalID
	namePhone
	nameEmail
	nameCard
	nameIBAN
)

// kindOf classifies a normalised field name: exact names first, then
// suffixes, picked by the last byte so that an ordinary name costs a
// switch and a few comparisons.
func kindOf(k *key) nameKind {
	b := k.bytes()
	switch string(b) {
	case "pwd", "pass", "pin", "secret", "passwd", "password", "passphrase", "passcode":
		return namePassword
	case "googleapikey", "gcpapikey", "azurestoragekey", "accountkey", "storageaccountkey":
		return nameCloud
	case "accesskey", "secretkey", "authkey", "clientkey", "subscriptionkey", "xauthkey", "xaccesskey",
		"apiauth", "bearer", "jwt", "xjwt":
		return nameAPIKey
	case "key":
		return nameKey
	case "authorization", "proxyauthorization":
		return nameAuthorization
	case "ssn", "nin", "nino", "tin", "sin", "cpf", "nif", "dni", "nie", "bsn", "pesel", "curp", "rut",
		"aadhaar", "aadhar", "aadhaarnumber", "personnummer", "passport", "passportno", "passportnumber",
		"idnumber", "idcardnumber", "identitynumber", "identificationnumber", "personalnumber",
		"nationalinsurancenumber", "socialinsurancenumber", "socialsecurityno", "socialsecuritynumber",
		"taxid", "taxidnumber", "taxidentificationnumber", "taxnumber", "nationalid", "nationalidnumber",
		"nationalidentifier", "nationalidentitynumber", "nationalnumber":
		return nameNationalID
	case "tel", "cell", "fax", "mobile", "msisdn", "whatsapp", "telefono", "telefon", "contactnumber",
		"mobileno", "phoneno":
		return namePhone
	case "mail", "email", "emailaddress", "mailaddress":
		return nameEmail
	case "pan", "ccnum", "ccnumber", "cardno", "cardnum", "cardnumber", "creditcard", "creditcardnumber",
		"debitcard", "debitcardnumber", "primaryaccountnumber", "paymentcardnumber":
		return nameCard
	case "iban":
		return nameIBAN
	}
	if sessionKey(k) {
		return nameAPIKey
	}
	if len(b) < 4 {
		return nameOrdinary
	}
	aws := k.hasPrefix("aws")
	switch b[len(b)-1] {
	case 'd':
		switch {
		case k.hasSuffix("password"), k.hasSuffix("passwd"), k.hasSuffix("pwd"):
			return namePassword
		case k.hasSuffix("nationalid"), k.hasSuffix("taxid"):
			return nameNationalID
		}
	case 'e':
		switch {
		case k.hasSuffix("passphrase"), k.hasSuffix("passcode"):
			return namePassword
		case k.hasSuffix("phone"):
			return namePhone
		}
	case 't':
		if k.hasSuffix("secret") {
			if aws {
				return nameCloud
			}
			return namePassword
		}
	case 'y':
		switch {
		case aws, k.hasSuffix("secretaccesskey"), k.hasSuffix("privatekey"):
			return nameCloud
		case k.hasSuffix("apikey"), k.hasSuffix("subscriptionkey"):
			return nameAPIKey
		}
	case 'n':
		switch {
		case k.hasSuffix("token"):
			if aws {
				return nameCloud
			}
			if !nonCredentialToken(k) {
				return nameAPIKey
			}
		case k.hasSuffix("ssn"):
			return nameNationalID
		case k.hasSuffix("msisdn"):
			return namePhone
		case k.hasSuffix("iban"):
			return nameIBAN
		}
	case 'r':
		switch {
		case k.hasSuffix("phonenumber"), k.hasSuffix("mobilenumber"), k.hasSuffix("faxnumber"), k.hasSuffix("cellnumber"):
			return namePhone
		case k.hasSuffix("cardnumber"):
			return nameCard
		case k.hasSuffix("socialsecuritynumber"), k.hasSuffix("passportnumber"):
			return nameNationalID
		}
	case 'l':
		if k.hasSuffix("email") {
			return nameEmail
		}
	case 's':
		if k.hasSuffix("emailaddress") {
			return nameEmail
		}
	}
	return nameOrdinary
}

// nonCredentialToken reports token names that are not credentials:
// pagination cursors, CSRF tokens, idempotency tokens.
func nonCredentialToken(k *key) bool {
	switch {
	case k.hasSuffix("pagetoken"), k.hasSuffix("nexttoken"), k.hasSuffix("prevtoken"), k.hasSuffix("previoustoken"),
		k.hasSuffix("continuationtoken"), k.hasSuffix("synctoken"), k.hasSuffix("resumetoken"),
		k.hasSuffix("paginationtoken"), k.hasSuffix("cursortoken"), k.hasSuffix("deltatoken"),
		k.hasSuffix("csrftoken"), k.hasSuffix("xsrftoken"), k.hasSuffix("requesttoken"),
		k.hasSuffix("idempotencytoken"), k.hasSuffix("changetoken"), k.hasSuffix("statetoken"):
		return true
	}
	return false
}

// sessionKey reports normalised session-id names used as fields or
// cookies (see sessionCookieName for the cookie names as sent).
func sessionKey(k *key) bool {
	switch string(k.bytes()) {
	case "jsessionid", "phpsessid", "aspnetsessionid", "connectsid", "sessionid", "sid", "sessid",
		"session", "sessionkey", "sessiontoken", "laravelsession", "cisession", "racksession", "expresssid":
		return true
	}
	return false
}

// literal reports boolean and null literals, which a password field never
// holds as a secret ("has_password": "true").
func literal(v string) bool {
	switch v {
	case "true", "false", "null", "True", "False", "TRUE", "FALSE", "NULL", "nil", "None", "undefined":
		return true
	}
	return false
}

// opaque reports values that look like a secret token: 12 to 8192 bytes
// of token characters (base64, base64url, hex, dots, tildes, colons),
// letters and digits both present, no white space.
func opaque(v string) bool {
	if len(v) < 12 || len(v) > 8192 {
		return false
	}
	m, ok := mix(v, ".~+/=:")
	if !ok {
		return false
	}
	return m.digit > 0 && m.upper+m.lower > 0
}

// nationalIDValue: 6 to 18 letters and digits, at least 4 of them digits,
// after removing spaces, dashes, dots and slashes.
func nationalIDValue(v string) bool {
	n, digits := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			digits++
			n++
		case isUpper(c) || isLower(c):
			n++
		case c == ' ' || c == '-' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return n >= 6 && n <= 18 && digits >= 4
}

// phoneValue: 7 to 15 digits with separators, an optional leading '+'.
func phoneValue(v string) bool {
	digits := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			digits++
		case c == '+' && i == 0:
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

// emailValue: one '@' between a non-empty local part and domain, no white
// space.
func emailValue(v string) bool {
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.IndexByte(v[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' {
			return false
		}
	}
	return true
}

// cardValue: 12 to 19 digits with spaces or dashes that pass the Luhn
// check.
func cardValue(v string) bool {
	var d [19]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			if n == len(d) {
				return false
			}
			d[n] = c - '0'
			n++
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	return n >= 12 && luhn(d[:n])
}

// sessionCookieName reports cookie names that carry a server-side session
// id: JSESSIONID, PHPSESSID, ASP.NET_SessionId, ASPSESSIONID…, connect.sid,
// session, sessionid, session_id, sid, names ending in _session, -session,
// .session, _sess, .sid or _sid, Drupal's SESS/SSESS + hex, and names with
// a __Host- or __Secure- prefix followed by one of those.
func sessionCookieName(name string) bool {
	name = strings.TrimPrefix(name, "__Host-")
	name = strings.TrimPrefix(name, "__Secure-")
	if len(name) < 3 || len(name) > 128 {
		return false
	}
	var k key
	normKey(&k, name)
	if sessionKey(&k) {
		return true
	}
	if hasPrefixFold(name, "aspsessionid") {
		return true
	}
	if (strings.HasPrefix(name, "SESS") && isHex(name[4:])) || (strings.HasPrefix(name, "SSESS") && isHex(name[5:])) {
		return true
	}
	return hasSuffixFold(name, "_session") || hasSuffixFold(name, "-session") || hasSuffixFold(name, ".session") ||
		hasSuffixFold(name, "_sess") || hasSuffixFold(name, ".sid") || hasSuffixFold(name, "_sid") ||
		hasSuffixFold(name, "sessionid") || hasSuffixFold(name, "session_id")
}

// hasSuffixFold is strings.HasSuffix with ASCII case folding of s; suffix
// must be lower case.
func hasSuffixFold(s, suffix string) bool {
	if len(s) < len(suffix) {
		return false
	}
	return hasPrefixFold(s[len(s)-len(suffix):], suffix)
}
