package schema

import "testing"

func TestShape(t *testing.T) {
	same := [][2]string{
		{`{"a":1,"b":"x"}`, `{"b":[1,2,{"z":3}],"a":{"deep":true}}`},
		{` {"a" : 1}`, `{"a":null}`},
		{`[{"id":1,"n":"a"},{"x":1}]`, `[{"n":"b","id":2}]`},
		{`[1,2]`, `[3]`},
		{`"x"`, `"y"`},
		{`1`, `-2.5e3`},
		{`true`, `false`},
		{`[]`, ` [ ] `},
		{`{"a\"b":1}`, `{"a\"b":"}"}`},
	}
	for _, p := range same {
		a, b := Shape([]byte(p[0])), Shape([]byte(p[1]))
		if a != b || a == 0 {
			t.Errorf("Shape(%s)=%x, Shape(%s)=%x: want equal, non-zero", p[0], a, p[1], b)
		}
	}
	differ := []string{
		`{"a":1}`, `{"a":1,"b":1}`, `{"b":1}`, `{}`, `[{"a":1}]`, `[{"b":1}]`, `[1]`, `["x"]`, `[]`,
		`"x"`, `1`, `true`, `null`, `[[1]]`,
	}
	seen := map[uint64]string{}
	for _, d := range differ {
		h := Shape([]byte(d))
		if h == 0 {
			t.Errorf("Shape(%s) = 0", d)
		}
		if o, dup := seen[h]; dup {
			t.Errorf("Shape(%s) == Shape(%s)", d, o)
		}
		seen[h] = d
	}
	for _, bad := range []string{``, `   `, `{"a`, `[`, `{"a":"x`, `{"a" 1}`, `x`, `{"a":{"b":1}`} {
		if h := Shape([]byte(bad)); h != 0 {
			t.Errorf("Shape(%q) = %x, want 0", bad, h)
		}
	}
}
