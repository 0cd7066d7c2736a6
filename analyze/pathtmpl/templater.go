package pathtmpl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Config configures a Templater.
type Config struct {
	// MaxTemplates caps the templates learned per host (0: 2000). Past the
	// cap, a new path is folded into a tail template under its longest
	// known prefix ("/a/b/{tail}"), so memory stays bounded;
	// Stats().Folded counts the paths attributed to tail templates.
	// Pinned and spec templates do not count toward the cap.
	MaxTemplates int
	// MinValues is the evidence threshold: distinct plain-word values at
	// one position under one prefix before that position becomes a
	// parameter (0: 8). Positions right after a parameter and the first
	// segment of a path need twice as many. 8 because the closed sets of
	// literal siblings an API has at one position (sub-resources and
	// actions of a resource: Meilisearch has 7 under /indexes/{indexUid})
	// rarely exceed it, while a real parameter (usernames, slugs, index
	// names) shows eight distinct values within the first few dozen calls.
	MinValues int
	// Literal turns templating off: every distinct path is its own
	// template (the naive baseline of the accuracy benchmark). Pinned
	// templates still apply, and so does MaxTemplates.
	Literal bool
	// MaxHosts caps the hosts that get their own templates (0: 4096);
	// paths of further hosts share one overflow set of templates
	// (Stats().OverflowPaths counts them). Pin creates hosts past the cap.
	MaxHosts int
	// MaxDepth caps the segments of a path that are templated (0: 32);
	// the rest of a deeper path is folded into a tail template.
	MaxDepth int
	// MaxTotalTemplates caps the templates learned over all hosts (0:
	// 50000), so that a flood of random Host headers, each with its own
	// MaxTemplates, cannot grow memory without bound: past it new paths of
	// every host fold into tail templates as past MaxTemplates.
	MaxTotalTemplates int
}

// Origin says where a template came from.
type Origin uint8

// Origins.
const (
	Learned Origin = iota // inferred from the traffic
	Pinned                // configured by the user
	Spec                  // from a given OpenAPI document
)

// String returns "learned", "pinned" or "spec".
func (o Origin) String() string {
	switch o {
	case Learned:
		return "learned"
	case Pinned:
		return "pinned"
	case Spec:
		return "spec"
	}
	return "unknown"
}

// Match is the template a path was attributed to.
type Match struct {
	// Template is the path template, OpenAPI syntax ("/users/{userId}/orders");
	// never allocated per call once the template is known. Empty when
	// Resolve does not know the path.
	Template string
	Origin   Origin
}

// PathParam is the value of one parameter segment of a matched path.
// Value aliases the path passed in.
type PathParam struct{ Name, Value string }

// TailParam is the name of the parameter of a tail template: its value is
// the rest of the path from the tail's position.
const TailParam = "tail"

// Stats are the Templater's counters.
type Stats struct {
	Paths    int64 // Observe calls
	Learning int64 // Observe calls that took a write lock to learn something
	Hosts    int   // hosts with their own templates (the overflow set counts as one when used)
	// Templates is the number of learned templates over all hosts (merges
	// make it go down), MaxHostTemplates that of the host with the most.
	Templates, MaxHostTemplates int
	Pinned                      int   // pinned and spec templates over all hosts
	Tails                       int   // tail templates over all hosts
	Promoted                    int64 // positions that became a parameter on evidence
	Structural                  int64 // literal siblings merged into a parameter because their subtrees are alike
	Merged                      int64 // templates merged into another by promotions and pins
	Folded                      int64 // Observe calls attributed to a tail template
	OverflowPaths               int64 // Observe calls of hosts past MaxHosts
}

// Templater attributes request paths to path templates, per host, and
// learns the templates from the paths it sees. It is safe for concurrent
// use: each host's templates are a tree guarded by its own sync.RWMutex;
// a path whose template is known (and that brings no new evidence) is
// matched under the read lock without allocating, and only a path that
// teaches something takes the write lock.
type Templater struct {
	cfg Config

	// hosts is copied on write (the read path loads it without a lock);
	// mu serialises the writers, the overflow tree's creation and global.
	hosts    atomic.Pointer[map[string]*tree]
	overflow atomic.Pointer[tree]
	mu       sync.Mutex
	global   []pinned // Pin("", …) templates, applied to every host

	learning, promoted, structural, merged, folded, overflowed, paths atomic.Int64
	// learnedTotal counts the learned templates of every tree
	// (MaxTotalTemplates).
	learnedTotal atomic.Int64
}

