// Package accuracy scores an OpenAPI document that apitap inferred from
// traffic against the spec the traffic was generated from, and runs the
// accuracy benchmark of docs/ACCURACY.md: for each spec the spec-driven
// lab (internal/speclab) records a capture, `apitap analyze` infers a
// document from it (with learned path templates, and again with literal
// paths as the naive baseline), and Score compares the two.
//
// # How the scores are computed
//
// Endpoints. An operation is its method and its full path: the original's
// paths are joined to the base path the lab served them under
// (Score's basePath), the inferred document's paths are joined to the
// path of its servers' URL, if any (apitap writes "http://HOST" and full
// paths). Every "{…}" in a path becomes "{}", so parameter names are
// ignored; nothing else is normalised (case and trailing slashes count).
// Expected counts the original's operations, Inferred the inferred
// document's, Matched those in both; Precision = Matched/Inferred,
// Recall = Matched/Expected, F1 their harmonic mean. For the reader,
// Split counts the unmatched inferred operations that are instances of an
// original template (a literal where the original has a parameter, e.g.
// "/users/42" for "/users/{id}": one original became several), Merged
// the inferred operations that generalise an unmatched original one
// ("/users/{}" absorbing "/users/me").
//
// Parameters, over matched operations only. Expected are the original's
// parameters (path-item and operation level, the operation's winning):
// path parameters by position in the template, found when the inferred
// operation declares a path parameter for the template parameter at the
// same position; query parameters by name, found when the inferred
// operation has a query parameter of that name, or, for deepObject
// parameters, one named "name[…]", or, for exploded form objects, one
// named like a property of the object, or when its security uses an API
// key in the query under that name; header parameters by name, case
// insensitive, found likewise (a parameter, or an API key in a header
// under that name). Standard HTTP headers (Accept, Authorization,
// Content-Type, X-Request-Id, … see analyze.IsStandardHeader, the list
// apitap itself uses) and cookie parameters are not counted: apitap learns neither as parameters (cookies carry sessions
// and are reported as authentication).
//
// Properties, over matched operations only. Each response schema is
// flattened into JSON pointers: object properties as "/name" (escaped as
// RFC 6901 says), array items as "/*", map values (additionalProperties
// or patternProperties with a schema) as "/{}". $refs are resolved, allOf
// branches merged into one object, oneOf and anyOf branches united at the
// same pointer, writeOnly properties dropped (they never appear in
// responses). What a valid value cannot hold is not expected: with
// additionalProperties false a schema allows its own properties only, so
// allOf [{additionalProperties: false, properties: {a}}, {properties:
// {b}}] gives "/a" alone (the same for a oneOf inside an allOf whose
// object branches are all closed). What a valid value must hold is: a
// name in "required" that no schema declares is an untyped, open
// pointer. The root pointer is not a property. Both documents are
// flattened the same way.
//
// The responses compared are those the traffic produced: each response
// status of the inferred operation is mapped to the original's response
// for that code, else its range ("4XX"), else "default"; an original
// response no inferred status maps to was never produced by the lab and
// is left out (Responses.Documented vs Compared). With Options.Samples
// (ScoreWith; the benchmark passes the lab's count of every call), a
// compared response the traffic held fewer than Options.MinSamples times
// is left out as well (Responses.Sparse): one or two samples cannot show
// every optional property or oneOf branch. Content documented for a 204
// or 304 is not compared (HTTP sends none). The JSON media types of a
// response (application/json, anything +json, and "*/*") are united.
//
// Expected counts the original's pointers, Inferred the inferred pointers
// except those below an open node of the original, Matched the pointers
// in both; Recall = Matched/Expected, Precision = Matched/Inferred. An
// open node is one whose children the original does not document: an
// untyped schema, an object with no properties or with
// additionalProperties true or {}, an array without items, and where the
// flattening stops (a recursive $ref met again, or MaxDepth). An inferred
// status that maps to no original response counts its pointers in
// Inferred (Responses.Undocumented).
//
// Types, over matched properties whose original type is known. The JSON
// types of a pointer are united over the schemas met there ("type", 3.1
// type arrays, the types of oneOf/anyOf branches, "object" implied by
// properties, "array" by items, the types of enum/const values); null
// is taken out (nullability is reported apart in Nullable) and number
// absorbs integer. The types agree when the two sets are equal, so an
// integer inferred for a number (or a number for an integer) disagrees;
// IntegerNumber counts those disagreements. A pointer whose original
// schema has no type is not compared.
//
// A ratio with nothing in its denominator is 1 (nothing to find, or
// nothing wrong), except F1, which is 0 when precision and recall are.
//
// Score only reads its arguments and keeps nothing; it is safe to call
// concurrently on the same documents. Run starts processes (the lab,
// apitap) one at a time and is not meant for concurrent use. Nothing here
// keeps package-level state.
package accuracy
