package sensitive

import (
	"bytes"
	"strings"
)

// maxValueLen bounds the values Value examines in full; a longer value is
// only checked for a PEM private key header.
const maxValueLen = 16 << 10

// maxNumericLen bounds values starting with a digit, '+' or '(' (phone,
// card and SSN candidates: a formatted 19-digit card is 23 bytes).
const maxNumericLen = 32

// maxEmailLen is the longest e-mail address (RFC 5321 path limit).
const maxEmailLen = 254

// Value classifies one value: a JSON string or number rendered as text, a
// query, path, header or cookie value. Leading and trailing ASCII spaces
// are ignored; the value is otherwise taken as is (percent- or
// form-decoding is the caller's job, except that "%40" is accepted for the
// '@' of an e-mail address). It reports only formats that are checkable
// on their own:
//
//   - Email: local@domain.tld with a practical RFC 5322 subset, also as
//     "Display Name <local@domain.tld>" ("a@b", "user@localhost",
//     "icon@2x.png" and "pkg@1.2.3" are not addresses);
//   - Phone: E.164 ("+14155552671"), "+" and separators ("+44 20 7946
//     0958"), NANP with separators ("(415) 555-2671", "415.555.2671",
//     area and exchange codes checked), national trunk-0 formats with
//     separators ("020 7946 0958", "06 12 34 56 78"); never bare digits;
//   - Card: 13–19 digits, optionally grouped with spaces or dashes, a known
//     issuer prefix for the length (Visa, Mastercard, Amex, Discover,
//     Diners, JCB, UnionPay, Maestro, Mir, RuPay) and a valid Luhn digit;
//   - NationalID: US SSN "123-45-6789" (SSA-invalid areas 000, 666, 9xx,
//     group 00, serial 0000 excluded), UK NINO "AB123456C" (prefix rules
//     checked), Spanish DNI/NIE "12345678Z" (mod-23 letter checked);
//   - IBAN: country code, the country's length and the mod-97 check,
//     compact or in groups of four;
//   - JWT: see IsJWT; "Bearer <jwt>" too;
//   - APIKey: provider tokens of fixed format (GitHub ghp_/gho_/ghu_/ghs_/
//     ghr_/github_pat_, GitLab glpat-, Stripe sk_/rk_ live and test,
//     Slack xox[abpr]-, OpenAI and Anthropic sk-, SendGrid SG., npm_,
//     Hugging Face hf_, Shopify shp??_, PyPI, DigitalOcean dop_v1_) and
//     "Bearer <opaque token>";
//   - CloudCredential: AWS access key ids (AKIA, ASIA, ABIA, ACCA, A3T?),
//     AWS SigV4 Authorization values, Google API keys (AIza…) and OAuth
//     access tokens (ya29.…), Azure storage connection strings with an
//     AccountKey, PEM private keys;
//   - Password: "Basic <base64 of user:password>".
//
// UUIDs, hashes, timestamps, dates, ordinary numbers and ids, and base64
// blobs classify as 0. Most values are rejected after a look at their
// length and first byte. Value never allocates.
func Value(s string) Class {
	s = trimSpace(s)
	n := len(s)
	if n < 6 {
		return 0
	}
	if n > maxValueLen {
		if isPEMPrivateKey(s) {
			return CloudCredential
		}
		return 0
	}
	c0 := s[0]
	switch {
	case c0 >= '0' && c0 <= '9' || c0 == '+' || c0 == '(':
		if n >= 8 && n <= maxNumericLen {
			if c := numeric(s); c != 0 {
				return c
			}
		}
	case c0 >= 'a' && c0 <= 'z':
		if c := lowerToken(s); c != 0 {
			return c
		}
		if c := letterID(s); c != 0 {
			return c
		}
	case c0 >= 'A' && c0 <= 'Z':
		if c := upperToken(s); c != 0 {
			return c
		}
		if c := letterID(s); c != 0 {
			return c
		}
	case c0 == '-':
		if isPEMPrivateKey(s) {
			return CloudCredential
		}
	}
	if n <= maxEmailLen && isEmail(s) {
		return Email
	}
	return 0
}

