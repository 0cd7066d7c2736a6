package pathtmpl

// Kind is the class of one path segment, decided by Classify from the
// segment's bytes alone.
type Kind uint8

// Segment kinds. KindWord and KindFixed are literal by themselves; every
// other kind is "typed": a value that becomes a parameter at once.
const (
	// KindWord is a plain word (a username, a slug, an index name, a SKU):
	// literal until evidence says the position is a parameter.
	KindWord Kind = iota
	// KindFixed is a common API word, a version or a technical token
	// ("api", "v2", "v1.41", "me", "search", "oauth2", "x86_64", "_ping",
	// the empty segment): literal, never counted as a value for a
	// parameter; only structural evidence (siblings with alike subtrees:
	// see the package documentation) makes one a parameter's value.
	KindFixed
	// KindNumber is an integer, or digits joined by '-', '_' or ':' that
	// are not a date, a version or an address.
	KindNumber
	// KindUUID is a UUID in its 8-4-4-4-12 form, any case.
	KindUUID
	// KindObjectID is a MongoDB ObjectId: 24 hex digits.
	KindObjectID
	// KindHash is a hex digest of a common length: 32 (md5), 40 (sha1),
	// 64 (sha256, Docker ids), 128 (sha512).
	KindHash
	// KindHex is another hex string of at least 8 characters with a digit
	// (Docker's 12-digit short ids, hex ids, partial hashes).
	KindHex
	// KindDate is a date or a date-time: 2024-01-31, 2024-01, 20240131,
	// 2024-01-31T10:00:00Z.
	KindDate
	// KindEmail is an e-mail address ('@' possibly percent-encoded).
	KindEmail
	// KindAddress is an IPv4 or IPv6 address.
	KindAddress
	// KindToken is an opaque token: base62 ids ("8f3aK2xQ"), prefixed ids
	// ("tr_8f3aK2", "cus_NffrFeUfNV2Hib"), ULIDs, KSUIDs, long base64url
	// strings, JWTs, and any segment longer than maxWordLen.
	KindToken
)

// maxWordLen is the longest segment Classify may call a word; a longer one
// is KindToken. It also bounds the memory a literal segment can take.
const maxWordLen = 128

// String returns the kind's lower-case name ("word", "uuid", …).
func (k Kind) String() string {
	switch k {
	case KindWord:
		return "word"
	case KindFixed:
		return "fixed"
	case KindNumber:
		return "number"
	case KindUUID:
		return "uuid"
	case KindObjectID:
		return "objectid"
	case KindHash:
		return "hash"
	case KindHex:
		return "hex"
	case KindDate:
		return "date"
	case KindEmail:
		return "email"
	case KindAddress:
		return "address"
	case KindToken:
		return "token"
	}
	return "unknown"
}

// Typed reports whether segments of this kind become parameters at once.
func (k Kind) Typed() bool { return k >= KindNumber }

