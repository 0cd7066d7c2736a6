package schema

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

func TestValidateAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{
		`0`, `-0`, `1.5e+10`, `1E-2`, `"\ud83d\ude00"`, `"\/"`, `[]`, `{}`, `[{}]`, `{"":""}`, " [1 ,\n2]\t",
		`"a` + "\xff" + `b"`, `[1,[2,[3,{"a":[true,false,null]}]]]`, `{"a":{"b":{}}}`,
		`00`, `-`, `--1`, `1.e5`, `.5`, `1e+`, `[`, `]`, `[,]`, `[1,,2]`, `{"a"}`, `{"a":1,"a"}`, `{,}`,
		`"` + "\t" + `"`, `"\'"`, `tRue`, `nulll`, `[1]]`, `{"a":1}}`, `"\u00"`, `{"a":[}`, `{]`, `[}`,
	}
	// Mutations of valid documents.
	r := rand.New(rand.NewPCG(7, 8))
	var b bytes.Buffer
	for i := 0; i < 3000; i++ {
		b.Reset()
		randomDoc(r, &b, 4)
		doc := bytes.Clone(b.Bytes())
		if len(doc) > 0 && i%3 != 0 {
			for k := 0; k < 1+r.IntN(3); k++ {
				j := r.IntN(len(doc))
				switch r.IntN(3) {
				case 0:
					doc[j] = `{}[]",:\ 0e.-tfn`[r.IntN(16)]
				case 1:
					doc = append(doc[:j], doc[j+1:]...)
				default:
					doc = append(doc[:j], append([]byte{`{}[]",:\ 0`[r.IntN(10)]}, doc[j:]...)...)
				}
				if len(doc) == 0 {
					break
				}
			}
		}
		inputs = append(inputs, string(doc))
	}
	for _, in := range inputs {
		got := validate([]byte(in)) == nil
		if want := json.Valid([]byte(in)); got != want {
			t.Errorf("validate(%q) ok=%v, encoding/json says %v", in, got, want)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, in := range []string{
		`plain`, `a\"b\\c\/d`, `\b\f\n\r\t`, `\u00e9\u4e2d`, `\ud83d\ude00`, `\ud83d`, `\ude00x`, `\ud83d\u0041`, `\u0000`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+in+`"`), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := unescape(nil, []byte(in), 1000)
		if string(got) != want || !ok {
			t.Errorf("unescape(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if got, ok := unescape(nil, []byte(`abcdef`), 3); string(got) != "abc" || ok {
		t.Errorf("limited unescape = %q %v", got, ok)
	}
}
