// Package schema infers OpenAPI schemas from observed values: JSON request
// and response bodies, form-encoded bodies and the text of path, query and
// header parameters. It produces kin-openapi schemas in OpenAPI 3.0 form.
//
// A Learner accumulates one schema. Each observation joins the value's
// structure into a tree of nodes (one per property, array item schema and
// map value schema): the JSON types seen (integer ∪ number = number, null
// makes nullable, other mixes become oneOf), string formats that every value
// matched (uuid, date-time, date, email, ipv4, ipv6, uri), int32 or int64,
// enums for small stable string value sets, required properties (present in
// every object), maps (objects keyed by data become additionalProperties),
// a couple of redacted examples, and the sensitive-data classes seen per
// field (via package sensitive). Schema renders the tree; Sensitive lists
// the sensitive fields.
//
// Maps: an object becomes a map (additionalProperties with the merged
// schema of its values) when its keys look like data (ids, numbers, dates,
// UUIDs, e-mail addresses); when its key set is sparse (Config.MapSparseKeys
// distinct keys over at least four objects, none in more than half of the
// objects and each in at most a quarter on average, values of one type),
// which catches maps keyed by user-chosen words ("blue_cars",
// "articles_2015") that records with a stable core never match; or from
// Config.MapMinKeys keys on, on looser evidence. The decisions depend on
// counts that Merge adds up, so one learner and a merge of learners over
// the same objects decide alike. Once an object is a map, its keys are no
// longer kept.
//
// Parsing: ObserveJSON does not build a value tree. It checks the whole
// body with an iterative validator (a bit per nesting level, so depth
// cannot exhaust the stack), then walks it once more with a small
// recursive learner bounded by Config.MaxDepth, skipping deeper values
// iteratively. An invalid body leaves the learner unchanged. Steady-state
// observations of bodies of a known shape allocate nothing: property names
// are looked up without copying, classification and formats work on the
// body's bytes, and decoded strings go through a bounded scratch buffer.
//
// Ownership and concurrency: a Learner never keeps the bytes or strings it
// is given; what it keeps is copied, bounded by its Config, and never holds
// a raw value classified as sensitive (only sensitive.Redact placeholders).
// A Learner is not safe for concurrent use; distinct Learners are
// independent. Schema and Sensitive return fresh values owned by the
// caller. A Config is only read and may be shared. Shape is a pure
// function, safe anywhere.
package schema
