package schema

import (
	"errors"
	"strings"
	"testing"
)

func TestTypeJoin(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want string
	}{
		{"integer", []string{`1`, `-7`, `2147483647`}, `{"type":"integer","format":"int32"}`},
		{"int64 when one does not fit int32", []string{`1`, `2147483648`}, `{"type":"integer","format":"int64"}`},
		{"negative int64", []string{`-2147483649`}, `{"type":"integer","format":"int64"}`},
		{"integer join number is number", []string{`1`, `2.5`}, `{"type":"number"}`},
		{"number join integer is number", []string{`2.5`, `1`}, `{"type":"number"}`},
		{"exponent is a number", []string{`1e3`}, `{"type":"number"}`},
		{"integer beyond int64 is a number", []string{`123456789012345678901234567890`}, `{"type":"number"}`},
		{"string", []string{`"a"`, `"b"`}, `{"type":"string"}`},
		{"boolean", []string{`true`, `false`}, `{"type":"boolean"}`},
		{"null only is any", []string{`null`}, `{}`},
		{"string join null is nullable", []string{`"a"`, `null`}, `{"type":"string","nullable":true}`},
		{"null join integer is nullable", []string{`null`, `3`}, `{"type":"integer","format":"int32","nullable":true}`},
		{"string join integer is oneOf", []string{`"a"`, `1`},
			`{"oneOf":[{"type":"string"},{"type":"integer","format":"int32"}]}`},
		{"oneOf with null: nullable on the first branch only", []string{`"a"`, `1`, `null`},
			`{"oneOf":[{"type":"string","nullable":true},{"type":"integer","format":"int32"}]}`},
		{"number join boolean", []string{`1.5`, `true`},
			`{"oneOf":[{"type":"number"},{"type":"boolean"}]}`},
		{"object join string", []string{`{"a":1}`, `"x"`},
			`{"oneOf":[{"type":"object","properties":{"a":{"type":"integer","format":"int32"}},"required":["a"]},{"type":"string"}]}`},
		{"array join object", []string{`[1]`, `{}`},
			`{"oneOf":[{"type":"object"},{"type":"array","items":{"type":"integer","format":"int32"}}]}`},
		{"empty object", []string{`{}`}, `{"type":"object"}`},
		{"objects merge properties; required by presence",
			[]string{`{"a":1,"b":"x"}`, `{"a":2,"c":true}`},
			`{"type":"object","required":["a"],"properties":{
				"a":{"type":"integer","format":"int32"},"b":{"type":"string"},"c":{"type":"boolean"}}}`},
		{"property types join", []string{`{"a":1}`, `{"a":1.5}`, `{"a":null}`},
			`{"type":"object","required":["a"],"properties":{"a":{"type":"number","nullable":true}}}`},
		{"required is sorted", []string{`{"z":1,"m":1,"a":1}`},
			`{"type":"object","required":["a","m","z"],"properties":{
				"a":{"type":"integer","format":"int32"},"m":{"type":"integer","format":"int32"},"z":{"type":"integer","format":"int32"}}}`},
		{"duplicate key counts once for presence", []string{`{"a":1,"a":2}`, `{"a":3}`},
			`{"type":"object","required":["a"],"properties":{"a":{"type":"integer","format":"int32"}}}`},
		{"keys in any order", []string{`{"a":1,"b":2}`, `{"b":3,"a":4}`, `{"b":5}`},
			`{"type":"object","required":["b"],"properties":{"a":{"type":"integer","format":"int32"},"b":{"type":"integer","format":"int32"}}}`},
		{"arrays merge item schemas", []string{`[1,2]`, `[3.5]`},
			`{"type":"array","items":{"type":"number"}}`},
		{"array items of objects: required across items",
			[]string{`[{"id":1,"n":"a"},{"id":2}]`},
			`{"type":"array","items":{"type":"object","required":["id"],"properties":{
				"id":{"type":"integer","format":"int32"},"n":{"type":"string"}}}}`},
		{"empty arrays contribute nothing", []string{`[]`, `["a"]`, `[]`},
			`{"type":"array","items":{"type":"string"}}`},
		{"only empty arrays: items any", []string{`[]`}, `{"type":"array","items":{}}`},
		{"nested arrays", []string{`[[1],[2,3]]`, `[[]]`},
			`{"type":"array","items":{"type":"array","items":{"type":"integer","format":"int32"}}}`},
		{"array items mixing types", []string{`[1,"a",null]`},
			`{"type":"array","items":{"oneOf":[{"type":"string","nullable":true},{"type":"integer","format":"int32"}]}}`},
		{"escaped keys are decoded", []string{`{"a\u00e9\"":1}`},
			`{"type":"object","required":["aé\""],"properties":{"aé\"":{"type":"integer","format":"int32"}}}`},
		{"whitespace everywhere", []string{" \t\n{ \"a\" : [ 1 , 2 ] }\r\n"},
			`{"type":"object","required":["a"],"properties":{"a":{"type":"array","items":{"type":"integer","format":"int32"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := learnJSON(t, &noExamples, tt.docs...)
			if got, want := schemaJSON(t, l), canon(t, tt.want); got != want {
				t.Errorf("schema\n got %s\nwant %s", got, want)
			}
			if l.Samples() != int64(len(tt.docs)) {
				t.Errorf("Samples = %d, want %d", l.Samples(), len(tt.docs))
			}
		})
	}
}

func TestEmptyLearner(t *testing.T) {
	l := New(nil)
	if got := schemaJSON(t, l); got != `{}` {
		t.Errorf("empty learner schema = %s, want {}", got)
	}
	if l.Stable() || l.Samples() != 0 || l.Sensitive() != nil {
		t.Errorf("empty learner: stable %v samples %d sensitive %v", l.Stable(), l.Samples(), l.Sensitive())
	}
}

func TestInvalidJSONLeavesLearnerUnchanged(t *testing.T) {
	bad := []string{
		``, ` `, `{`, `}`, `[1,]`, `{"a":}`, `{"a" 1}`, `{a:1}`, `"unterminated`, `"bad \x escape"`,
		`"ctl ` + "\x01" + `"`, `01`, `1.`, `-`, `1e`, `.5`, `tru`, `nul`, `[1 2]`, `{"a":1,}`,
		`{"a":1}{"b":2}`, `1 2`, `{"a":1]`, `[1}`, `[`, `"\u12g4"`, `+1`, `NaN`, `[1,{"a":[}]`,
	}
	for _, b := range bad {
		t.Run(b, func(t *testing.T) {
			l := learnJSON(t, nil, `{"x":1}`)
			before, samples := schemaJSON(t, l), l.Samples()
			err := l.ObserveJSON([]byte(b))
			if err == nil {
				t.Fatalf("ObserveJSON(%q) = nil, want an error", b)
			}
			if !errors.Is(err, ErrInvalidJSON) || !strings.HasPrefix(err.Error(), "schema: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if after := schemaJSON(t, l); after != before || l.Samples() != samples {
				t.Errorf("learner changed by an invalid body: %s -> %s", before, after)
			}
		})
	}
}