// trimSpace removes leading and trailing ASCII white space.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool  { return isDigit(c) || isUpper(c) || isLower(c) }

// hasPrefixFold is strings.HasPrefix with ASCII case folding of s; prefix
// must be lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// charMix describes the characters of a token.
type charMix struct {
	upper, lower, digit, other int
}

// mix counts the character kinds of s; ok is false when s has a byte that
// is not in the token alphabet plus the bytes in extra.
func mix(s, extra string) (m charMix, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUpper(c):
			m.upper++
		case isLower(c):
			m.lower++
		case isDigit(c):
			m.digit++
		case c == '-' || c == '_' || strings.IndexByte(extra, c) >= 0:
			m.other++
		default:
			return m, false
		}
	}
	return m, true
}

// random reports whether a token body looks machine-generated: letters of
// both cases and digits (base62 secrets), which slugs, words and hex
// hashes are not.
func (m charMix) random() bool { return m.upper > 0 && m.lower > 0 && m.digit > 0 }

// tokenBody reports whether s (the part after a provider prefix) has at
// least min bytes, all in the token alphabet plus extra, and looks random
// when needRandom is set.
func tokenBody(s string, min int, extra string, needRandom bool) bool {
	if len(s) < min {
		return false
	}
	m, ok := mix(s, extra)
	if !ok {
		return false
	}
	return !needRandom || m.random()
}

// lowerToken recognises the provider tokens and JWTs that start with a
// lower-case letter, and "bearer"/"basic" credentials.
func lowerToken(s string) Class {
	switch s[0] {
	case 'e':
		if IsJWT(s) {
			return JWT
		}
	case 'g':
		// GitHub: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server),
		// ghs_ (server-to-server), ghr_ (refresh) + 36 base62.
		if len(s) >= 40 && s[1] == 'h' && s[3] == '_' && strings.IndexByte("pousr", s[2]) >= 0 {
			if tokenBody(s[4:], 36, "", false) && strings.IndexByte(s[4:], '-') < 0 {
				return APIKey
			}
			return 0
		}
		if strings.HasPrefix(s, "github_pat_") && tokenBody(s[11:], 40, "", false) {
			return APIKey
		}
		if strings.HasPrefix(s, "glpat-") && tokenBody(s[6:], 20, ".", false) {
			return APIKey
		}
	case 's':
		if strings.HasPrefix(s, "sk_live_") || strings.HasPrefix(s, "sk_test_") {
			if tokenBody(s[8:], 16, "", true) {
				return APIKey
			}
			return 0
		}
		// OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-), Anthropic (sk-ant-).
		if strings.HasPrefix(s, "sk-") && tokenBody(s[3:], 32, "", true) {
			return APIKey
		}
		// Shopify: shpat_, shpca_, shppa_, shpss_ + 32 hex.
		if len(s) == 38 && strings.HasPrefix(s, "shp") && s[5] == '_' && isHex(s[6:]) {
			switch s[3:5] {
			case "at", "ca", "pa", "ss":
				return APIKey
			}
		}
	case 'r':
		if (strings.HasPrefix(s, "rk_live_") || strings.HasPrefix(s, "rk_test_")) && tokenBody(s[8:], 16, "", true) {
			return APIKey
		}
	case 'x':
		// Slack: xoxa-, xoxb-, xoxp-, xoxr- then numbers and base62 in dashed parts.
		if len(s) >= 15 && strings.HasPrefix(s, "xox") && s[4] == '-' && strings.IndexByte("abpr", s[3]) >= 0 {
			if m, ok := mix(s[5:], ""); ok && m.digit > 0 && m.other > 0 {
				return APIKey
			}
		}
	case 'y':
		// Google OAuth 2.0 access token.
		if strings.HasPrefix(s, "ya29.") && tokenBody(s[5:], 20, ".", false) {
			return CloudCredential
		}
	case 'n':
		if strings.HasPrefix(s, "npm_") && len(s) == 40 && tokenBody(s[4:], 36, "", true) && !strings.ContainsAny(s[4:], "-_") {
			return APIKey
		}
	case 'h':
		if strings.HasPrefix(s, "hf_") && len(s) >= 37 && tokenBody(s[3:], 34, "", false) {
			if m, _ := mix(s[3:], ""); m.upper > 0 && m.lower > 0 && m.other == 0 {
				return APIKey
			}
		}
	case 'p':
		// PyPI upload token: a macaroon whose base64 starts with the
		// encoded location "pypi.org".
		if strings.HasPrefix(s, "pypi-AgEIcHlwaS5vcmc") && tokenBody(s[5:], 50, "", false) {
			return APIKey
		}
	case 'd':
		if strings.HasPrefix(s, "dop_v1_") && len(s) == 71 && isHex(s[7:]) {
			return APIKey
		}
	case 'b':
		return authValue(s)
	}
	return 0
}

