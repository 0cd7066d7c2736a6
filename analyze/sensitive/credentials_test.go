package sensitive

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/apitap/apitap/reassembly"
)

func hdrs(kv ...string) []reassembly.Header {
	var hs []reassembly.Header
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, reassembly.Header{Name: kv[i], Value: kv[i+1]})
	}
	return hs
}

func TestCredentials(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))
	cases := []struct {
		name    string
		headers []reassembly.Header
		query   string
		want    []Credential
	}{
		{"none", hdrs("Host", "api.example.com", "Accept", "application/json"), "page=2&sort=name",
			[]Credential{{None, ""}}},
		{"nothing at all", nil, "", []Credential{{None, ""}}},
		{"basic", hdrs("Authorization", basic), "", []Credential{{Basic, ""}}},
		{"basic lower-case scheme", hdrs("authorization", "basic YWxpY2U6eA=="), "", []Credential{{Basic, ""}}},
		{"bearer opaque", hdrs("Authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA"), "", []Credential{{Bearer, ""}}},
		{"bearer jwt", hdrs("Authorization", "Bearer "+jwtIO), "", []Credential{{BearerJWT, ""}}},
		{"bearer jwt upper", hdrs("AUTHORIZATION", "BEARER  "+jwtIO), "", []Credential{{BearerJWT, ""}}},
		{"bearer empty", hdrs("Authorization", "Bearer"), "", []Credential{{APIKeyHeader, "Authorization"}}},
		{"token scheme", hdrs("Authorization", "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"), "",
			[]Credential{{APIKeyHeader, "Authorization"}}},
		{"bare key in authorization", hdrs("Authorization", "9944b09199c62bcf"), "",
			[]Credential{{APIKeyHeader, "Authorization"}}},
		{"empty authorization", hdrs("Authorization", "  "), "", []Credential{{None, ""}}},
		{"x-api-key", hdrs("X-API-Key", "k_123"), "", []Credential{{APIKeyHeader, "X-API-Key"}}},
		{"x-api-key lower", hdrs("x-api-key", "k_123"), "", []Credential{{APIKeyHeader, "X-API-Key"}}},
		{"api-key", hdrs("Api-Key", "k_123"), "", []Credential{{APIKeyHeader, "Api-Key"}}},
		{"apikey", hdrs("apikey", "k_123"), "", []Credential{{APIKeyHeader, "apikey"}}},
		{"x-auth-token", hdrs("X-Auth-Token", "t"), "", []Credential{{APIKeyHeader, "X-Auth-Token"}}},
		{"azure apim", hdrs("Ocp-Apim-Subscription-Key", "abc"), "", []Credential{{APIKeyHeader, "Ocp-Apim-Subscription-Key"}}},
		{"gitlab", hdrs("PRIVATE-TOKEN", "abc"), "", []Credential{{APIKeyHeader, "Private-Token"}}},
		{"custom api key header", hdrs("X-Acme-Api-Key", "abc"), "", []Credential{{APIKeyHeader, "X-Acme-Api-Key"}}},
		{"custom token header", hdrs("X-Tenant-Token", "abc"), "", []Credential{{APIKeyHeader, "X-Tenant-Token"}}},
		{"csrf header is not a credential", hdrs("X-CSRF-Token", "abc", "X-XSRF-TOKEN", "def"), "", []Credential{{None, ""}}},
		{"websocket key is not a credential", hdrs("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), "", []Credential{{None, ""}}},
		{"empty api key header", hdrs("X-API-Key", ""), "", []Credential{{None, ""}}},
		{"query api_key", nil, "api_key=abc123", []Credential{{APIKeyQuery, "api_key"}}},
		{"query apikey", nil, "q=x&apikey=abc123", []Credential{{APIKeyQuery, "apikey"}}},
		{"query apiKey", nil, "apiKey=abc123", []Credential{{APIKeyQuery, "apiKey"}}},
		{"query access_token", nil, "access_token=ya29.abc", []Credential{{APIKeyQuery, "access_token"}}},
		{"query token", nil, "token=abc", []Credential{{APIKeyQuery, "token"}}},
		{"query key opaque", nil, "key=AIzaSyD" + b62a[:32], []Credential{{APIKeyQuery, "key"}}},
		{"query key word", nil, "key=color&value=red", []Credential{{None, ""}}},
		{"query custom token", nil, "my_service_token=abc123def456ghi789", []Credential{{APIKeyQuery, "my_service_token"}}},
		{"query jwt", nil, "jwt=" + jwtIO, []Credential{{APIKeyQuery, "jwt"}}},
		{"query any name jwt", nil, "t=" + jwtIO, []Credential{{APIKeyQuery, "t"}}},
		{"query page token", nil, "page_token=CiAKGjBpNDd2Nmp2&pageToken=x", []Credential{{None, ""}}},
		{"query empty", nil, "api_key=&token", []Credential{{None, ""}}},
		{"cookie jsessionid", hdrs("Cookie", "JSESSIONID=1A2B3C4D5E6F"), "", []Credential{{SessionCookie, "JSESSIONID"}}},
		{"cookie phpsessid", hdrs("Cookie", "PHPSESSID=abc; theme=dark"), "", []Credential{{SessionCookie, "PHPSESSID"}}},
		{"cookie aspnet", hdrs("Cookie", "ASP.NET_SessionId=xyz"), "", []Credential{{SessionCookie, "ASP.NET_SessionId"}}},
		{"cookie connect.sid", hdrs("Cookie", "connect.sid=s%3Aabc.def"), "", []Credential{{SessionCookie, "connect.sid"}}},
		{"cookie session", hdrs("Cookie", "session=abc"), "", []Credential{{SessionCookie, "session"}}},
		{"cookie sid", hdrs("Cookie", "lang=en; sid=abc"), "", []Credential{{SessionCookie, "sid"}}},
		{"cookie rails", hdrs("Cookie", "_myapp_session=abc"), "", []Credential{{SessionCookie, "_myapp_session"}}},
		{"cookie laravel", hdrs("Cookie", "laravel_session=abc"), "", []Credential{{SessionCookie, "laravel_session"}}},
		{"cookie host prefix", hdrs("Cookie", "__Host-session=abc"), "", []Credential{{SessionCookie, "__Host-session"}}},
		{"cookie drupal", hdrs("Cookie", "SESS0123456789abcdef0123456789abcdef=abc"), "",
			[]Credential{{SessionCookie, "SESS0123456789abcdef0123456789abcdef"}}},
		{"cookie classic asp", hdrs("Cookie", "ASPSESSIONIDQCQRSBTA=abc"), "", []Credential{{SessionCookie, "ASPSESSIONIDQCQRSBTA"}}},
		{"cookie api key", hdrs("Cookie", "api_key=abc123"), "", []Credential{{APIKeyCookie, "api_key"}}},
		{"cookie token", hdrs("Cookie", "token=abc123"), "", []Credential{{APIKeyCookie, "token"}}},
		{"cookie access token", hdrs("Cookie", "access_token=abc123"), "", []Credential{{APIKeyCookie, "access_token"}}},
		{"cookie jwt any name", hdrs("Cookie", "remember_me="+jwtIO), "", []Credential{{APIKeyCookie, "remember_me"}}},
		{"cookie quoted", hdrs("Cookie", `auth_token="abc123"`), "", []Credential{{APIKeyCookie, "auth_token"}}},
		{"cookie ordinary", hdrs("Cookie", "theme=dark; lang=en; _ga=GA1.2.3.4; XSRF-TOKEN=abc; csrftoken=def"), "",
			[]Credential{{None, ""}}},
		{"cookie empty value", hdrs("Cookie", "JSESSIONID=; token="), "", []Credential{{None, ""}}},
		{"two cookie headers", hdrs("Cookie", "PHPSESSID=a", "Cookie", "token=b"), "",
			[]Credential{{SessionCookie, "PHPSESSID"}, {APIKeyCookie, "token"}}},
		{"multiple", hdrs("Authorization", "Bearer "+jwtIO, "X-API-Key", "k", "Cookie", "JSESSIONID=s; api_key=c"), "access_token=q",
			[]Credential{{BearerJWT, ""}, {APIKeyHeader, "X-API-Key"}, {SessionCookie, "JSESSIONID"}, {APIKeyCookie, "api_key"}, {APIKeyQuery, "access_token"}}},
		{"duplicates once", hdrs("X-API-Key", "a", "x-api-key", "b", "Authorization", basic, "Authorization", basic), "api_key=1&api_key=2",
			[]Credential{{APIKeyHeader, "X-API-Key"}, {Basic, ""}, {APIKeyQuery, "api_key"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Credentials(nil, tc.headers, tc.query)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Credentials = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCredentialsAppends(t *testing.T) {
	dst := []Credential{{SessionCookie, "earlier"}}
	got := Credentials(dst, hdrs("Cookie", "earlier=x"), "")
	// A credential already in dst before the call is not a duplicate: dst
	// belongs to the caller.
	want := []Credential{{SessionCookie, "earlier"}, {None, ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCredentialNamesDoNotAlias(t *testing.T) {
	// The request's strings live in one buffer, as a parser would make them.
	raw := "X-Acme-Api-Key" + "my_token=abcdef&x=1"
	name, query := raw[:14], raw[14:]
	lo := uintptr(unsafe.Pointer(unsafe.StringData(raw)))
	hi := lo + uintptr(len(raw))
	got := Credentials(nil, []reassembly.Header{{Name: name, Value: "k"}}, query)
	want := []Credential{{APIKeyHeader, "X-Acme-Api-Key"}, {APIKeyQuery, "my_token"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, c := range got {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(c.Name))); p >= lo && p < hi {
			t.Errorf("name %q aliases the request", c.Name)
		}
	}
	long := strings.Repeat("a", 200) + "_token"
	got = Credentials(nil, nil, long+"=abc")
	if len(got) != 1 || got[0].Scheme != APIKeyQuery || len(got[0].Name) != maxNameLen {
		t.Errorf("long name: got %v, want one apikey-query cut to %d bytes", got, maxNameLen)
	}
}

func TestScheme(t *testing.T) {
	names := []string{"none", "basic", "bearer", "bearer-jwt", "apikey-header", "apikey-query", "apikey-cookie", "session-cookie"}
	for i, want := range names {
		s := Scheme(i)
		t.Run(want, func(t *testing.T) {
			if got := s.String(); got != want {
				t.Errorf("Scheme(%d).String() = %q, want %q", i, got, want)
			}
			if p, ok := ParseScheme(want); !ok || p != s {
				t.Errorf("ParseScheme(%q) = %v, %v", want, p, ok)
			}
		})
	}
	if got := Scheme(42).String(); got != "scheme(42)" {
		t.Errorf("Scheme(42).String() = %q", got)
	}
	if _, ok := ParseScheme("digest"); ok {
		t.Error("ParseScheme(digest) succeeded")
	}
}
