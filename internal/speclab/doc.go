// Package speclab is the spec-driven traffic lab: from a real OpenAPI
// document (3.0 or 3.1) it serves every operation on loopback with
// schema-valid, varied responses, calls every operation with varied valid
// requests, and records the traffic with tcpdump as a capture the accuracy
// benchmark (internal/accuracy) feeds to the pipeline and scores against
// the document.
//
// Record does it all: it loads the spec (kin-openapi, external references
// off), plans CallsPerOperation requests per operation, starts a Server on
// 127.0.0.1 (a kernel-chosen port) and a tcpdump on lo filtered to that port
// (internal/lab.StartCapture), sends the requests from four keep-alive
// connections (source addresses 127.0.0.11 to .14, each a client identity
// with its own user agent and credentials), and stops the capture once
// every connection is closed, so the file is complete. It returns the
// capture's path, the host and base path used, counts, and the ground truth
// of every call (also written to calls.jsonl).
//
// What the traffic looks like:
//   - Paths are the base path (from the spec's first server URL) plus the
//     template with identifiers in the style the spec suggests for each
//     parameter: integers, UUIDs, base62 ("tiSTSUzh4BwtvYSLWPsqu9"),
//     prefixed ids ("cus_8f3aK2xQ9LmN"), slugs ("star-wars-iv"), usernames
//     ("john.doe42"), plain words ("movies_v2"), or the example's own shape
//     ("bookTitle77"); a resource without any hint gets prefixed or base62
//     ids. Values never resolve to a literal sibling template (no username
//     "me" next to /users/me): the planner routes every path it builds.
//   - Query parameters: required ones always, optional ones half the time,
//     serialised per style and explode (form, deepObject, delimited).
//     Header parameters keep one value per client (the spec's example when
//     it has one). Credentials follow the security schemes: bearer JWT or
//     opaque keys per bearerFormat, API keys in header, query or cookie,
//     Basic.
//   - Bodies come from Generator: JSON, form-urlencoded, multipart (binary
//     properties as file parts) and text, per the media type.
//   - The server answers each operation's k-th call with a documented
//     status: one call in 8 gets one of the documented 4xx (cycling through
//     them), the others mostly the first 2xx, sometimes another documented
//     2xx; its bodies are generated from the response schema.
//
// Determinism: everything random derives from Config.Seed. Each operation's
// calls go over one connection, in an order fixed by the seed, and the
// server's answer depends only on the seed, the request and how many
// requests of the same operation and identical requests came before it;
// responses carry no Date header. Two recordings of one seed hold the same
// bytes on every connection (ports and timestamps aside).
//
// Generator produces values valid against a schema as kin-openapi's
// VisitJSON checks them (with openapi3.EnableJSONSchema2020 for 3.1
// documents): types, formats, enums and const, bounds, patterns (through a
// small generator over regexp/syntax), lengths, minItems/maxItems and
// uniqueItems, prefixItems, required and optional properties (present 85%
// of the time), readOnly/writeOnly per direction, nullable values null 8%
// of the time (3.0 nullable, 3.1 type null), allOf merged, oneOf resolved
// so exactly one branch matches, anyOf, maps (additionalProperties, keys
// from propertyNames) with data-like varying keys, and free-form schemas as
// small documents. Strings and numbers look like their property's name
// (emails, names, dates, prices, counts …). A schema no value satisfies
// gives ErrUnsatisfiable.
//
// Concurrency: a Spec is read-only once loaded and safe for concurrent use;
// a Generator is not (one per goroutine); Server's ServeHTTP, Served and
// Failures are safe for concurrent use. Record may run concurrently with
// itself with different Dirs.
package speclab