// upperToken recognises the credentials that start with an upper-case
// letter: AWS and Google keys, SendGrid keys, Azure connection strings,
// "Bearer"/"Basic" credentials.
func upperToken(s string) Class {
	switch s[0] {
	case 'A':
		if c := awsKeyID(s); c != 0 {
			return c
		}
		// Google API key: AIza + 35 base64url.
		if len(s) == 39 && strings.HasPrefix(s, "AIza") && tokenBody(s[4:], 35, "", false) {
			return CloudCredential
		}
		if strings.HasPrefix(s, "AWS4-HMAC-SHA256 ") && strings.Contains(s, "Credential=") {
			return CloudCredential
		}
	case 'B':
		if c := authValue(s); c != 0 {
			return c
		}
	case 'D':
		if strings.HasPrefix(s, "DefaultEndpointsProtocol=") && strings.Contains(s, "AccountKey=") {
			return CloudCredential
		}
	case 'S':
		// SendGrid: SG.<22>.<43>
		if len(s) == 69 && s[2] == '.' && s[1] == 'G' && s[25] == '.' &&
			tokenBody(s[3:25], 22, "", false) && tokenBody(s[26:], 43, "", false) {
			return APIKey
		}
	}
	return 0
}

// letterID recognises the identifiers that start with a letter: IBANs (in
// either case), UK NINOs and Spanish NIEs (upper case).
func letterID(s string) Class {
	if len(s) < 9 {
		return 0
	}
	c0, c1 := s[0], s[1]
	switch {
	case isLetter(c1) && isDigit(s[2]) && isDigit(s[3]) && len(s) >= 15:
		if isIBAN(s) {
			return IBAN
		}
	case isUpper(c0) && isUpper(c1) && (isDigit(s[2]) || s[2] == ' '):
		if isNINO(s) {
			return NationalID
		}
	case isDigit(c1) && len(s) == 9 && (c0 == 'X' || c0 == 'Y' || c0 == 'Z'):
		if isNIE(s) {
			return NationalID
		}
	}
	return 0
}

// awsKeyID recognises AWS access key ids: AKIA (long-term), ASIA
// (temporary), ABIA, ACCA and A3T? prefixes followed by 16 base32
// characters.
func awsKeyID(s string) Class {
	if len(s) != 20 {
		return 0
	}
	switch s[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	default:
		if s[1] != '3' || s[2] != 'T' || !(isUpper(s[3]) || isDigit(s[3])) {
			return 0
		}
	}
	for i := 4; i < 20; i++ {
		c := s[i]
		if !isUpper(c) && (c < '2' || c > '7') {
			return 0
		}
	}
	return CloudCredential
}

// authValue classifies an Authorization-style value: "Bearer <jwt>" is
// JWT, "Bearer <opaque>" is APIKey, "Basic <base64 user:password>" is
// Password; anything else is 0.
func authValue(s string) Class {
	switch {
	case hasPrefixFold(s, "bearer "):
		tok := trimSpace(s[7:])
		if IsJWT(tok) {
			return JWT
		}
		if len(tok) >= 8 && isToken68(tok) {
			return APIKey
		}
	case hasPrefixFold(s, "basic "):
		if basicHasPassword(trimSpace(s[6:])) {
			return Password
		}
	}
	return 0
}

