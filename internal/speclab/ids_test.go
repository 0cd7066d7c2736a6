package speclab

import (
	"regexp"
	"testing"
)

func TestIDSpecFromExample(t *testing.T) {
	for _, tc := range []struct {
		name string
		ex   any
		want string // idSpec.String(); "" when the example says nothing
	}{
		{"postId", "tiSTSUzh4BwtvYSLWPsqu9", "base62(22)"},
		{"vehicleId", "1929186d-8b67-4163-a208-de52a41f7301", "uuid"},
		{"taskUid", "8685", "numeric(1..9999)"},
		{"video_id", 12345.0, "numeric(1..99999)"},
		{"video_id", 1, "numeric(1..9999)"},
		{"id", "cos_12345", `prefixed("cos_")`},
		{"chargeId", "tr_8f3aK2", `prefixed("tr_")`},
		{"hash", "7b198a7f52a04188a7b2", "hex(20)"},
		{"book_title", "bookTitle77", `mimic("bookTitle")`},
		{"username", "name1", "username"},
		{"indexUid", "movies", "word"},
		{"user", "admin", "username"},
		{"storeSlug", "downtown-pets", "slug"},
		{"object_id", "object_id_example", ""},
		{"q", "my car has trouble", ""},
		{"x", "", ""},
		{"x", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, ok := idSpecFromExample(tc.name, tc.ex)
			got := ""
			if ok {
				got = spec.String()
			}
			if got != tc.want {
				t.Fatalf("idSpecFromExample(%q, %v) = %q, want %q", tc.name, tc.ex, got, tc.want)
			}
		})
	}
}

func TestIDStylesGenerate(t *testing.T) {
	for _, tc := range []struct {
		spec idSpec
		re   string
	}{
		{idSpec{style: styleNumeric, min: 1, max: 9999}, `^[1-9][0-9]{0,3}$`},
		{idSpec{style: styleUUID}, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{idSpec{style: styleBase62, n: 22}, `^[0-9A-Za-z]{22}$`},
		{idSpec{style: stylePrefixed, prefix: "cus_", n: 14}, `^cus_[0-9A-Za-z]{14}$`},
		{idSpec{style: styleHex, n: 24}, `^[0-9a-f]{24}$`},
		{idSpec{style: styleSlug}, `^[a-z0-9]+(-[a-z0-9]+)+$|^[a-z]+$`},
		{idSpec{style: styleUsername}, `^[a-z]+([._]?[a-z]+)?[0-9]*$`},
		{idSpec{style: styleWord}, `^[a-z]+([_-][a-z0-9]+)*$`},
		{idSpec{style: styleMimic, prefix: "bookTitle"}, `^bookTitle[1-9][0-9]{0,2}$`},
	} {
		t.Run(tc.spec.String(), func(t *testing.T) {
			re := regexp.MustCompile(tc.re)
			r := newRand(1, tc.spec.String())
			distinct := map[string]bool{}
			for range 500 {
				v := tc.spec.gen(r)
				if !re.MatchString(v) {
					t.Fatalf("%q does not match %s", v, tc.re)
				}
				distinct[v] = true
			}
			// Real identifiers vary: many distinct values, so that
			// templating has evidence.
			if len(distinct) < 50 {
				t.Fatalf("only %d distinct values in 500", len(distinct))
			}
		})
	}
}

func TestResourcePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"customers": "cus_", "companies": "com_", "custom-object-schemas": "cos_", "custom-objects": "co_",
		"leads": "lead_", "notes": "note_", "activities": "act_", "users": "user_", "addresses": "add_",
	} {
		if got := resourcePrefix(in); got != want {
			t.Errorf("resourcePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPathStyles: the hand-written spec's path parameters get the styles
// their schemas, examples and names suggest, one per resource.
func TestPathStyles(t *testing.T) {
	s := loadTestdata(t, "petstore30.yaml")
	got := map[string]string{}
	for k, v := range pathStyles(s) {
		got[k] = v.String()
	}
	want := map[string]string{
		"/pets/{petId}":                      "uuid",
		"/owners/{username}":                 "username",
		"/stores/{storeSlug}":                "slug",
		"/stores/{storeSlug}/items/{itemId}": `prefixed("itm_")`,
		"/reports/{day}":                     got["/reports/{day}"], // dates come from the generator
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("styles %v, want keys of %v", got, want)
	}
}