// Classify decides the kind of one path segment (raw, as sent: no
// percent-decoding). It allocates nothing and is safe for concurrent use.
//
// The order of the tests, first match wins:
//
//  1. Empty, starting with '_', '$', '.' or '~' (Docker's "_ping",
//     Elasticsearch's "_search", OData's "$batch", ".well-known"), a version
//     ("v2", "v1.41", "v2beta1", "1.0", "2.7.1") or a word of the fixed list
//     (isFixedWord: API structure, auth and actions, common resource
//     collections, technical tokens such as "oauth2", "s3", "utf8", "md5",
//     "x86_64", "ipv4", "sha256") → KindFixed.
//  2. Longer than 128 bytes → KindToken.
//  3. Shapes with a syntax: UUID, all digits (a valid YYYYMMDD is a date),
//     dates and date-times, IPv4 and IPv6 addresses, e-mail addresses,
//     hex strings of 8+ characters with at least one digit (24: ObjectId;
//     32/40/64/128: hash; otherwise hex), JWTs ("eyJ…" in three dotted
//     parts), digits joined by '-', '_' or ':' → their kinds.
//  4. Opaque tokens, only from the base64url alphabet [A-Za-z0-9_-] (plus
//     trailing '=' padding), judged on the letter/digit structure:
//     - a prefixed id: lower-case prefix words ending in '_' ("cus_",
//     "sk_test_") and a body of 8+ letters and digits mixing letters
//     with digits or upper with lower case ("cus_NffrFeUfNV2Hib");
//     - a run of letters and digits (between separators) of 6+
//     characters with 2+ digits and 2+ letter↔digit transitions
//     ("8f3aK2xQ", "tr_8f3aK2", ULIDs, KSUIDs), or any 3+ transitions
//     over 8+ characters. A word followed by a number ("name1",
//     "bookTitle77", "oauth2", "sha256", "covid19") has one
//     transition and stays a word; so do "h264-1080p" and "x86_64"
//     whose runs have one each;
//     - a run of 10+ characters mixing case like random base62 does
//     (upper- and lower-case letters each at least a quarter of the
//     letters: "NffrFeUfNVHib"), which camelCase words
//     ("getUserProfile": 2 capitals in 14) never do;
//     - a run of 16+ characters with a digit ("dGhpcyBpcyBhIHRva2Vu…"
//     base64url, long API keys). Slugs ("star-wars-iv",
//     "my-post-2024") have short runs and stay words.
//  5. Anything else (letters, digits, '-', '.', '+', ':' in word-like
//     arrangements: "star-wars", "john.doe42", "ubuntu:22.04",
//     "SKU-12345", "index.html") → KindWord.
func Classify(seg string) Kind {
	n := len(seg)
	if n == 0 {
		return KindFixed
	}
	switch seg[0] {
	case '_', '$', '.', '~':
		return KindFixed
	}
	if isVersion(seg) || isFixedWordFold(seg) {
		return KindFixed
	}
	if n > maxWordLen {
		return KindToken
	}
	if isUUID(seg) {
		return KindUUID
	}
	var st segStats
	st.scan(seg)
	if st.digits == n {
		if n == 8 && isDate8(seg) {
			return KindDate
		}
		return KindNumber
	}
	if st.digits > 0 && isDate(seg) {
		return KindDate
	}
	if st.other == 0 && st.seps == 0 && st.hex == n && st.digits > 0 && n >= 8 {
		switch n {
		case 24:
			return KindObjectID
		case 32, 40, 64, 128:
			return KindHash
		}
		return KindHex
	}
	if st.letters == 0 && st.digits > 0 && isDigitsJoined(seg) {
		if isIPv4(seg) {
			return KindAddress
		}
		return KindNumber
	}
	if isIPv6(seg) {
		return KindAddress
	}
	if isEmail(seg) {
		return KindEmail
	}
	if isJWT(seg) {
		return KindToken
	}
	if st.other == 0 && (isPrefixedID(seg) || isOpaque(seg, &st)) {
		return KindToken
	}
	return KindWord
}

// idPrefix returns the length of a prefixed id's prefix: lower-case words
// of 1 to 12 letters each followed by '_' ("cus_", "sk_test_"); 0 when
// there is none.
func idPrefix(seg string) int {
	n, word := 0, 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c >= 'a' && c <= 'z':
			word++
			if word > 12 {
				return n
			}
		case c == '_' && word > 0:
			n, word = i+1, 0
		default:
			return n
		}
	}
	return n
}

// charClasses returns the classes of s as bits (1 digit, 2 upper case,
// 4 lower case), ok false when s has anything but letters and digits.
func charClasses(s string) (cl uint8, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			cl |= 1
		case c >= 'A' && c <= 'Z':
			cl |= 2
		case c >= 'a' && c <= 'z':
			cl |= 4
		default:
			return cl, false
		}
	}
	return cl, true
}

// isPrefixedID reports Stripe-style ids: a prefix ("cus_", "pi_",
// "sk_test_") and a body of 8 or more letters and digits that mixes
// letters with digits, or upper with lower case, or is a long number
// ("cus_NffrFeUfNV2Hib", "obj_wzkdfwvopW5w", "inv_00012345"). Snake-case
// words ("return_order", "user_Settings") have no such body.
func isPrefixedID(seg string) bool {
	p := idPrefix(seg)
	if p == 0 {
		return false
	}
	body := seg[p:]
	if len(body) < 8 {
		return false
	}
	var digits, upper, lower int
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case isDigit(c):
			digits++
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		default:
			return false
		}
	}
	return digits > 0 && upper+lower > 0 || upper >= 2 && lower >= 2 || digits == len(body)
}

// segStats are the character counts Classify works from.
type segStats struct {
	digits, letters, upper, lower int
	hex                           int // characters that are hex digits (digits included)
	seps                          int // '-' and '_'
	other                         int // characters outside [A-Za-z0-9_-] (trailing '=' padding excepted)
}

