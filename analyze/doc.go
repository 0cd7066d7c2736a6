// Package analyze turns transactions into an API inventory: endpoints keyed
// by host, method and path template, with traffic statistics, the
// authentication schemes and sensitive data seen, and the request and
// response schemas learned from the calls.
//
// Data contract: the Analyzer observes each reassembly.Transaction on the
// goroutine that produced it (a reassembly worker) and sets its Endpoint
// field before the transaction is handed on to storage. Observe is safe
// for concurrent use; it does not keep the transaction or any of its
// slices after returning (what it learns is copied). Snapshot returns an
// Inventory that owns its memory.
//
// The subpackages hold the capabilities the Analyzer combines:
// pathtmpl (path templating), schema (type inference for JSON, form and
// parameter values), sensitive (classification of sensitive values and
// authentication schemes) and openapi (export, loading and comparison of
// OpenAPI documents).
package analyze
