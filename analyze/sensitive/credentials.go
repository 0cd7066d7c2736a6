package sensitive

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/apitap/apitap/reassembly"
)

// Scheme is an authentication scheme seen on a request.
type Scheme uint8

// The authentication schemes. None is the zero value.
const (
	// None: the request carried no credential.
	None Scheme = iota
	// Basic: "Authorization: Basic <base64 user:password>".
	Basic
	// Bearer: "Authorization: Bearer <opaque token>".
	Bearer
	// BearerJWT: "Authorization: Bearer <JWT>".
	BearerJWT
	// APIKeyHeader: an API key in a header (X-API-Key, Api-Key, …), or an
	// Authorization header with a scheme other than Basic and Bearer
	// ("Token …", "ApiKey …", "Digest …", AWS SigV4, a bare key).
	APIKeyHeader
	// APIKeyQuery: an API key or access token in a query parameter.
	APIKeyQuery
	// APIKeyCookie: an API key, access token or JWT in a cookie.
	APIKeyCookie
	// SessionCookie: a server-side session id in a cookie.
	SessionCookie
)

// String returns the scheme's name: "none", "basic", "bearer",
// "bearer-jwt", "apikey-header", "apikey-query", "apikey-cookie" or
// "session-cookie" ("scheme(N)" for an unknown value).
func (s Scheme) String() string {
	switch s {
	case None:
		return "none"
	case Basic:
		return "basic"
	case Bearer:
		return "bearer"
	case BearerJWT:
		return "bearer-jwt"
	case APIKeyHeader:
		return "apikey-header"
	case APIKeyQuery:
		return "apikey-query"
	case APIKeyCookie:
		return "apikey-cookie"
	case SessionCookie:
		return "session-cookie"
	}
	return "scheme(" + strconv.Itoa(int(s)) + ")"
}

// ParseScheme returns the scheme named name (as String returns it), or
// false when the name is unknown.
func ParseScheme(name string) (Scheme, bool) {
	for s := None; s <= SessionCookie; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return None, false
}

// Credential is an authentication scheme seen on a request.
type Credential struct {
	Scheme Scheme
	// Name is the header, query parameter or cookie name carrying the
	// credential; "" for None, Basic, Bearer and BearerJWT.
	Name string
}

// maxNameLen bounds the credential names Credentials reports; a longer
// name is cut (headers with longer names are ignored).
const maxNameLen = 64

// Credentials appends the credentials a request carries to dst and returns
// the extended slice. It reads the request headers (Authorization, Cookie,
// API-key headers) and the raw query (without '?'); when it finds no
// credential it appends one Credential with Scheme None. A credential seen
// twice (the same scheme and name) is appended once; multiple different
// credentials are all appended, in the order found (headers, then query).
//
// Names never alias the request: well-known names are package constants
// (header names compare case-insensitively and are reported in their
// canonical spelling, "X-API-Key"; cookie and query names match exactly),
// other names are copied, cut to 64 bytes. With a dst of enough capacity
// and only well-known names, Credentials does not allocate.
//
// What counts:
//   - Authorization: Basic, Bearer (BearerJWT when the token is a JWT, see
//     IsJWT); any other scheme or a bare value is APIKeyHeader
//     "Authorization";
//   - API-key headers: X-API-Key, Api-Key, apikey, X-Auth-Token,
//     X-Access-Token, Private-Token, Ocp-Apim-Subscription-Key, … and
//     names containing api-key/apikey/api_key or ending in -token, _token,
//     -secret, -access-key, -auth-key or -subscription-key (not CSRF or
//     pagination tokens);
//   - cookies: session ids (JSESSIONID, PHPSESSID, ASP.NET_SessionId,
//     connect.sid, session, sid, *_session, … see Field) are
//     SessionCookie; token, api-key and JWT cookies are APIKeyCookie;
//   - query: api_key, apikey, api-key, apiKey, access_token, token,
//     auth_token, key (with an opaque value), … and any parameter whose
//     value is a JWT or a provider key.
//
// Empty values are ignored.
func Credentials(dst []Credential, headers []reassembly.Header, rawQuery string) []Credential {
	start := len(dst)
	for i := range headers {
		h := &headers[i]
		v := trimSpace(h.Value)
		if v == "" || len(h.Name) > maxNameLen {
			continue
		}
		switch {
		case len(h.Name) == len("Authorization") && strings.EqualFold(h.Name, "Authorization"):
			dst = authorization(dst, start, v)
		case len(h.Name) == len("Cookie") && strings.EqualFold(h.Name, "Cookie"):
			dst = cookieCredentials(dst, start, v)
		default:
			if canon, ok := apiKeyHeader(h.Name); ok {
				dst = addCredential(dst, start, APIKeyHeader, h.Name, canon)
			}
		}
	}
	dst = queryCredentials(dst, start, rawQuery)
	if len(dst) == start {
		dst = append(dst, Credential{Scheme: None})
	}
	return dst
}