type pinned struct {
	origin Origin
	tmpl   string
	segs   []pinSeg
}

// New returns a Templater.
func New(cfg Config) (*Templater, error) {
	if cfg.MaxTemplates < 0 || cfg.MinValues < 0 || cfg.MaxHosts < 0 || cfg.MaxDepth < 0 || cfg.MaxTotalTemplates < 0 {
		return nil, errors.New("pathtmpl: negative limit in config")
	}
	if cfg.MaxTemplates == 0 {
		cfg.MaxTemplates = 2000
	}
	if cfg.MinValues == 0 {
		cfg.MinValues = 8
	}
	if cfg.MinValues < 2 {
		return nil, fmt.Errorf("pathtmpl: MinValues %d: at least 2 values are needed as evidence", cfg.MinValues)
	}
	if cfg.MaxHosts == 0 {
		cfg.MaxHosts = 4096
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = 32
	}
	if cfg.MaxTotalTemplates == 0 {
		cfg.MaxTotalTemplates = 50000
	}
	t := &Templater{cfg: cfg}
	t.hosts.Store(&map[string]*tree{})
	return t, nil
}

// Pin adds templates (OpenAPI path syntax, "/users/{id}", also
// "/files/{name}.{ext}") for host ("" = every host, present and future)
// with the origin given (Pinned or Spec). A pinned template wins over
// learning: its parameters match any value at once (no evidence needed),
// learned literals and parameters at its parameter positions are merged
// into it, and its names are used. A literal pinned sibling beats a
// parameter. Paths under no pinned template are learned as usual, also
// below a pinned prefix. Pinning a template again replaces its origin.
// Errors name the bad template and wrap ErrBadTemplate; the templates
// before it are pinned.
func (t *Templater) Pin(host string, origin Origin, templates ...string) error {
	if origin != Pinned && origin != Spec {
		return fmt.Errorf("pathtmpl: pin: origin %v: must be pinned or spec", origin)
	}
	for _, tmpl := range templates {
		segs, err := parseTemplate(tmpl)
		if err != nil {
			return fmt.Errorf("pathtmpl: pin %q: %w: %w", tmpl, ErrBadTemplate, err)
		}
		p := pinned{origin: origin, tmpl: strings.Clone(tmpl), segs: segs}
		if host == "" {
			t.mu.Lock()
			t.global = append(t.global, p)
			t.mu.Unlock()
			// A tree made meanwhile got p from newTree too; pinning
			// twice is harmless.
			for _, tr := range t.trees() {
				tr.mu.Lock()
				tr.pin(p)
				tr.mu.Unlock()
			}
			continue
		}
		tr := t.treeFor(host, true)
		tr.mu.Lock()
		tr.pin(p)
		tr.mu.Unlock()
	}
	return nil
}

// Observe attributes a request path (no query) on host to a template and
// learns from it. Host is compared exactly (the caller normalises case and
// port). shape is a fingerprint of the call's request/response shape
// (Shape computes it; 0 = unknown) used as evidence when deciding whether
// plain-word values at a position are one parameter. It appends the
// parameter values of the match to params (Values alias path) and returns
// it. Safe for concurrent use; no allocation when the template is known
// and params has room.
func (t *Templater) Observe(host, path string, shape uint64, params []PathParam) (Match, []PathParam) {
	tr := t.treeFor(host, false)
	t.paths.Add(1)
	base := len(params)
	tr.mu.RLock()
	m, params, ok := tr.match(path, shape, false, params, modeObserve, true)
	tr.mu.RUnlock()
	if ok {
		return m, params
	}
	t.learning.Add(1)
	tr.mu.Lock()
	m, params = tr.learn(path, shape, params[:base])
	tr.mu.Unlock()
	return m, params
}

// Shaper computes the shape of the call being observed (see Shape).
type Shaper interface {
	Shape() uint64
}

