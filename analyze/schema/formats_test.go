package schema

import (
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"123e4567-e89b-12d3-a456-426614174000", "uuid"},
		{"00000000-0000-0000-0000-000000000000", "uuid"},
		{"123E4567-E89B-12D3-A456-426614174000", "uuid"},
		{"123e4567-e89b-12d3-a456-42661417400", ""},
		{"123e4567e89b12d3a456426614174000", ""},
		{"123e4567-e89b-12d3-a456-42661417400g", ""},
		{"2024-01-31T23:59:60Z", "date-time"},
		{"2024-01-31T10:00:00.123456+05:30", "date-time"},
		{"2024-01-31T10:00:00-08:00", "date-time"},
		{"2024-01-31t10:00:00z", ""},
		{"2024-01-31 10:00:00Z", ""},
		{"2024-01-31T24:00:00Z", ""},
		{"2024-01-31T10:00:00", ""},
		{"2024-01-31T10:00:00.Z", ""},
		{"2024-02-29", "date"},
		{"2023-02-29", ""},
		{"2024-13-01", ""},
		{"2024-04-31", ""},
		{"2024-1-01", ""},
		{"20240101", ""},
		{"alice@example.com", "email"},
		{"a.b+tag@mail.example.co.uk", "email"},
		{"a@b", ""},
		{"a@b.c", ""},
		{"@example.com", ""},
		{"a@@example.com", ""},
		{"a b@example.com", ""},
		{".a@example.com", ""},
		{"a@-example.com", ""},
		{"a@example.123", ""},
		{"192.168.0.1", "ipv4"},
		{"255.255.255.255", "ipv4"},
		{"256.1.1.1", ""},
		{"01.2.3.4", ""},
		{"1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"1.2.3.4.", ""},
		{"2001:db8::1", "ipv6"},
		{"::1", "ipv6"},
		{"::ffff:192.0.2.1", "ipv6"},
		{"fe80::1%eth0", ""},
		{"2001:db8:::1", ""},
		{"12:30", ""},
		{"https://example.com/a?b=c#d", "uri"},
		{"http://localhost:8080", "uri"},
		{"s3://bucket/key", "uri"},
		{"mailto:alice@example.com", "uri"},
		{"urn:isbn:0451450523", "uri"},
		{"https://", ""},
		{"https:///path", ""},
		{"https://exa mple.com", ""},
		{"user:123", ""},
		{"/relative/path", ""},
		{"example.com", ""},
		{"hello", ""},
		{"", ""},
		{"12", ""},
		{strings.Repeat("a", 3000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			if got := detectFormat([]byte(tt.in)).name(); got != tt.want {
				t.Errorf("detectFormat(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string // format; "" none
	}{
		{"uuid", []string{"123e4567-e89b-12d3-a456-426614174000", "9b2f5c1e-0000-4000-8000-000000000001"}, "uuid"},
		{"date-time", []string{"2024-01-31T10:00:00Z", "2024-02-01T00:00:00.5+01:00"}, "date-time"},
		{"date", []string{"2024-01-31", "1999-12-31"}, "date"},
		{"email", []string{"a@example.com", "b.c@example.org"}, "email"},
		{"ipv4", []string{"10.0.0.1", "8.8.8.8"}, "ipv4"},
		{"ipv6", []string{"2001:db8::1", "fe80::1"}, "ipv6"},
		{"uri", []string{"https://example.com/", "http://a.example/x"}, "uri"},
		{"a format that fails once is dropped", []string{"2024-01-31", "2024-01-31", "soon", "2024-02-01"}, ""},
		{"date then date-time is no format", []string{"2024-01-31", "2024-01-31T10:00:00Z"}, ""},
		{"empty string drops the format", []string{"10.0.0.1", ""}, ""},
		{"plain words", []string{"hello", "world"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var docs []string
			for _, v := range tt.values {
				docs = append(docs, `{"v":"`+v+`"}`)
			}
			l := learnJSON(t, nil, docs...)
			schemaJSON(t, l) // validates, examples included
			if got := l.Schema().Properties["v"].Value.Format; got != tt.want {
				t.Errorf("format = %q, want %q", got, tt.want)
			}
			// The same values as parameter text.
			p := New(nil)
			for _, v := range tt.values {
				p.ObserveText(v)
			}
			mustValidate(t, p.Schema())
			if got := p.Schema().Format; got != tt.want {
				t.Errorf("text format = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIntegerFormats(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want string
	}{
		{"int32 bounds", []string{"-2147483648", "2147483647"}, "int32"},
		{"above int32", []string{"1", "2147483648"}, "int64"},
		{"below int32", []string{"-2147483649", "1"}, "int64"},
		{"int64 max", []string{"9223372036854775807"}, "int64"},
		{"int64 min", []string{"-9223372036854775808"}, "int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := learnJSON(t, nil, tt.docs...)
			s := l.Schema()
			mustValidate(t, s)
			if !s.Type.Is("integer") || s.Format != tt.want {
				t.Errorf("got type %v format %q, want integer %q", s.Type, s.Format, tt.want)
			}
		})
	}
}

func TestIsDataKey(t *testing.T) {
	yes := []string{"1", "42", "-3", "u123", "tr_8f3aK2", "cus_NffrFeUfNV2Hib", "2024-01-31", "2024-01-31T10:00:00Z",
		"123e4567-e89b-12d3-a456-426614174000", "5f2b6c1d9e8a7b3c4d5e6f70", "deadbeef01", "10.0.0.1",
		"alice@example.com", "sha256", "order-20240131-001", "en-US-42", "item_17", "usr_aB3xK9mQ", "usr_Q7rT2pLw"}
	no := []string{"", "id", "name", "line1", "address2", "p95", "ipv6", "v2", "created_at", "firstName",
		"oauth2", "x-request-id", "deadbeef", "hello world", "a/b", "userId", "ID", "HTTPStatus", "utf8String",
		"base64EncodedData", "line_1", "movies_v3", "movies-eu", "cheerful_movies", "v1beta2"}
	for _, k := range yes {
		if !isDataKey([]byte(k)) {
			t.Errorf("isDataKey(%q) = false, want true", k)
		}
	}
	for _, k := range no {
		if isDataKey([]byte(k)) {
			t.Errorf("isDataKey(%q) = true, want false", k)
		}
	}
}

func TestEnumCandidate(t *testing.T) {
	yes := []string{"active", "IN_PROGRESS", "in progress", "v2", "", "1", "card", "Pending Review"}
	no := []string{"the quick brown fox jumps", "ord_123", "2024-01-31", "a@example.com",
		"123e4567-e89b-12d3-a456-426614174000", "https://example.com", "abcdefgh12345678", strings.Repeat("x", 41), "tab\there"}
	for _, s := range yes {
		if !enumCandidate([]byte(s)) {
			t.Errorf("enumCandidate(%q) = false, want true", s)
		}
	}
	for _, s := range no {
		if enumCandidate([]byte(s)) {
			t.Errorf("enumCandidate(%q) = true, want false", s)
		}
	}
}
