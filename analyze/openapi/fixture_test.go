package openapi

import (
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apitap/apitap/analyze"
)

// t0 is the packet time the fixtures start at.
var t0 = time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)

func str() *openapi3.Schema { return openapi3.NewStringSchema() }
func integer() *openapi3.Schema {
	return openapi3.NewIntegerSchema().WithFormat("int64")
}

func object(required []string, props ...any) *openapi3.Schema {
	s := openapi3.NewObjectSchema()
	for i := 0; i+1 < len(props); i += 2 {
		s.WithProperty(props[i].(string), props[i+1].(*openapi3.Schema))
	}
	s.Required = required
	return s
}

func withExample(s *openapi3.Schema, v any) *openapi3.Schema {
	s.Example = v
	return s
}

func nullable(s *openapi3.Schema) *openapi3.Schema {
	s.Nullable = true
	return s
}

func userSchema() *openapi3.Schema {
	return object([]string{"email", "id", "role"},
		"id", withExample(integer(), 42),
		"email", withExample(str().WithFormat("email"), "user@example.com"),
		"name", nullable(withExample(str(), "Ada")),
		"role", str().WithEnum("admin", "member"),
		"tags", openapi3.NewArraySchema().WithItems(str()),
		"created", str().WithFormat("date-time"),
		"address", object([]string{"city"}, "city", str(), "zip", nullable(str())),
		"payment", object(nil, "card", withExample(str(), "4111 **** **** ****")),
		"score", &openapi3.Schema{OneOf: openapi3.SchemaRefs{
			openapi3.NewSchemaRef("", integer()), openapi3.NewSchemaRef("", str())}, Nullable: true},
		"labels", &openapi3.Schema{Type: &openapi3.Types{"object"},
			AdditionalProperties: openapi3.AdditionalProperties{Schema: openapi3.NewSchemaRef("", str())}},
	)
}

func errorSchema() *openapi3.Schema {
	return object([]string{"error"}, "error", str(), "code", integer())
}