func (s *segStats) scan(seg string) {
	pad := len(seg)
	for pad > 0 && seg[pad-1] == '=' {
		pad--
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c >= '0' && c <= '9':
			s.digits++
			s.hex++
		case c >= 'a' && c <= 'z':
			s.letters++
			s.lower++
			if c <= 'f' {
				s.hex++
			}
		case c >= 'A' && c <= 'Z':
			s.letters++
			s.upper++
			if c <= 'F' {
				s.hex++
			}
		case c == '-' || c == '_':
			s.seps++
		case c == '=' && i >= pad:
		default:
			s.other++
		}
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isHex(c byte) bool    { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// isOpaque applies the letter/digit structure tests of rule 4 of Classify
// to a segment made only of [A-Za-z0-9_-].
func isOpaque(seg string, st *segStats) bool {
	alnum := st.digits + st.letters
	if alnum < 6 || st.letters == 0 {
		return false
	}
	totalTrans := 0
	for i := 0; i < len(seg); {
		if !isAlnum(seg[i]) {
			i++
			continue
		}
		j := i
		var digits, letters, upper, lower, trans int
		for ; j < len(seg) && isAlnum(seg[j]); j++ {
			c := seg[j]
			if isDigit(c) {
				digits++
			} else {
				letters++
				if c <= 'Z' {
					upper++
				} else {
					lower++
				}
			}
			if j > i && isDigit(c) != isDigit(seg[j-1]) {
				trans++
			}
		}
		run := j - i
		totalTrans += trans
		switch {
		case run >= 6 && digits >= 2 && trans >= 2:
			return true
		case run >= 10 && upper*4 >= letters && lower*4 >= letters && upper > 1:
			return true
		case run >= 16 && digits >= 1 && letters >= 1:
			return true
		}
		i = j
	}
	return totalTrans >= 3 && alnum >= 8 && st.digits >= 2
}

// isUUID reports the 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

func validYMD(y, m, d int) bool {
	return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// isDate8 reports YYYYMMDD (all digits assumed).
func isDate8(s string) bool {
	y := atoi2(s[0:2])*100 + atoi2(s[2:4])
	return validYMD(y, atoi2(s[4:6]), atoi2(s[6:8]))
}

// isDate reports YYYY-MM, YYYY-MM-DD, and YYYY-MM-DD followed by 'T', 't',
// ' ' or '_' and a time (a date-time, colons possibly percent-encoded).
func isDate(s string) bool {
	if len(s) < 7 {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6} {
		if !isDigit(s[i]) {
			return false
		}
	}
	if s[4] != '-' {
		return false
	}
	y := atoi2(s[0:2])*100 + atoi2(s[2:4])
	m := atoi2(s[5:7])
	if len(s) == 7 {
		return validYMD(y, m, 1)
	}
	if len(s) < 10 || s[7] != '-' || !isDigit(s[8]) || !isDigit(s[9]) {
		return false
	}
	if !validYMD(y, m, atoi2(s[8:10])) {
		return false
	}
	if len(s) == 10 {
		return true
	}
	switch s[10] {
	case 'T', 't', ' ', '_':
		return len(s) >= 13 && isDigit(s[11]) && isDigit(s[12])
	}
	return false
}

// isDigitsJoined reports digits joined by '-', '_', ':' or '.' (no letters),
// excluding versions (handled before) — numeric ids like "123-456".
func isDigitsJoined(s string) bool {
	prevSep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			prevSep = false
		case c == '-' || c == '_' || c == ':' || c == '.':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

// isIPv4 reports four dotted decimal parts of at most 255.
func isIPv4(s string) bool {
	parts, v, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || digits > 3 || v > 255 {
				return false
			}
			parts++
			v, digits = 0, 0
			continue
		}
		if !isDigit(s[i]) {
			return false
		}
		v = v*10 + int(s[i]-'0')
		digits++
	}
	return parts == 4
}

// isIPv6 reports hex groups joined by ':' with at least two colons (and an
// optional dotted IPv4 tail), the colons possibly percent-encoded as %3A.
func isIPv6(s string) bool {
	colons, group := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colons++
			group = 0
		case c == '%' && i+2 < len(s) && s[i+1] == '3' && (s[i+2]|0x20) == 'a':
			colons++
			group = 0
			i += 2
		case isHex(c):
			group++
			if group > 4 {
				return false
			}
		case c == '.':
			return colons >= 2 && isIPv4(s[lastColon(s)+1:])
		default:
			return false
		}
	}
	return colons >= 2 && colons <= 7
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' || (s[i]|0x20 == 'a' && i >= 2 && s[i-1] == '3' && s[i-2] == '%') {
			return i
		}
	}
	return -1
}

