package pathtmpl

import (
	"slices"
	"testing"
)

// TestMerge: two workers' templaters, each with half the evidence, merged
// into a third: the evidence together promotes what neither could, a
// position one of them promoted takes the other's literals, and every
// template either returned resolves in the merged one.
func TestMerge(t *testing.T) {
	a := newT(t, Config{})
	b := newT(t, Config{})
	for _, tp := range []*Templater{a, b} {
		if err := tp.Pin("", Spec, "/v1/things/{thing_id}"); err != nil {
			t.Fatal(err)
		}
	}
	names := words(16, "")
	var seen []string
	for i, n := range names[:10] {
		tp := a
		if i%2 == 1 {
			tp = b
		}
		seen = append(seen, obs(tp, "/users/"+n, userShape), obs(tp, "/users/"+n+"/orders", 0))
	}
	// a alone promotes /people/…; b saw two of them as literals.
	for _, n := range names {
		seen = append(seen, obs(a, "/people/"+n, userShape))
	}
	seen = append(seen, obs(b, "/people/zz-top", userShape), obs(b, "/people/yy-bottom", userShape), obs(b, "/people/me", userShape))
	seen = append(seen, obs(a, "/v1/things/abc", 0), obs(b, "/v1/things/42/parts", 0), obs(b, "/users/42", 0))
	if got := a.Resolve(host, "/users/"+names[0]).Template; got != "/users/"+names[0] {
		t.Fatalf("a promoted alone: %q", got)
	}
	settled := newT(t, Config{})
	if err := settled.Pin("", Spec, "/v1/things/{thing_id}"); err != nil {
		t.Fatal(err)
	}
	settled.Merge(a)
	settled.Merge(b)
	settled.Merge(settled)
	settled.Merge(nil)
	want := map[string]string{
		"/users/" + names[0]:             "/users/{userId}",
		"/users/" + names[1] + "/orders": "/users/{userId}/orders",
		"/users/42":                      "/users/{userId}",
		"/people/zz-top":                 "/people/{personId}",
		"/people/me":                     "/people/me",
		"/v1/things/abc":                 "/v1/things/{thing_id}",
		"/v1/things/42/parts":            "/v1/things/{thing_id}/parts",
	}
	for in, w := range want {
		if got := settled.Resolve(host, in).Template; got != w {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, w)
		}
	}
	var got []string
	for _, s := range seen {
		m := settled.Resolve(host, s)
		if m.Template == "" {
			t.Errorf("%q does not resolve in the merged templater", s)
		}
		if !slices.Contains(got, m.Template) {
			got = append(got, m.Template)
		}
	}
	slices.Sort(got)
	wantAll := []string{"/people/me", "/people/{personId}", "/users/{userId}", "/users/{userId}/orders", "/v1/things/{thing_id}", "/v1/things/{thing_id}/parts"}
	if !slices.Equal(got, wantAll) {
		t.Errorf("merged templates %q, want %q", got, wantAll)
	}
	if s := settled.Stats(); s.Pinned != 1 || s.Templates != 5 {
		t.Errorf("stats %+v", s)
	}
}

func TestMergeTailsAndOverflow(t *testing.T) {
	a := newT(t, Config{MaxTemplates: 1, MaxHosts: 1})
	obs(a, "/a", 0)
	tail := obs(a, "/b/c", 0)
	m, _ := a.Observe("second.example.com", "/x/1", 0, nil)
	settled := newT(t, Config{MaxHosts: 1})
	settled.Merge(a)
	if got := settled.Resolve(host, tail).Template; got != "/{tail}" {
		t.Errorf("tail: %q", got)
	}
	if got := settled.Resolve("second.example.com", m.Template).Template; got != "/x/{xId}" {
		t.Errorf("overflow host: %q", got)
	}
}
