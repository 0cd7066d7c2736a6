package schema

import (
	"errors"
	"testing"
)

func TestObserveText(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"integer", []string{"42", "-7", "0"}, `{"type":"integer","format":"int32"}`},
		{"int64", []string{"42", "9007199254740993"}, `{"type":"integer","format":"int64"}`},
		{"number", []string{"3.5", "1e3"}, `{"type":"number"}`},
		{"integer and number", []string{"3", "3.5"}, `{"type":"number"}`},
		{"boolean", []string{"true", "false"}, `{"type":"boolean"}`},
		{"leading zero stays a string", []string{"007"}, `{"type":"string"}`},
		{"plus sign stays a string", []string{"+1"}, `{"type":"string"}`},
		{"null is a string", []string{"null"}, `{"type":"string"}`},
		{"empty is a string", []string{""}, `{"type":"string"}`},
		{"uuid", []string{"123e4567-e89b-12d3-a456-426614174000"}, `{"type":"string","format":"uuid"}`},
		{"integer and string widen to string", []string{"123", "abc"}, `{"type":"string"}`},
		{"widening drops the format", []string{"123e4567-e89b-12d3-a456-426614174000", "42"}, `{"type":"string"}`},
		{"integer and boolean widen to string", []string{"1", "true"}, `{"type":"string"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(&noExamples)
			for _, v := range tt.values {
				l.ObserveText(v)
			}
			if got, want := schemaJSON(t, l), canon(t, tt.want); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			// With examples, the widened examples are strings and validate.
			e := New(nil)
			for _, v := range tt.values {
				e.ObserveText(v)
			}
			schemaJSON(t, e)
		})
	}
}

func TestObserveTextExamples(t *testing.T) {
	l := New(nil)
	for _, v := range []string{"123", "abc", "123"} {
		l.ObserveText(v)
	}
	s := l.Schema()
	mustValidate(t, s)
	if s.Example != "123" {
		t.Errorf("example = %#v, want the string \"123\"", s.Example)
	}
	n := New(nil)
	n.ObserveText("17")
	if s := n.Schema(); s.Example != int64(17) {
		t.Errorf("integer example = %#v, want int64 17", s.Example)
	}
}

func TestObserveForm(t *testing.T) {
	tests := []struct {
		name   string
		bodies []string
		want   string
	}{
		{"typed fields", []string{"id=42&name=J%C3%BCrgen+M&ok=true&when=2024-01-31"},
			`{"type":"object","required":["id","name","ok","when"],"properties":{
				"id":{"type":"integer","format":"int32"},"name":{"type":"string"},"ok":{"type":"boolean"},
				"when":{"type":"string","format":"date"}}}`},
		{"presence across bodies", []string{"a=1&b=2", "a=3"},
			`{"type":"object","required":["a"],"properties":{"a":{"type":"integer","format":"int32"},"b":{"type":"integer","format":"int32"}}}`},
		{"repeated names count once", []string{"t=1&t=2", "t=3"},
			`{"type":"object","required":["t"],"properties":{"t":{"type":"integer","format":"int32"}}}`},
		{"encoded names, empty values and pairs", []string{"a%20b=&&c&=x"},
			`{"type":"object","required":["a b","c"],"properties":{"a b":{"type":"string"},"c":{"type":"string"}}}`},
		{"mixed field types widen", []string{"q=1", "q=x"},
			`{"type":"object","required":["q"],"properties":{"q":{"type":"string"}}}`},
		{"empty body", []string{""}, `{"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(&noExamples)
			for _, b := range tt.bodies {
				if err := l.ObserveForm([]byte(b)); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := schemaJSON(t, l), canon(t, tt.want); got != want {
				t.Errorf("got %s\nwant %s", got, want)
			}
		})
	}
}

func TestObserveFormInvalid(t *testing.T) {
	for _, b := range []string{"a=%", "a=%4", "a=%zz", "%g0=1"} {
		t.Run(b, func(t *testing.T) {
			l := New(nil)
			if err := l.ObserveForm([]byte("x=1")); err != nil {
				t.Fatal(err)
			}
			before := schemaJSON(t, l)
			err := l.ObserveForm([]byte(b))
			if !errors.Is(err, ErrInvalidForm) {
				t.Fatalf("ObserveForm(%q) = %v, want ErrInvalidForm", b, err)
			}
			if after := schemaJSON(t, l); after != before || l.Samples() != 1 {
				t.Errorf("learner changed: %s -> %s", before, after)
			}
		})
	}
}