// addCredential appends {scheme, name} unless dst[start:] has it. canon is
// the constant to report for name; "" means name must be copied.
func addCredential(dst []Credential, start int, scheme Scheme, name, canon string) []Credential {
	report := canon
	if report == "" {
		report = cut(name, maxNameLen)
	}
	for i := start; i < len(dst); i++ {
		if dst[i].Scheme == scheme && dst[i].Name == report {
			return dst
		}
	}
	if canon == "" && report != "" {
		report = strings.Clone(report)
	}
	return append(dst, Credential{Scheme: scheme, Name: report})
}

const authorizationHeader = "Authorization"

func authorization(dst []Credential, start int, v string) []Credential {
	scheme, cred, _ := strings.Cut(v, " ")
	cred = trimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Basic") && cred != "":
		return addCredential(dst, start, Basic, "", "")
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		if IsJWT(cred) {
			return addCredential(dst, start, BearerJWT, "", "")
		}
		return addCredential(dst, start, Bearer, "", "")
	}
	return addCredential(dst, start, APIKeyHeader, authorizationHeader, authorizationHeader)
}

// apiKeyHeader reports whether a header name carries an API key, with its
// canonical spelling when the name is well known ("" otherwise).
func apiKeyHeader(name string) (canon string, ok bool) {
	var b [maxNameLen]byte
	n := copy(b[:], name)
	for i := 0; i < n; i++ {
		if isUpper(b[i]) {
			b[i] += 'a' - 'A'
		}
	}
	l := b[:n]
	switch string(l) {
	// Most headers are standard ones.
	case "host", "user-agent", "accept", "accept-encoding", "accept-language", "accept-charset",
		"content-type", "content-length", "content-encoding", "content-md5", "connection", "keep-alive",
		"cache-control", "pragma", "referer", "origin", "if-none-match", "if-modified-since", "if-match",
		"if-unmodified-since", "range", "te", "upgrade", "via", "expect", "date", "forwarded",
		"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip",
		"x-request-id", "x-correlation-id", "x-requested-with", "x-amzn-trace-id", "traceparent", "tracestate",
		"sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile",
		"sec-ch-ua-platform", "dnt", "upgrade-insecure-requests", "priority", "sec-websocket-key",
		"sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "transfer-encoding":
		return "", false
	case "x-api-key":
		return "X-API-Key", true
	case "api-key":
		return "Api-Key", true
	case "apikey":
		return "apikey", true
	case "x-apikey":
		return "X-ApiKey", true
	case "x-api-token":
		return "X-Api-Token", true
	case "x-api-secret":
		return "X-Api-Secret", true
	case "x-auth-token":
		return "X-Auth-Token", true
	case "x-auth-key":
		return "X-Auth-Key", true
	case "x-access-token":
		return "X-Access-Token", true
	case "x-access-key":
		return "X-Access-Key", true
	case "x-token":
		return "X-Token", true
	case "token":
		return "Token", true
	case "x-authorization":
		return "X-Authorization", true
	case "x-session-token":
		return "X-Session-Token", true
	case "x-rapidapi-key":
		return "X-RapidAPI-Key", true
	case "x-goog-api-key":
		return "X-Goog-Api-Key", true
	case "x-functions-key":
		return "X-Functions-Key", true
	case "ocp-apim-subscription-key":
		return "Ocp-Apim-Subscription-Key", true
	case "private-token":
		return "Private-Token", true
	case "x-shopify-access-token":
		return "X-Shopify-Access-Token", true
	case "x-vault-token":
		return "X-Vault-Token", true
	case "x-consul-token":
		return "X-Consul-Token", true
	case "x-amz-security-token":
		return "X-Amz-Security-Token", true
	case "x-csrf-token", "x-xsrf-token", "csrf-token", "xsrf-token", "x-csrftoken":
		return "", false
	}
	if bytes.Contains(l, []byte("csrf")) || bytes.Contains(l, []byte("xsrf")) || bytes.Contains(l, []byte("page-token")) ||
		bytes.Contains(l, []byte("next-token")) || bytes.Contains(l, []byte("continuation-token")) ||
		bytes.Contains(l, []byte("idempotency")) {
		return "", false
	}
	if bytes.Contains(l, []byte("api-key")) || bytes.Contains(l, []byte("apikey")) || bytes.Contains(l, []byte("api_key")) ||
		bytes.HasSuffix(l, []byte("-token")) || bytes.HasSuffix(l, []byte("_token")) || bytes.HasSuffix(l, []byte("-secret")) ||
		bytes.HasSuffix(l, []byte("-access-key")) || bytes.HasSuffix(l, []byte("-auth-key")) ||
		bytes.HasSuffix(l, []byte("-subscription-key")) {
		return "", true
	}
	return "", false
}