// isEmail reports local@domain.tld, '@' possibly percent-encoded as %40.
func isEmail(s string) bool {
	at, skip := -1, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			at, skip = i, 1
			break
		}
		if s[i] == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0' {
			at, skip = i, 3
			break
		}
	}
	if at <= 0 {
		return false
	}
	for i := 0; i < at; i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' && c != '+' && c != '%' {
			return false
		}
	}
	dom := s[at+skip:]
	dot := -1
	for i := 0; i < len(dom); i++ {
		c := dom[i]
		switch {
		case c == '.':
			if i == 0 || dom[i-1] == '.' {
				return false
			}
			dot = i
		case isAlnum(c) || c == '-':
		default:
			return false
		}
	}
	if dot < 0 || len(dom)-dot-1 < 2 {
		return false
	}
	for i := dot + 1; i < len(dom); i++ {
		if !isLetter(dom[i]) {
			return false
		}
	}
	return true
}

// isJWT reports three base64url parts joined by dots, the first starting
// with "eyJ" (the encoding of `{"`).
func isJWT(s string) bool {
	if len(s) < 20 || s[0] != 'e' || s[1] != 'y' || s[2] != 'J' {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			dots++
			continue
		}
		if !isAlnum(c) && c != '-' && c != '_' && c != '=' {
			return false
		}
	}
	return dots == 2
}

