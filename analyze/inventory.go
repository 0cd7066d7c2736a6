package analyze

import (
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Inventory is a snapshot of everything the Analyzer learned: the endpoints
// seen, busiest first. It is a plain value that owns its memory (schemas
// included) and is not changed by later observations, so it may be handed
// to exporters on another goroutine.
type Inventory struct {
	// First and Last are the packet times of the first and last
	// transaction observed.
	First, Last time.Time
	// Transactions counts every transaction observed, Unattributed those
	// without a request (no method or path), which belong to no endpoint.
	Transactions, Unattributed int64
	// Endpoints is sorted by Calls, descending, then Host, Template and
	// Method ascending: the same observations give the same order.
	Endpoints []Endpoint
	// Merged counts endpoints folded into a host's tail endpoint because the
	// host reached its endpoint cap.
	Merged int64
}

// Endpoint is one operation: a host, a method and a path template.
type Endpoint struct {
	Host     string // Host header as sent, lower-cased, port kept ("api.example.com:8080")
	Method   string // upper-case method
	Template string // "/users/{userId}/orders"; parameter names in braces
	// Origin says where the template came from: "learned", "pinned"
	// (configuration) or "spec" (the --spec document).
	Origin string

	Calls       int64
	Clients     uint64 // distinct client IP addresses (an estimate from a mergeable sketch)
	First, Last time.Time

	Status []StatusCount // ascending by Code; Code 0 counts requests without a response

	// Latency quantiles of request start to response end, from a mergeable
	// sketch; zero when no call had a response.
	LatencyP50, LatencyP95, LatencyP99 time.Duration

	RequestBytes, ResponseBytes Sizes // body sizes on the wire (RequestBodyLen, ResponseBodyLen)

	Auth      []AuthSeen       // sorted by Scheme then Name
	Sensitive []SensitiveField // sorted by In, then Pointer

	// Params are the path, query and header parameters seen (standard
	// headers excluded), sorted by In ("path" first, in template order;
	// then "query", "header") then Name.
	Params []Param
	// RequestBodies, one per content type (media type without parameters),
	// sorted by ContentType.
	RequestBodies []Body
	// Responses, sorted by Status then ContentType. A response without a
	// body has an empty ContentType and a nil Schema.
	Responses []Response

	// Samples is the number of transactions whose bodies and parameters
	// were parsed for the schemas (schema learning is sampled once an
	// endpoint's schemas are stable); Calls counts all.
	Samples int64
}

// StatusCount is how many responses had a status code.
type StatusCount struct {
	Code  int
	Count int64
}

// Sizes summarises body sizes in bytes.
type Sizes struct {
	Min, Max, Total int64
}

// AuthSeen is an authentication scheme seen on an endpoint's requests.
type AuthSeen struct {
	// Scheme is one of "none", "basic", "bearer", "bearer-jwt",
	// "apikey-header", "apikey-query", "apikey-cookie", "session-cookie".
	Scheme string
	// Name is the header, query parameter or cookie name carrying the
	// credential (empty for none, basic and bearer).
	Name  string
	Count int64
}

// SensitiveField is a field seen holding sensitive data. Values are never
// stored, only their classes.
type SensitiveField struct {
	In      string   // "request", "response", "query", "header", "path", "cookie"
	Pointer string   // JSON pointer into the body ("/user/email"); parameter name otherwise
	Classes []string // sorted: "email", "phone", "card", "national-id", "iban", "jwt", "api-key", "cloud-credential", "password"
	Count   int64
}

// Param is a path, query or header parameter.
type Param struct {
	Name     string
	In       string // "path", "query" or "header"
	Required bool   // present in every sampled call (always true for path parameters)
	Schema   *openapi3.Schema
}

// Body is a request body schema for one content type.
type Body struct {
	ContentType string
	Required    bool // every sampled call had a body
	Schema      *openapi3.Schema
}

// Response is a response body schema for one status code and content type.
type Response struct {
	Status      int
	ContentType string
	Schema      *openapi3.Schema // nil when no body was seen
	Count       int64
}
