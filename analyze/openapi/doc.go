// Package openapi exports an analyze.Inventory as an OpenAPI document, loads
// published OpenAPI documents, and compares two documents.
//
// Export. Build turns an inventory snapshot into one OpenAPI document
// (3.0.3 by default, 3.1.0 on request): one server per host, one path per
// endpoint template, operations with their parameters, request bodies and
// responses per status code and content type, security schemes from the
// authentication seen, and x-apitap-* extensions with the traffic figures
// (calls, clients, first and last seen, latency quantiles, sensitive
// fields). BuildPerHost makes one document per host (HostFileName gives
// each a safe file name). Every document Build
// returns has passed kin-openapi's validation for its version; Build
// returns an error instead of an invalid document. Marshal renders a
// document as YAML or JSON with a fixed key order (OpenAPI keys in reading
// order, names of paths, properties, responses and the like sorted), so the
// same inventory always gives the same bytes.
//
// Import. Load reads a YAML or JSON document (OpenAPI 3.0.x or 3.1.x, or
// Swagger 2.0, which is converted to 3.0), resolves its $refs (within the
// file and to other files on the local file system, never over the
// network) and validates it. Templates lists the operations a document
// describes with their full path templates (server base path included), for
// pinning them before learning.
//
// Comparison. Diff compares a reference document (what is documented) with
// an observed one (usually Build's output): shadow operations (observed,
// not documented), zombie operations (documented, not observed) and drift
// in the operations both have (undocumented parameters, properties, status
// codes and content types, and type changes). Operations match on method
// and full path template with parameter names ignored.
//
// Ownership and concurrency: Build and BuildPerHost only read the
// inventory (schemas included; what they put in the document is a copy),
// so one inventory may be exported by several goroutines at once. The
// documents they return belong to the caller. Marshal, Templates and Diff
// only read the documents they are given and may run concurrently on the
// same document as long as nobody modifies it. The package has no state of
// its own.
package openapi