// fixtureInventory covers what Build must describe: several hosts, a path
// served by only some hosts, the same operation on two hosts under
// different parameter names, path, query and header parameters, JSON and
// form bodies, responses with and without bodies, many statuses, every
// authentication scheme, sensitive fields, an endpoint never answered and
// one whose method OpenAPI cannot describe.
func fixtureInventory() *analyze.Inventory {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	return &analyze.Inventory{
		First: t0, Last: at(60), Transactions: 1000, Unattributed: 3, Merged: 2,
		Endpoints: []analyze.Endpoint{
			{
				Host: "api.example.com", Method: "GET", Template: "/users/{userId}", Origin: "learned",
				Calls: 120, Clients: 7, First: at(1), Last: at(59),
				Status:     []analyze.StatusCount{{Code: 200, Count: 100}, {Code: 304, Count: 5}, {Code: 404, Count: 15}},
				LatencyP50: 12300 * time.Microsecond, LatencyP95: 48 * time.Millisecond, LatencyP99: 101*time.Millisecond + 500*time.Microsecond,
				RequestBytes: analyze.Sizes{}, ResponseBytes: analyze.Sizes{Min: 10, Max: 900, Total: 60000},
				Auth: []analyze.AuthSeen{{Scheme: "bearer-jwt", Count: 100}, {Scheme: "none", Count: 20}},
				Sensitive: []analyze.SensitiveField{
					{In: "header", Pointer: "X-Forwarded-Email", Classes: []string{"email"}, Count: 3},
					{In: "response", Pointer: "/email", Classes: []string{"email"}, Count: 100},
					{In: "response", Pointer: "/payment/card", Classes: []string{"card"}, Count: 4},
				},
				Params: []analyze.Param{
					{Name: "userId", In: "path", Required: true, Schema: integer()},
					{Name: "fields", In: "query", Schema: str()},
					{Name: "X-Forwarded-Email", In: "header", Schema: str()},
					{Name: "X-Request-Id", In: "header", Required: true, Schema: str().WithFormat("uuid")},
				},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/json", Schema: userSchema(), Count: 100},
					{Status: 304, Count: 5},
					{Status: 404, ContentType: "application/json", Schema: errorSchema(), Count: 15},
				},
				Samples: 60,
			},
			{
				Host: "api.example.com", Method: "POST", Template: "/users", Origin: "learned",
				Calls: 40, Clients: 3, First: at(2), Last: at(50),
				Status:     []analyze.StatusCount{{Code: 201, Count: 30}, {Code: 400, Count: 6}, {Code: 422, Count: 4}},
				LatencyP50: 20 * time.Millisecond, LatencyP95: 30 * time.Millisecond, LatencyP99: 35 * time.Millisecond,
				Auth: []analyze.AuthSeen{{Scheme: "basic", Count: 40}},
				Sensitive: []analyze.SensitiveField{
					{In: "request", Pointer: "/email", Classes: []string{"email"}, Count: 40},
					{In: "request", Pointer: "/password", Classes: []string{"password"}, Count: 40},
				},
				RequestBodies: []analyze.Body{
					{ContentType: "application/json", Required: true, Schema: object([]string{"email", "password"},
						"email", str().WithFormat("email"), "password", str(), "name", str())},
					{ContentType: "application/x-www-form-urlencoded", Schema: object([]string{"email"},
						"email", str(), "password", str(), "newsletter", openapi3.NewBoolSchema())},
				},
				Responses: []analyze.Response{
					{Status: 201, ContentType: "application/json", Schema: userSchema(), Count: 30},
					{Status: 400, ContentType: "application/json", Schema: errorSchema(), Count: 6},
					{Status: 422, ContentType: "application/problem+json", Schema: object(nil, "title", str(), "status", integer()), Count: 4},
				},
				Samples: 40,
			},
			{
				Host: "api.example.com", Method: "GET", Template: "/users/me", Origin: "learned",
				Calls: 30, Clients: 2, First: at(3), Last: at(40),
				Status: []analyze.StatusCount{{Code: 200, Count: 28}, {Code: 401, Count: 2}},
				Auth:   []analyze.AuthSeen{{Scheme: "apikey-header", Name: "X-API-Key", Count: 30}},
				Params: []analyze.Param{{Name: "X-Api-Key", In: "header", Required: true, Schema: str()}},
				Sensitive: []analyze.SensitiveField{
					{In: "header", Pointer: "X-API-Key", Classes: []string{"api-key"}, Count: 30},
				},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/json", Schema: userSchema(), Count: 28},
					{Status: 401, ContentType: "application/json", Schema: errorSchema(), Count: 2},
				},
				Samples: 30,
			},
			{
				Host: "admin.example.com:8443", Method: "GET", Template: "/users/{id}", Origin: "pinned",
				Calls: 15, Clients: 1, First: at(5), Last: at(55),
				Status:     []analyze.StatusCount{{Code: 200, Count: 14}, {Code: 500, Count: 1}},
				LatencyP50: 5 * time.Millisecond, LatencyP95: 60 * time.Millisecond, LatencyP99: 90 * time.Millisecond,
				Auth:   []analyze.AuthSeen{{Scheme: "session-cookie", Name: "JSESSIONID", Count: 15}},
				Params: []analyze.Param{{Name: "id", In: "path", Required: true, Schema: integer()}, {Name: "fields", In: "query", Schema: str()}, {Name: "verbose", In: "query", Required: true, Schema: openapi3.NewBoolSchema()}},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/json", Schema: object([]string{"id"}, "id", integer(), "lastLogin", str().WithFormat("date-time")), Count: 14},
					{Status: 500, ContentType: "text/html", Count: 1},
				},
				Samples: 15,
			},
			{
				Host: "admin.example.com:8443", Method: "DELETE", Template: "/admin/sessions/{sessionId}", Origin: "learned",
				Calls: 9, Clients: 1, First: at(6), Last: at(30),
				Status: []analyze.StatusCount{{Code: 204, Count: 8}, {Code: 401, Count: 1}},
				Auth:   []analyze.AuthSeen{{Scheme: "apikey-cookie", Name: "token", Count: 9}},
				Params: []analyze.Param{{Name: "sessionId", In: "path", Required: true, Schema: str().WithFormat("uuid")}},
				Responses: []analyze.Response{
					{Status: 204, Count: 8},
					{Status: 401, Count: 1},
				},
				Samples: 9,
			},
			{
				Host: "files.example.com:443", Method: "GET", Template: "/files/{fileId}/download", Origin: "learned",
				Calls: 12, Clients: 4, First: at(7), Last: at(45),
				Status: []analyze.StatusCount{{Code: 200, Count: 11}, {Code: 503, Count: 1}},
				Auth:   []analyze.AuthSeen{{Scheme: "apikey-query", Name: "api_key", Count: 12}},
				Params: []analyze.Param{
					{Name: "fileId", In: "path", Required: true, Schema: str()},
					{Name: "api_key", In: "query", Required: true, Schema: str()},
					{Name: "inline", In: "query", Schema: openapi3.NewBoolSchema()},
				},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/octet-stream", Count: 11},
					{Status: 503, ContentType: "text/plain", Count: 1},
				},
				Samples: 12,
			},
			{
				Host: "api.example.com", Method: "GET", Template: "/health", Origin: "learned",
				Calls: 50, Clients: 1, First: at(0), Last: at(60),
				Status: []analyze.StatusCount{{Code: 200, Count: 50}},
				Auth:   []analyze.AuthSeen{{Scheme: "none", Count: 50}},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "text/plain", Schema: withExample(str(), "ok"), Count: 50},
				},
				Samples: 50,
			},
			{
				Host: "api.example.com", Method: "PROPFIND", Template: "/dav", Origin: "learned",
				Calls: 2, Clients: 1, First: at(8), Last: at(9),
				Status: []analyze.StatusCount{{Code: 207, Count: 2}},
				Auth:   []analyze.AuthSeen{{Scheme: "none", Count: 2}},
			},
			{
				Host: "api.example.com", Method: "GET", Template: "/search", Origin: "learned",
				Calls: 25, Clients: 5, First: at(9), Last: at(58),
				Status: []analyze.StatusCount{{Code: 200, Count: 25}},
				Auth:   []analyze.AuthSeen{{Scheme: "bearer", Count: 25}},
				Params: []analyze.Param{
					{Name: "q", In: "query", Required: true, Schema: str()},
					{Name: "limit", In: "query", Schema: openapi3.NewIntegerSchema().WithFormat("int32")},
					{Name: "sort", In: "query", Schema: str().WithEnum("asc", "desc")},
				},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/json", Schema: object([]string{"items", "total"},
						"items", openapi3.NewArraySchema().WithItems(object([]string{"id"}, "id", integer(), "price", openapi3.NewFloat64Schema())),
						"total", integer()), Count: 25},
				},
				Samples: 25,
			},
			{
				Host: "api.example.com", Method: "PUT", Template: "/orders/{orderId}/items/{itemId}", Origin: "spec",
				Calls: 8, Clients: 2, First: at(10), Last: at(20),
				Status: []analyze.StatusCount{{Code: 200, Count: 6}, {Code: 409, Count: 1}, {Code: 500, Count: 1}},
				Auth:   []analyze.AuthSeen{{Scheme: "bearer-jwt", Count: 8}},
				Params: []analyze.Param{
					{Name: "orderId", In: "path", Required: true, Schema: str()},
					{Name: "itemId", In: "path", Required: true, Schema: integer()},
				},
				RequestBodies: []analyze.Body{{ContentType: "application/json", Required: true, Schema: object([]string{"quantity"},
					"quantity", openapi3.NewIntegerSchema().WithFormat("int32"), "note", nullable(str()))}},
				Responses: []analyze.Response{
					{Status: 200, ContentType: "application/json", Schema: object([]string{"quantity"}, "quantity", integer()), Count: 6},
					{Status: 409},
					{Status: 500, ContentType: "application/json", Schema: errorSchema(), Count: 1},
				},
				Samples: 8,
			},
			{
				Host: "api.example.com", Method: "POST", Template: "/events", Origin: "learned",
				Calls: 10, Clients: 1, First: at(11), Last: at(12),
				Status:        []analyze.StatusCount{{Code: 0, Count: 10}},
				Auth:          []analyze.AuthSeen{{Scheme: "none", Count: 10}},
				RequestBodies: []analyze.Body{{ContentType: "application/json", Required: true, Schema: object(nil, "type", str())}},
				Samples:       10,
			},
		},
	}
}