// isToken68 reports whether s is an RFC 9110 token68 (the credential syntax
// of Bearer and other schemes).
func isToken68(s string) bool {
	if s == "" {
		return false
	}
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		if !isAlnum(c) && strings.IndexByte("-._~+/", c) < 0 {
			return false
		}
	}
	return true
}

// basicHasPassword reports whether s is the standard, padded base64 of
// "user:password" (a ':' in the decoded bytes).
func basicHasPassword(s string) bool {
	if len(s) < 4 || len(s)%4 != 0 || len(s) > 4096 {
		return false
	}
	if s[len(s)-1] == '=' {
		s = s[:len(s)-1]
		if s[len(s)-1] == '=' {
			s = s[:len(s)-1]
		}
	}
	var buf [b64Chunk / 4 * 3]byte
	colon := false
	for s != "" {
		chunk := s[:min(len(s), b64Chunk)]
		s = s[len(chunk):]
		n, ok := decodeB64(buf[:], chunk, stdAlphabet)
		if !ok {
			return false
		}
		colon = colon || bytes.IndexByte(buf[:n], ':') >= 0
	}
	return colon
}

// isHex reports whether s is non-empty lower- or upper-case hex.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// isPEMPrivateKey reports whether s starts with a PEM private key header:
// "-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----".
func isPEMPrivateKey(s string) bool {
	const begin = "-----BEGIN "
	if !strings.HasPrefix(s, begin) {
		return false
	}
	rest := s[len(begin):]
	if len(rest) > 40 {
		rest = rest[:40]
	}
	end := strings.Index(rest, "-----")
	if end < 0 {
		return false
	}
	label := rest[:end]
	label = strings.TrimSuffix(label, " BLOCK")
	if !strings.HasSuffix(label, "PRIVATE KEY") {
		return false
	}
	switch label[:len(label)-len("PRIVATE KEY")] {
	case "", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ":
		return true
	}
	return false
}

// isEmail reports whether s is an e-mail address, bare or in angle
// brackets after a display name: a local part of letters, digits and
// ._%+-' (no leading, trailing or doubled dot, at most 64 bytes), '@' (or
// "%40"), and a domain of at least two labels whose top level is
// alphabetic (or punycode) and not a file extension.
func isEmail(s string) bool {
	if s[len(s)-1] == '>' {
		// A display-name address: "Jane Doe <jane@example.com>".
		lt := strings.LastIndexByte(s, '<')
		if lt < 0 || len(s)-lt < 8 {
			return false
		}
		s = s[lt+1 : len(s)-1]
	}
	at, skip := strings.IndexByte(s, '@'), 1
	if at < 0 {
		if strings.IndexByte(s, '%') < 0 {
			return false
		}
		at, skip = strings.Index(s, "%40"), 3
		if at < 0 {
			return false
		}
	}
	if at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+skip:]
	if !emailLocal(local) {
		return false
	}
	return emailDomain(domain)
}

func emailLocal(local string) bool {
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case isAlnum(c), c == '_', c == '%', c == '+', c == '-', c == '\'':
		case c == '.':
			if local[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func emailDomain(d string) bool {
	if len(d) < 4 || len(d) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !isAlnum(c) && c != '-' {
				return false
			}
			continue
		}
		l := d[start:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		start = i + 1
	}
	if labels < 2 {
		return false
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	if strings.HasPrefix(tld, "xn--") {
		return len(tld) > 4
	}
	if len(tld) < 2 || len(tld) > 24 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isUpper(tld[i]) && !isLower(tld[i]) {
			return false
		}
	}
	return !fileExtension(tld)
}

// fileExtension reports top-level "domains" that are file extensions in
// practice ("icon@2x.png", "logo@3x.webp").
func fileExtension(tld string) bool {
	var b [5]byte
	if len(tld) > len(b) {
		return false
	}
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(tld)]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "avif", "heic", "tif", "tiff",
		"js", "mjs", "css", "json", "html", "htm", "xml", "pdf", "txt", "csv", "md", "yml", "yaml",
		"ts", "tsx", "jsx", "map", "woff", "ttf", "mp3", "mp4", "wav", "webm", "gz", "tgz", "zip":
		return true
	}
	return false
}
