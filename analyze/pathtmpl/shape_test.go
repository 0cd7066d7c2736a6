package pathtmpl

import (
	"strings"
	"testing"
)

func TestShapeFields(t *testing.T) {
	tests := []struct {
		name             string
		method           string
		status           int
		req, resp        string
		wantMethod       uint64
		wantStatus       uint64
		wantReq, wantRsp uint64
	}{
		{"get object", "GET", 200, "", `{"id":1,"name":"a"}`, 1, 2, bodyNone, bodyObject},
		{"get list wrapper", "GET", 200, "", `{"data":[{"id":1}],"meta":{}}`, 1, 2, bodyNone, bodyList},
		{"get array", "GET", 200, "", ` [ {"id":1} ]`, 1, 2, bodyNone, bodyList},
		{"post form", "POST", 201, "a=1&b=2", `{"id":1}`, 3, 2, bodyOther, bodyObject},
		{"put array", "PUT", 202, `["a","b"]`, `{"taskUid":1}`, 4, 2, bodyList, bodyObject},
		{"patch string", "PATCH", 200, `"byWord"`, `{}`, 5, 2, bodyString, bodyObject},
		{"delete no body", "DELETE", 204, "", "", 6, 2, bodyNone, bodyNone},
		{"not found", "GET", 404, "", `{"message":"x"}`, 1, 4, bodyNone, bodyObject},
		{"scalars", "OPTIONS", 500, "12", "true", 7, 5, bodyNumber, bodyBool},
		{"null", "CUSTOM", 0, "null", "<html>", 8, 0, bodyNull, bodyOther},
		{"no method", "", 999, "", "", 0, 6, bodyNone, bodyNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Shape(tt.method, tt.status, []byte(tt.req), []byte(tt.resp))
			if s == 0 || !shapeStructured(s) {
				t.Fatalf("Shape = %#x: not marked", s)
			}
			if got := s >> 60; got != tt.wantMethod {
				t.Errorf("method %d, want %d", got, tt.wantMethod)
			}
			if got := (s >> 57) & 7; got != tt.wantStatus {
				t.Errorf("status class %d, want %d", got, tt.wantStatus)
			}
			if got := (s >> 47) & 7; got != tt.wantReq {
				t.Errorf("request kind %d, want %d", got, tt.wantReq)
			}
			if got := (s >> 54) & 7; got != tt.wantRsp {
				t.Errorf("response kind %d, want %d", got, tt.wantRsp)
			}
		})
	}
}

func TestShapeSimilarity(t *testing.T) {
	full := `{"id":1,"username":"a","email":"e","created":"x","roles":["r"],"profile":{"a":1}}`
	tests := []struct {
		name             string
		a, b             uint64
		similar, differs bool
	}{
		{"same", Shape("GET", 200, nil, []byte(full)), Shape("GET", 200, nil, []byte(full)), true, false},
		{"optional keys missing",
			Shape("GET", 200, nil, []byte(full)),
			Shape("GET", 200, nil, []byte(`{"id":2,"username":"b","roles":[]}`)), true, false},
		{"key order and values",
			Shape("GET", 200, nil, []byte(`{"b":"x","a":1}`)),
			Shape("GET", 200, nil, []byte(`{"a":2, "b" : "y\"z"}`)), true, false},
		{"nullable scalar",
			Shape("GET", 200, nil, []byte(`{"a":1,"b":null}`)),
			Shape("GET", 200, nil, []byte(`{"a":1,"b":"x"}`)), true, false},
		{"other schema",
			Shape("GET", 200, nil, []byte(`{"id":1,"username":"a","email":"e"}`)),
			Shape("GET", 200, nil, []byte(`{"maxTotalHits":1,"sortFacetValuesBy":{},"minWordSizeForTypos":{}}`)), false, true},
		{"array and object",
			Shape("GET", 200, nil, []byte(`["a"]`)),
			Shape("GET", 200, nil, []byte(`{"a":1}`)), false, true},
		{"array and string",
			Shape("GET", 200, nil, []byte(`["a"]`)),
			Shape("GET", 200, nil, []byte(`"byWord"`)), false, true},
		{"request body kind",
			Shape("PUT", 202, []byte(`["a"]`), []byte(`{"taskUid":1}`)),
			Shape("PUT", 202, []byte(`{"a":1}`), []byte(`{"taskUid":1}`)), false, true},
		{"method", Shape("GET", 200, nil, nil), Shape("DELETE", 200, nil, nil), false, true},
		{"status class", Shape("GET", 200, nil, nil), Shape("GET", 404, nil, nil), false, true},
		{"one key each", Shape("GET", 200, nil, []byte(`{"a":1}`)), Shape("GET", 200, nil, []byte(`{"b":1}`)), false, false},
		{"opaque equal", 12345, 12345, true, false},
		{"opaque unequal", 12345, 12346, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shapeSimilar(tt.a, tt.b); got != tt.similar {
				t.Errorf("shapeSimilar(%#x, %#x) = %v, want %v", tt.a, tt.b, got, tt.similar)
			}
			if got := shapeDiffers(tt.a, tt.b); got != tt.differs {
				t.Errorf("shapeDiffers(%#x, %#x) = %v, want %v", tt.a, tt.b, got, tt.differs)
			}
		})
	}
}

func TestShapeTruncatedAndHostileBodies(t *testing.T) {
	bodies := []string{`{"a":`, `{"a":"unterminated`, `{"a":[1,2,{"b":`, `[`, `{`, `{"a" 1}`, `{"\\":1}`,
		`{"a":1,` + strings.Repeat(`"k":1,`, 10000) + `"z":1}`, strings.Repeat("[", 100000), "\x00\xff"}
	for _, b := range bodies {
		name := b
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(name, func(t *testing.T) {
			if s := Shape("POST", 200, []byte(b), []byte(b)); !shapeStructured(s) {
				t.Fatalf("Shape(%q) = %#x", b, s)
			}
		})
	}
}

func TestShapeAllocs(t *testing.T) {
	req := []byte(`{"username":"a","password":"b"}`)
	resp := []byte(`{"data":[{"id":1,"name":"x"}],"meta":{"total":1},"links":{}}`)
	if n := testing.AllocsPerRun(100, func() { Shape("POST", 201, req, resp) }); n != 0 {
		t.Fatalf("Shape allocates %v times per call", n)
	}
}
