package schema

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func enumOf(t *testing.T, l *Learner, prop string) []any {
	t.Helper()
	s := l.Schema()
	mustValidate(t, s)
	if prop == "" {
		return s.Enum
	}
	p := s.Properties[prop]
	if p == nil {
		t.Fatalf("no property %q", prop)
	}
	return p.Value.Enum
}

func TestEnum(t *testing.T) {
	statuses := []string{"active", "inactive", "pending"}
	tests := []struct {
		name string
		gen  func(i int) string // JSON value of property "v" in sample i
		n    int
		want []any
	}{
		{"small stable set over 100 samples", func(i int) string { return `"` + statuses[i%3] + `"` }, 100,
			[]any{"active", "inactive", "pending"}},
		{"constant value", func(int) string { return `"user"` }, 40, []any{"user"}},
		{"not before EnumMinSamples", func(i int) string { return `"` + statuses[i%3] + `"` }, 29, nil},
		{"100 distinct names", func(i int) string { return fmt.Sprintf(`"name%c%c"`, 'a'+i%26, 'a'+i/26) }, 100, nil},
		{"k values need k² samples", func(i int) string { return fmt.Sprintf(`"s%c"`, 'a'+i%8) }, 40, nil},
		{"k² samples suffice", func(i int) string { return fmt.Sprintf(`"s%c"`, 'a'+i%8) }, 64,
			[]any{"sa", "sb", "sc", "sd", "se", "sf", "sg", "sh"}},
		{"new values in the later half", func(i int) string {
			if i < 30 {
				return `"a"`
			}
			return fmt.Sprintf(`"v%c"`, 'a'+i%5)
		}, 40, nil},
		{"ids are not enums", func(i int) string { return fmt.Sprintf(`"ord_%03d"`, i%3) }, 100, nil},
		{"free text is not an enum", func(i int) string { return `"` + []string{"a b c d", "e f g h"}[i%2] + `"` }, 100, nil},
		{"formatted strings are not enums", func(i int) string { return `"2024-01-0` + fmt.Sprint(1+i%3) + `"` }, 100, nil},
		{"integers are not enums", func(i int) string { return fmt.Sprint(i % 3) }, 100, nil},
		{"booleans are not enums", func(i int) string { return []string{"true", "false"}[i%2] }, 100, nil},
		{"sensitive values are never enums", func(i int) string { return `"` + []string{"a@example.com", "b@example.com"}[i%2] + `"` }, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(nil)
			for i := 0; i < tt.n; i++ {
				if err := l.ObserveJSON([]byte(`{"v":` + tt.gen(i) + `}`)); err != nil {
					t.Fatal(err)
				}
			}
			if got := enumOf(t, l, "v"); !slices.Equal(got, tt.want) {
				t.Errorf("enum = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnumBounds(t *testing.T) {
	cfg := Config{MaxEnum: 3, EnumMinSamples: 5}
	l := New(&cfg)
	for i := 0; i < 100; i++ {
		l.ObserveText([]string{"a", "b", "c"}[i%3])
	}
	if got := enumOf(t, l, ""); len(got) != 3 {
		t.Fatalf("3 values with MaxEnum 3: enum %v", got)
	}
	l.ObserveText("d")
	for i := 0; i < 1000; i++ {
		l.ObserveText("a")
	}
	if got := enumOf(t, l, ""); got != nil {
		t.Errorf("a 4th value with MaxEnum 3 must end the enum, got %v", got)
	}
	if n := len(l.root.enum); n != 0 {
		t.Errorf("a dead enum keeps %d values", n)
	}
}

func mapSchema(t *testing.T, l *Learner, prop string) string {
	t.Helper()
	s := l.Schema()
	mustValidate(t, s)
	p := s
	if prop != "" {
		if s.Properties[prop] == nil {
			t.Fatalf("no property %q in %s", prop, schemaJSON(t, l))
		}
		p = s.Properties[prop].Value
	}
	if p.AdditionalProperties.Schema == nil {
		return ""
	}
	b, _ := p.AdditionalProperties.Schema.Value.MarshalJSON()
	return string(b)
}

func TestMaps(t *testing.T) {
	user := func(id string) string { return `"` + id + `":{"name":"n","age":3}` }
	userSchema := `{"properties":{"age":{"format":"int32","type":"integer"},"name":{"type":"string"}},"required":["age","name"],"type":"object"}`
	var manyLang, manyFields []string
	langs := strings.Fields("en fr de es it pt nl sv da fi no pl cs sk hu ro bg el tr ru uk ja ko zh ar he")
	for i := 0; i < 60; i++ {
		var kv []string
		for j := 0; j < 3; j++ {
			kv = append(kv, fmt.Sprintf(`"%s":"t%d"`, langs[(i*3+j)%len(langs)], i))
		}
		manyLang = append(manyLang, `{"title":{`+strings.Join(kv, ",")+`}}`)
	}
	for i := 0; i < 5; i++ { // a wide object: 30 fields of mixed types, all present
		var kv []string
		for j := 0; j < 30; j++ {
			switch j % 3 {
			case 0:
				kv = append(kv, fmt.Sprintf(`"field_%c":"x"`, 'a'+j))
			case 1:
				kv = append(kv, fmt.Sprintf(`"field_%c":1`, 'a'+j))
			default:
				kv = append(kv, fmt.Sprintf(`"field_%c":true`, 'a'+j))
			}
		}
		manyFields = append(manyFields, `{"title":{`+strings.Join(kv, ",")+`}}`)
	}
	tests := []struct {
		name string
		docs []string
		prop string
		want string // additionalProperties schema; "" not a map
	}{
		{"users keyed by id", []string{`{"users":{` + user("u123") + `,` + user("u456") + `}}`}, "users", userSchema},
		{"ids across samples", []string{`{"users":{` + user("u123") + `}}`, `{"users":{` + user("u456") + `}}`}, "users", userSchema},
		{"numeric keys", []string{`{"m":{"1":true,"2":false,"17":true}}`}, "m", `{"type":"boolean"}`},
		{"date keys", []string{`{"m":{"2024-01-01":5,"2024-01-02":7.5}}`}, "m", `{"type":"number"}`},
		{"uuid keys", []string{`{"m":{"123e4567-e89b-12d3-a456-426614174000":"a","00000000-0000-0000-0000-000000000000":"b"}}`}, "m", `{"type":"string"}`},
		{"top-level map", []string{`{"7":{"a":1},"8":{"a":2}}`}, "", `{"properties":{"a":{"format":"int32","type":"integer"}},"required":["a"],"type":"object"}`},
		{"sparse keys with values of one type", manyLang, "title", `{"type":"string"}`},
		{"one data-like key is a property", []string{`{"m":{"u123":1}}`}, "m", ""},
		{"wide object of fields is not a map", manyFields, "title", ""},
		{"ordinary object", []string{`{"m":{"id":1,"name":"x"}}`, `{"m":{"id":2}}`}, "m", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := learnJSON(t, &noExamples, tt.docs...)
			if got := mapSchema(t, l, tt.prop); got != tt.want {
				t.Errorf("map value schema\n got %q\nwant %q\nschema %s", got, tt.want, schemaJSON(t, l))
			}
		})
	}
}

func TestMapBeyondMaxProperties(t *testing.T) {
	// One sample with more keys than MaxProperties, all of one type: a map,
	// not a truncated object.
	var kv []string
	for i := 0; i < 300; i++ {
		kv = append(kv, fmt.Sprintf(`"word%c%c":%d`, 'a'+i%26, 'a'+i/26, i))
	}
	l := learnJSON(t, &noExamples, `{`+strings.Join(kv, ",")+`}`)
	if got := mapSchema(t, l, ""); got != `{"format":"int32","type":"integer"}` {
		t.Errorf("got %q", got)
	}
	if l.nodes != 2 {
		t.Errorf("nodes = %d after the map conversion, want 2", l.nodes)
	}
}
