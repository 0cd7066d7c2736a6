package openapi

import (
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/apitap/apitap/analyze"
)

// FuzzBuild feeds Build the strings an inventory takes from traffic (Host
// header, method, path, parameter and cookie names, media types, status
// codes, example values): whatever they hold, Build describes or leaves
// out the endpoint but never fails, and Marshal's output parses again.
func FuzzBuild(f *testing.F) {
	f.Add("api.example.com", "GET", "/users/{userId}", "limit", "X-Trace", "application/json", 200, "JSESSIONID", "ada@example.com")
	f.Add("", "PROPFIND", "*", "", "", "", 0, "", "")
	f.Add("h{o}st:443", "POST", "/a/{id}/b/{id}", "a b", "Accept", "text/html; charset=utf-8", 999, "c=d", "\xff\x00")
	f.Add("[::1]:8080", "DELETE", "/x/{}/y", "q[]", "x-api-key", "Application/JSON", 204, "", "on")
	f.Add("h", "GET", "/ok", "", "", "", 200, "", "")
	f.Add("h", "PUT", "/ok/{a}", "a\x00b", "Bad Header", "*/*", 302, "a;b", "1:20")
	f.Fuzz(func(t *testing.T, host, method, template, query, header, contentType string, status int, cookie, example string) {
		ep := analyze.Endpoint{
			Host: host, Method: method, Template: template, Calls: 1,
			Status: []analyze.StatusCount{{Code: status, Count: 1}},
			Auth:   []analyze.AuthSeen{{Scheme: "apikey-cookie", Name: cookie, Count: 1}, {Scheme: "apikey-header", Name: header, Count: 1}},
			Params: []analyze.Param{
				{Name: query, In: "query", Schema: withExample(str(), example)},
				{Name: header, In: "header", Schema: str()},
			},
			Sensitive:     []analyze.SensitiveField{{In: "response", Pointer: "/" + query, Classes: []string{"email"}, Count: 1}},
			RequestBodies: []analyze.Body{{ContentType: contentType, Schema: object(nil, query, withExample(str(), example))}},
			Responses:     []analyze.Response{{Status: status, ContentType: contentType, Count: 1}},
		}
		inv := &analyze.Inventory{Endpoints: []analyze.Endpoint{ep, {Host: host, Method: "GET", Template: "/fixed", Calls: 1}}}
		for _, v := range versions {
			doc, err := Build(inv, Options{Version: v})
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			for _, format := range []string{"yaml", "json"} {
				b, err := Marshal(doc, format)
				if err != nil {
					t.Fatalf("%s %s: %v", v, format, err)
				}
				var back any
				if err := yaml.Unmarshal(b, &back); err != nil {
					t.Fatalf("%s %s output does not parse: %v\n%s", v, format, err, b)
				}
			}
		}
	})
}