// isVersion reports API version segments: "v1", "V2", "v1.41", "v2beta1",
// "v1alpha", "v3_1", and dotted numbers of two or three short parts
// ("1.0", "2.7.1").
func isVersion(s string) bool {
	if len(s) < 2 || len(s) > 16 {
		return false
	}
	if s[0] == 'v' || s[0] == 'V' {
		i := 1
		if !isDigit(s[i]) {
			return false
		}
		for i < len(s) && (isDigit(s[i]) || ((s[i] == '.' || s[i] == '_') && i+1 < len(s) && isDigit(s[i+1]))) {
			i++
		}
		if i == len(s) {
			return true
		}
		rest := s[i:]
		for _, q := range [...]string{"alpha", "beta", "rc", "preview", "dev"} {
			if len(rest) >= len(q) && rest[:len(q)] == q {
				for j := len(q); j < len(rest); j++ {
					if !isDigit(rest[j]) {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	parts, digits := 1, 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			digits++
			if digits > 3 {
				return false
			}
		case s[i] == '.':
			if digits == 0 {
				return false
			}
			parts++
			digits = 0
		default:
			return false
		}
	}
	return digits > 0 && parts >= 2 && parts <= 3
}

// isFixedWordFold is isFixedWord, ASCII case-insensitive, without
// allocating.
func isFixedWordFold(s string) bool {
	if len(s) > 24 {
		return false
	}
	var buf [24]byte
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
			lower = true
		}
		buf[i] = c
	}
	if !lower {
		return isFixedWord(s)
	}
	return isFixedWord(string(buf[:len(s)]))
}

// isFixedWord reports the common API words that never become a parameter
// by themselves (lower case). The list holds the structure of APIs (api,
// rest, public, internal…), identity and auth words (me, self, current,
// login, logout, oauth…), actions (search, create, start, stop, export…),
// system resources (health, status, metrics, settings, config…), common
// resource collections (users, accounts, orders, products…), formats
// (json, xml, csv…) and technical tokens that look like ids but are not
// (oauth2, s3, utf8, md5, sha256, x86_64, ipv4, http2…).
func isFixedWord(s string) bool {
	switch s {
	// API structure.
	case "api", "apis", "rest", "rpc", "graphql", "gql", "public", "private", "internal", "external", "admin",
		"v", "version", "versions", "latest", "stable", "beta", "alpha", "preview", "experimental", "legacy",
		"default", "global", "local", "system", "core", "app", "apps", "web", "mobile", "service", "services",
		"resources", "objects", "entities", "items", "collections", "namespaces", "tenants", "workspaces",
		"projects", "organizations", "orgs", "teams", "groups", "members", "roles", "permissions", "policies",
		// Identity and auth.
		"me", "my", "mine", "self", "current", "whoami", "auth", "oauth", "oauth2", "oidc", "saml", "sso",
		"login", "logout", "signin", "signout", "signup", "register", "registration", "session", "sessions",
		"token", "tokens", "refresh", "revoke", "introspect", "authorize", "authorization", "callback",
		"password", "passwords", "reset", "forgot", "forget", "verify", "verification", "confirm", "otp",
		"mfa", "2fa", "totp", "jwks", "keys", "credentials", "apikeys", "profile", "account", "accounts",
		"user", "users", "customers", "customer", "clients", "identity", "identities",
		// Actions.
		"search", "query", "find", "filter", "lookup", "autocomplete", "suggest", "match", "browse", "list",
		"all", "count", "new", "create", "add", "edit", "update", "upsert", "delete", "remove", "destroy",
		"batch", "bulk", "import", "export", "upload", "uploads", "download", "downloads", "sync", "validate",
		"check", "test", "publish", "unpublish", "archive", "restore", "approve", "reject",
		"cancel", "start", "stop", "restart", "pause", "unpause", "resume", "retry", "run", "execute", "exec",
		"wait", "attach", "detach", "resize", "kill", "prune", "inspect", "logs", "top", "changes", "rename",
		"copy", "move", "share", "subscribe", "unsubscribe", "follow", "unfollow", "like", "unlike", "send",
		"submit", "enable", "disable", "activate", "deactivate", "lock", "unlock", "assign", "unassign",
		"generate", "convert", "calculate", "estimate", "render", "process", "trigger", "invoke", "call",
		"next", "previous", "prev", "first", "last", "recent", "popular", "trending", "featured", "random",
		"upcoming", "history", "summary", "details", "detail", "overview", "info", "meta", "metadata",
		// System resources.
		"health", "healthz", "healthcheck", "livez", "readyz", "ready", "alive", "live", "ping", "status",
		"metrics", "stats", "statistics", "analytics", "usage", "quota", "quotas", "limits", "settings",
		"setting", "config", "configs", "configuration", "preferences", "options", "features", "flags",
		"events", "notifications", "webhooks", "hooks", "subscriptions", "feed", "feeds", "stream", "streams",
		"jobs", "tasks", "queue", "queues", "schedules", "reports", "dashboard", "dashboards", "audit",
		"docs", "doc", "swagger", "openapi", "schema", "schemas", "spec", "specs", "static", "assets",
		"files", "images", "media", "avatar", "avatars", "thumbnails", "attachments", "documents",
		"favicon.ico", "robots.txt", "index.html", "sitemap.xml",
		// Common resource collections.
		"orders", "order", "products", "product", "carts", "cart", "checkout", "payments", "payment",
		"invoices", "invoice", "plans", "prices", "coupons", "transactions", "refunds",
		"messages", "comments", "posts", "articles", "pages", "categories", "tags", "labels", "addresses",
		"contacts", "companies", "devices", "locations", "vehicles", "videos", "photos", "pictures",
		"containers", "networks", "volumes", "nodes", "clusters", "pods", "deployments", "secrets",
		"buckets", "indexes", "indices", "repos", "repositories", "branches", "commits", "issues", "pulls",
		// Formats.
		"json", "xml", "csv", "yaml", "yml", "html", "txt", "pdf", "zip", "rss", "atom", "ndjson", "raw",
		// Technical tokens with digits that stay literal.
		"oauth1", "s3", "ec2", "utf8", "utf16", "utf32", "md5", "sha1", "sha224", "sha256", "sha384",
		"sha512", "base32", "base64", "x86", "x86_64", "x64", "amd64", "arm64", "aarch64", "i386", "i686",
		"armv7", "win32", "win64", "ipv4", "ipv6", "http2", "http3", "h2", "h2c", "h3", "mp3", "mp4", "h264",
		"h265", "k8s", "i18n", "l10n", "a11y", "e2e", "p2p", "b2b", "b2c", "x509", "pkcs12", "rfc3339",
		"iso8601", "3d", "2d", "4k", "1080p", "720p", "gpt4", "oauth2.0", "ws", "wss", "sse", "grpc", "tcp",
		"udp", "ip", "dns", "ssl", "tls", "ssh", "ftp", "smtp":
		return true
	}
	return false
}