// ObserveLazy is Observe with the shape computed only when the templater
// needs it as evidence: the calls of a settled template need none, and
// fingerprinting their bodies would cost more than the rest of Observe.
// s.Shape is called at most once. Safe for concurrent use; no allocation
// when the template is known and params has room.
func (t *Templater) ObserveLazy(host, path string, s Shaper, params []PathParam) (Match, []PathParam) {
	tr := t.treeFor(host, false)
	base := len(params)
	tr.mu.RLock()
	m, params, ok := tr.match(path, 0, true, params, modeObserve, true)
	tr.mu.RUnlock()
	if ok {
		t.paths.Add(1)
		return m, params
	}
	return t.Observe(host, path, s.Shape(), params[:base])
}

// Resolve returns the current template for a path, or for a template
// returned earlier by Observe (templates change as evidence arrives:
// "/users/alice" can later become "/users/{userId}"), without learning.
// The zero Match when the host or the path is unknown. Safe for
// concurrent use; it allocates nothing.
func (t *Templater) Resolve(host, pathOrTemplate string) Match {
	tr := t.lookup(host)
	if tr == nil {
		return Match{}
	}
	tr.mu.RLock()
	m, _, ok := tr.match(pathOrTemplate, 0, false, nil, modeResolve, false)
	tr.mu.RUnlock()
	if !ok {
		return Match{}
	}
	return m
}

// Templates returns the current templates of host, sorted. For tests and
// inspection; it allocates.
func (t *Templater) Templates(host string) []Match {
	tr := t.lookup(host)
	if tr == nil {
		return nil
	}
	var out []Match
	tr.mu.RLock()
	tr.root.walk(func(n *node) {
		if n.end != nil {
			out = append(out, Match{Template: n.end.template, Origin: n.end.origin})
		}
	})
	tr.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Template < out[j].Template })
	return out
}

// Stats returns the counters. Safe for concurrent use.
func (t *Templater) Stats() Stats {
	s := Stats{
		Paths:         t.paths.Load(),
		Learning:      t.learning.Load(),
		Promoted:      t.promoted.Load(),
		Structural:    t.structural.Load(),
		Merged:        t.merged.Load(),
		Folded:        t.folded.Load(),
		OverflowPaths: t.overflowed.Load(),
	}
	trees := t.trees()
	s.Hosts = len(trees)
	for _, tr := range trees {
		tr.mu.RLock()
		s.Templates += tr.learned
		s.MaxHostTemplates = max(s.MaxHostTemplates, tr.learned)
		s.Pinned += tr.pinned
		s.Tails += tr.tails
		tr.mu.RUnlock()
	}
	return s
}

// trees returns every tree (the overflow tree last).
func (t *Templater) trees() []*tree {
	m := *t.hosts.Load()
	trees := make([]*tree, 0, len(m)+1)
	for _, tr := range m {
		trees = append(trees, tr)
	}
	if ov := t.overflow.Load(); ov != nil {
		trees = append(trees, ov)
	}
	return trees
}

// lookup returns the tree of host without creating it: the overflow tree
// for a host that was sent there.
func (t *Templater) lookup(host string) *tree {
	m := *t.hosts.Load()
	if tr := m[host]; tr != nil {
		return tr
	}
	if len(m) >= t.cfg.MaxHosts {
		return t.overflow.Load()
	}
	return nil
}

// treeFor returns the tree of host, creating it (past MaxHosts: the
// shared overflow tree, unless force).
func (t *Templater) treeFor(host string, force bool) *tree {
	m := *t.hosts.Load()
	if tr := m[host]; tr != nil {
		return tr
	}
	if ov := t.overflow.Load(); ov != nil && !force && len(m) >= t.cfg.MaxHosts {
		t.overflowed.Add(1)
		return ov
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m = *t.hosts.Load()
	if tr := m[host]; tr != nil {
		return tr
	}
	if !force && len(m) >= t.cfg.MaxHosts {
		ov := t.overflow.Load()
		if ov == nil {
			ov = t.newTree()
			t.overflow.Store(ov)
		}
		t.overflowed.Add(1)
		return ov
	}
	tr := t.newTree()
	nm := make(map[string]*tree, len(m)+1)
	for k, v := range m {
		nm[k] = v
	}
	nm[strings.Clone(host)] = tr
	t.hosts.Store(&nm)
	return tr
}

// newTree returns an empty tree with the global pins applied; t.mu held.
func (t *Templater) newTree() *tree {
	tr := &tree{t: t, root: &node{}}
	for _, p := range t.global {
		tr.pin(p)
	}
	return tr
}
