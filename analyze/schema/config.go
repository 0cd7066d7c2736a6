package schema

// Config bounds what a Learner keeps. The zero value is ready to use: every
// zero field takes the default named in its comment. A Config is only read
// (by New), so one value may be shared by any number of learners on any
// goroutines.
type Config struct {
	// MaxDepth is how many levels of nesting are learned (the top-level
	// value is level 1). An object or array nested deeper is summarised as
	// {} (any value) and counted in Dropped().Depth.
	// Zero means 10: real API payloads rarely nest beyond 6 levels, and
	// the bound also bounds the learner's recursion. Values above 64 are
	// treated as 64.
	MaxDepth int

	// MaxProperties is how many distinct properties one object schema
	// keeps. A new key beyond it turns the object into a map when most keys
	// look like data or all values have one type; otherwise it is counted
	// in Dropped().Properties and ignored. Zero means 200: the widest real
	// records (CRM objects with custom fields) have about a hundred.
	MaxProperties int

	// MaxEnum is how many distinct values of a string field are tracked for
	// enum inference; a field with more distinct values is not an enum.
	// Zero means 12, above the size of typical status and type enums.
	// Values above 64 are treated as 64.
	MaxEnum int

	// EnumMinSamples is how many string values a field must have seen
	// before its value set is reported as an enum. Besides that, an enum
	// needs at least k² samples for k values and no new value in the later
	// half of the samples. Zero means 30: with fewer samples a handful of
	// names looks like an enum.
	EnumMinSamples int

	// MapMinKeys is how many distinct keys an object needs before it is
	// turned into a map (additionalProperties with the merged value schema)
	// on statistical evidence: values of one type under keys that mostly
	// look like data or that are each present in less than half of the
	// objects. Objects whose keys look like data (numbers, ids, dates,
	// UUIDs, e-mail addresses; all of two or three keys, three quarters from
	// four keys on) become maps from two keys on. Zero means 20: more than
	// the optional fields one object usually shows, fewer than a map with
	// data keys reaches after a few samples.
	MapMinKeys int

	// MapSparseKeys is how many distinct keys an object needs before it is
	// turned into a map on sparse evidence, whatever its keys look like
	// (words such as "articles_2015" or "blue_cars" included): over at
	// least four objects, no key present in more than half of them, each
	// key present in at most a quarter of them on average, and values of
	// one type. A record has a stable core (some keys in most objects) and
	// does not meet it; a map keyed by user-chosen names, each object
	// naming a few of them, meets it after a handful of objects.
	// Zero means 8: more keys than the few a map object usually holds, so
	// that several objects are needed, and few enough that a map with
	// large values (a settings object per key) is recognised before its
	// keys' value schemas fill MaxNodes.
	MapSparseKeys int

	// MaxExamples is how many distinct example values a leaf keeps
	// (redacted when sensitive, cut to MaxExampleLen). Zero means 2: one
	// for "example" and one more to show variety. A negative value keeps
	// none.
	MaxExamples int

	// MaxExampleLen is the longest example string kept, in bytes; longer
	// values are cut at a UTF-8 boundary and end with "…". Zero means 64.
	MaxExampleLen int

	// StableAfter is how many consecutive samples must leave the inferred
	// schema unchanged before Stable reports true. Zero means 50: optional
	// properties present in a few percent of calls are usually seen by
	// then, and it exceeds EnumMinSamples.
	StableAfter int

	// MaxArrayItems is how many items of one array are examined per
	// sample; the rest are skipped (counted in Dropped().ArrayItems). Zero
	// means 32: item schemas converge within a few items, and a 10 000-item
	// array then costs a scan, not 10 000 joins.
	MaxArrayItems int

	// MaxNodes bounds the schema nodes (one per property, array item
	// schema and map value schema) one Learner keeps, which bounds its
	// memory at about MaxNodes × 0.5 KiB in the worst case. Properties that
	// would exceed it are counted in Dropped().Nodes and ignored. Zero means
	// 1024: the largest body schema of the real specs in ../shared/data
	// needs about 140.
	MaxNodes int
}

// limits is a Config with its defaults applied.
type limits struct {
	maxDepth, maxProps, maxEnum, enumMin, mapMinKeys  int
	mapSparseKeys                                     int
	maxExamples, maxExampleLen, stableAfter, maxItems int
	maxNodes                                          int
}

// Hard caps that keep a careless configuration from defeating the bounds.
const (
	hardMaxDepth = 64
	hardMaxEnum  = 64
	// maxKeyLen is the longest object key kept as a property name; longer
	// keys are counted as dropped properties (maps take any key).
	maxKeyLen = 256
	// maxTextLen is how much of one string value is decoded for formats,
	// enums and classification; longer strings are only typed as strings.
	maxTextLen = 4096
)

func def(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func (c *Config) limits() limits {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	l := limits{
		maxDepth:      min(def(cfg.MaxDepth, 10), hardMaxDepth),
		maxProps:      def(cfg.MaxProperties, 200),
		maxEnum:       min(def(cfg.MaxEnum, 12), hardMaxEnum),
		enumMin:       def(cfg.EnumMinSamples, 30),
		mapMinKeys:    def(cfg.MapMinKeys, 20),
		mapSparseKeys: def(cfg.MapSparseKeys, 8),
		maxExamples:   def(cfg.MaxExamples, 2),
		maxExampleLen: def(cfg.MaxExampleLen, 64),
		stableAfter:   def(cfg.StableAfter, 50),
		maxItems:      def(cfg.MaxArrayItems, 32),
		maxNodes:      def(cfg.MaxNodes, 1024),
	}
	if cfg.MaxExamples < 0 {
		l.maxExamples = 0
	}
	l.mapMinKeys = max(min(l.mapMinKeys, l.maxProps), 2)
	l.mapSparseKeys = max(min(l.mapSparseKeys, l.maxProps), 2)
	return l
}
