package analyze

import (
	"net/url"
	"strings"

	"github.com/apitap/apitap/analyze/sensitive"
	"github.com/apitap/apitap/reassembly"
)

// maxMediaType bounds a media type kept as a map key (hostile senders can
// put anything in Content-Type).
const maxMediaType = 100

// mediaType returns the lower-case media type of a message's Content-Type
// without parameters ("application/json"), "" when there is none. It
// allocates only when the header is not already lower case.
func mediaType(hs []reassembly.Header) string {
	v, ok := reassembly.Get(hs, "Content-Type")
	if !ok {
		return ""
	}
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	if len(v) > maxMediaType {
		v = v[:maxMediaType]
	}
	return strings.ToLower(v)
}

// isJSON: application/json, text/json and the structured +json types
// (application/problem+json, application/vnd.api+json).
func isJSON(ct string) bool {
	return ct == "application/json" || ct == "text/json" || strings.HasSuffix(ct, "+json")
}

func isForm(ct string) bool { return ct == "application/x-www-form-urlencoded" }

// maxQueryParams bounds the pairs read from one query string.
const maxQueryParams = 64

// forEachQuery calls f with each name and value of a raw query string,
// percent-decoded (decoding allocates only for escaped pairs). Pairs
// without a name are skipped; malformed escapes are passed on as sent.
func forEachQuery(raw string, f func(name, value string)) {
	for n := 0; raw != "" && n < maxQueryParams; n++ {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		name, value, _ := strings.Cut(pair, "=")
		name, value = unescape(name), unescape(value)
		if name == "" {
			continue
		}
		f(name, value)
	}
}

func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// isParamHeader says whether a request header is an API parameter: not a
// standard or infrastructure header and not one carrying a credential
// (those are security schemes).
func isParamHeader(name string, creds []sensitive.Credential) bool {
	if len(name) == 0 || len(name) > 64 || IsStandardHeader(name) {
		return false
	}
	for _, c := range creds {
		if c.Name != "" && strings.EqualFold(c.Name, name) {
			return false
		}
	}
	return true
}

// IsStandardHeader reports whether name (any case) is a request header of
// HTTP itself (RFC 9110, 9111, 6265, 7239 ...), of browsers (Sec-*, DNT,
// Upgrade-Insecure-Requests) or of proxies and tracing (X-Forwarded-*,
// X-Real-IP, X-Request-Id, traceparent, B3, ...). Such headers describe
// the transport, not the API: the analyzer never learns them as
// parameters.
func IsStandardHeader(name string) bool {
	var buf [64]byte
	n := copy(buf[:], name)
	for i := range n {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	l := string(buf[:n]) // no allocation: used only for comparisons
	for _, p := range standardHeaderPrefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	_, ok := standardHeaders[l]
	return ok
}

var standardHeaderPrefixes = [...]string{
	"accept", "content-", "if-", "sec-", "x-forwarded-", "proxy-", "access-control-", "x-b3-", "x-amzn-", "x-envoy-", "cf-",
}

var standardHeaders = map[string]struct{}{
	"authorization": {}, "cache-control": {}, "connection": {}, "cookie": {}, "date": {}, "dnt": {},
	"expect": {}, "forwarded": {}, "from": {}, "host": {}, "keep-alive": {}, "max-forwards": {}, "origin": {},
	"pragma": {}, "priority": {}, "range": {}, "referer": {}, "te": {}, "trailer": {}, "transfer-encoding": {},
	"upgrade": {}, "upgrade-insecure-requests": {}, "user-agent": {}, "via": {}, "warning": {},
	"x-real-ip": {}, "x-request-id": {}, "x-correlation-id": {}, "traceparent": {}, "tracestate": {}, "b3": {},
	"x-requested-with": {}, "x-http-method-override": {}, "early-data": {}, "http2-settings": {},
	"purpose": {}, "x-purpose": {}, "x-moz": {}, "save-data": {}, "device-memory": {}, "dpr": {}, "viewport-width": {},
	"width": {}, "rtt": {}, "downlink": {}, "ect": {}, "baggage": {}, "x-cloud-trace-context": {}, "x-datadog-trace-id": {},
	"x-datadog-parent-id": {}, "x-datadog-sampling-priority": {}, "x-datadog-origin": {}, "newrelic": {},
	"proxy-connection": {}, "x-att-deviceid": {}, "x-wap-profile": {}, "x-uidh": {}, "x-csrf-token": {},
	"x-xsrf-token": {}, "x-csrftoken": {},
}