// cookieCredentials adds the session and API-key cookies of a Cookie
// header value.
func cookieCredentials(dst []Credential, start int, v string) []Credential {
	for v != "" {
		var pair string
		pair, v, _ = strings.Cut(v, ";")
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		name, val = trimSpace(name), trimSpace(strings.Trim(trimSpace(val), `"`))
		if name == "" || val == "" {
			continue
		}
		switch {
		case sessionCookieName(name):
			dst = addCredential(dst, start, SessionCookie, name, sessionCookieConst(name))
		case apiKeyParamName(name), IsJWT(val):
			dst = addCredential(dst, start, APIKeyCookie, name, apiKeyParamConst(name))
		}
	}
	return dst
}

// sessionCookieConst returns the constant for a well-known session cookie
// name, "" for others.
func sessionCookieConst(name string) string {
	switch name {
	case "JSESSIONID":
		return "JSESSIONID"
	case "PHPSESSID":
		return "PHPSESSID"
	case "ASP.NET_SessionId":
		return "ASP.NET_SessionId"
	case "connect.sid":
		return "connect.sid"
	case "session":
		return "session"
	case "SESSION":
		return "SESSION"
	case "sessionid":
		return "sessionid"
	case "session_id":
		return "session_id"
	case "sid":
		return "sid"
	case "_session_id":
		return "_session_id"
	case "laravel_session":
		return "laravel_session"
	case "ci_session":
		return "ci_session"
	case "rack.session":
		return "rack.session"
	case "express.sid":
		return "express.sid"
	}
	return ""
}

// apiKeyParamConst returns the constant for a well-known API-key query
// parameter or cookie name, "" for others.
func apiKeyParamConst(name string) string {
	switch name {
	case "api_key":
		return "api_key"
	case "apikey":
		return "apikey"
	case "api-key":
		return "api-key"
	case "apiKey":
		return "apiKey"
	case "access_token":
		return "access_token"
	case "accessToken":
		return "accessToken"
	case "auth_token":
		return "auth_token"
	case "authToken":
		return "authToken"
	case "token":
		return "token"
	case "key":
		return "key"
	case "auth":
		return "auth"
	case "jwt":
		return "jwt"
	case "id_token":
		return "id_token"
	case "private_token":
		return "private_token"
	case "subscription-key":
		return "subscription-key"
	case "x-api-key":
		return "x-api-key"
	}
	return ""
}

// apiKeyParamName reports query parameter and cookie names that carry an
// API key or access token (see apiKeyName; "key" and "auth" too).
func apiKeyParamName(name string) bool {
	var k key
	normKey(&k, name)
	if k.off == len(k.buf) {
		return false
	}
	return k.is("auth") || (kindOf(&k) == nameAPIKey && !sessionKey(&k))
}

// queryCredentials adds the API keys of a raw query.
func queryCredentials(dst []Credential, start int, q string) []Credential {
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		name, val, ok := strings.Cut(pair, "=")
		if !ok || name == "" || val == "" {
			continue
		}
		cred := false
		switch {
		case strings.EqualFold(name, "key"):
			// ?key= is also an ordinary word; only an opaque value counts.
			cred = opaque(val) || Value(val)&(APIKey|CloudCredential) != 0
		case name == "client_secret" || name == "secret":
			cred = true
		case apiKeyParamName(name):
			cred = true
		default:
			cred = Value(val)&(JWT|APIKey|CloudCredential) != 0
		}
		if cred {
			dst = addCredential(dst, start, APIKeyQuery, name, apiKeyParamConst(name))
		}
	}
	return dst
}
