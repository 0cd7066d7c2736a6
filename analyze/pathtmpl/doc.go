// Package pathtmpl attributes request paths to path templates
// ("/users/42/orders" → "/users/{userId}/orders") and learns the templates
// from the traffic, per host.
//
// # Data contract
//
// Templater.Observe takes a host, a path (no query) and a shape
// fingerprint of the call (Shape), returns the template and appends the
// parameter values (substrings of the path passed in: they alias it) to
// the caller's slice. Template strings are owned by the Templater and
// never change: when a template evolves ("/users/alice" becomes
// "/users/{userId}") a new string is made, and Resolve maps the old one
// (or any path) to the current one, so the analyzer can re-key what it
// keyed by an earlier template. Nothing passed in is kept: segments and
// hosts that are stored are copied.
//
// # Concurrency
//
// Every method is safe for concurrent use. Each host's templates are a
// tree behind its own sync.RWMutex: a path whose template is known and that
// brings no new evidence is matched under the read lock, without
// allocating; only a path that teaches something (a new segment, a new
// template, a shape not seen yet for a plain-word candidate) takes the
// write lock.
//
// # Templating
//
// Segments are classified by Classify. Typed segments (integers, UUIDs,
// hex strings and hashes, Mongo ObjectIds, dates, e-mail and IP addresses,
// opaque tokens) become a parameter at once. A plain word that looks like
// the values of the typed parameter next to it (same prefix, length and
// character classes: a 12-character base62 id that happens to have no
// digit) joins that parameter. Fixed words (a list of common API words,
// versions, technical tokens) are literal unless structural evidence (below)
// says otherwise. Plain words are literal until evidence promotes their
// position to a parameter:
//
//   - the position (one child position under one prefix node) has at least
//     Config.MinValues distinct plain-word values (twice as many for the
//     first segment of a path and for the position right after a
//     parameter: both are where APIs put resource names and actions);
//   - values that have a parameter child themselves are collections
//     ("/crm/companies/{id}") and are left out;
//   - the shapes of the calls that ended at those values agree: for each
//     method and status class seen on three values or more, the largest
//     set of values with similar shapes (same body kinds, overlapping
//     top-level keys) holds two thirds of them, and at least MinValues
//     values share one similar shape (values never seen with a shape
//     count with every set). Meilisearch's 21 settings under
//     "/indexes/{indexUid}/settings/" fail this (arrays, objects,
//     strings and numbers come back from their GETs), its index names
//     pass it.
//
// Promotion merges the agreeing values (their subtrees merged as well)
// into one parameter; values whose calls clearly differ from the others
// (another body kind, disjoint keys), collections and fixed words stay
// literal siblings (unless their subtrees say otherwise: structural
// evidence, below), and a literal sibling beats the parameter: after
// "/users/{userId}" is learned, "/users/me" and "/users/search" still
// match literally, and so does a fixed word seen for the first time
// later. The evidence is kept per position under a prefix, and the
// children of a parameter are learned per position too: "documents" and
// "settings" under "/indexes/{indexUid}" are judged among themselves.
// Candidates kept per position are bounded (twice the threshold plus 8,
// then only a count); after promotion the evidence is dropped.
//
// # Structural evidence
//
// Values are not always plain words, nor many: a real deployment has a
// handful of Meilisearch indexes, fewer than MinValues, and names them with
// fixed words ("articles", "users", "events"). Sibling subtrees are the
// evidence then: literal siblings at one position whose subtrees look
// alike are one parameter, whatever their number and kind.
//
//   - Pinned siblings, collections (a parameter child of their own) and
//     the alias words "me", "my", "mine", "self", "current" and "whoami"
//     (the caller's own resource: "/users/me/orders" next to
//     "/users/{userId}/orders" stays literal) are never judged.
//   - Two siblings are alike when they share three literal children or
//     more, and at least half of the children of both (Jaccard ≥ 0.5).
//   - Without a parameter at the position, the largest group of siblings
//     each alike with two thirds of the others at least (all of them in
//     a group of three) becomes the parameter when it has three members;
//     six at the first segment of a path and right after a parameter, as
//     for MinValues.
//   - Where the position has a parameter already (typed, or promoted on
//     either evidence), a sibling joins it when three of its descendants
//     or more, down to three levels, and three quarters of them at least,
//     are paths the parameter's subtree has too ("settings/chat" under
//     "/indexes/users" and under "/indexes/{indexId}"). The parameter's
//     subtree is the union of many values': a sibling seen in a few calls
//     has few children, but what it has is known there.
//   - The plain-word candidates of the position join the new parameter
//     too, unless their calls clearly differ from the others' (as when
//     Merge brings a promoted position): the parameter they would have
//     joined had they come later.
//
// Why these numbers: different resources of one API share a child or two
// ("/users/search" and "/orders/search"; parameter children do not count:
// "/crm/companies/{id}" and "/crm/contacts/{id}" are collections anyway),
// and two alike subtrees can be two flavours of one thing; three siblings
// sharing three children each, most of what they have, are a pattern.
// Meilisearch's indexes share seven (documents, search, settings, stats,
// similar, facet-search, delete-batch). The Jaccard bound keeps apart a
// resource that has three generic children ("health", "metrics",
// "config") among many of its own, and so does the three-quarters bound
// next to a parameter, where the parameter's side is a union and only the
// sibling's unknown paths can tell. The fixed words merged into a parameter
// are kept with it (at most 64), so that they match it from then on where
// another fixed word makes a literal sibling.
//
// Limits: the evidence is judged as it comes, so siblings that look alike
// before their differences show are promoted (promotion is never undone);
// with two families of alike siblings at one position, the first to show
// gets the parameter; an API whose resources all have the same three
// action children or more and no id below them
// ("/admin/users/{export,import,stats}", "/admin/orders/{export,…}", …)
// is templated as one parameter: pin its templates.
//
// Parameter names follow the resource: the previous literal segment
// (versions and "api"-like words skipped), singularised, + "Id"
// ("/users/{userId}", "/indexes/{indexId}", "/categories/{categoryId}");
// "{id}" after a parameter or at the start; "{date}" for dates; a name
// used twice in one template gets a number ("{id}", "{id2}").
//
// Pinned and spec templates (Pin) apply at once: their parameters match
// any value, their literals beat parameters, their names are used, and
// paths under no pinned template are learned as usual.
//
// # Bounds
//
// At most Config.MaxTemplates learned templates per host: past the cap a
// new path is folded into a tail template under its longest known prefix
// ("/x/{tail}"); paths deeper than Config.MaxDepth are folded likewise;
// hosts past Config.MaxHosts share one overflow tree; segments longer than
// 128 bytes are typed (never stored as literals, except in Literal mode).
// Merges give templates back, so a flood of random words under one prefix
// ends as one parameter (or a tail) in bounded memory: about 250 bytes per
// learned template. Structural evidence judges at most 64 siblings per
// position together, and a parameter takes at most 64 fixed words.
package pathtmpl
