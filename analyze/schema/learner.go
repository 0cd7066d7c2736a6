package schema

import (
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apitap/apitap/analyze/sensitive"
)

// kind is a bit set of the JSON types a node has seen.
type kind uint8

const (
	kNull kind = 1 << iota
	kBool
	kInt
	kNum
	kStr
	kObj
	kArr
	kAny // a container deeper than MaxDepth: any value
)

// example is one kept example value: the JSON literal of a number or
// boolean, or a string value (redacted when it was sensitive). cut says the
// string was cut and prints with a trailing "…".
type example struct {
	k    kind
	cut  bool
	text string
}

// node is the learned state of one position in the documents: the root
// value, a property, the items of an array or the values of a map.
type node struct {
	key   string // property name; "*" for array items and map values; "" for the root
	field string // name that classifies values: the nearest property name
	// nameSens says field is evidence for sensitive.Field (decided once).
	nameSens bool
	idx      int // position in parent.order

	kinds kind
	text  bool // values came as text: mixed types widen to string

	nStr, nObj int64 // values of these kinds seen
	present    int64 // objects of the parent that had this property
	seenAt     int64 // parent.nObj serial of the last object that had it
	optional   bool  // present < parent.nObj, as last reported

	format    format
	wide      bool // an integer outside int32
	enumDead  bool
	enumOn    bool
	enumNewAt int64 // nStr when the last new enum value appeared
	enum      []string
	redacted  bool // a redacted example is kept; more would only repeat it

	examples []example

	classes      sensitive.Class // classes seen in the values
	sensCount    int64
	keyClasses   sensitive.Class // classes seen in a map's keys
	keySensCount int64

	// Objects.
	props      map[string]*node
	order      []*node // properties in first-seen order
	cursor     int     // next expected property: keys usually repeat in order
	dataKeys   int     // properties whose key looks like data
	presentSum int64   // sum over objects of the properties present
	maxPresent int64   // the largest present of the properties
	refused    int64   // occurrences of new keys MaxNodes kept out
	isMap      bool
	mapVal     *node

	// Arrays.
	items *node

	// partial says a child could not be created (MaxNodes was reached):
	// what this node learned lacks some of its values' structure.
	partial bool
}

// Dropped counts what the bounds of Config made a Learner ignore.
type Dropped struct {
	Properties int64 // keys beyond MaxProperties, or longer than 256 bytes
	Nodes      int64 // properties and item schemas not created: MaxNodes reached
	Depth      int64 // objects and arrays deeper than MaxDepth, summarised as {}
	ArrayItems int64 // array items beyond MaxArrayItems, skipped
}

// Learner infers one schema from the values it observes: the JSON bodies
// of one endpoint's requests (or of its responses with one status code),
// form bodies, or the text values of one parameter.
//
// A Learner is not safe for concurrent use. It never keeps the slices or
// strings passed to it: what it keeps (property names, enum candidates,
// redacted examples) is copied, and its memory is bounded by its Config
// (MaxNodes schema nodes, each with bounded enum and example storage)
// regardless of its input. Raw values that are classified as sensitive are
// never stored.
type Learner struct {
	lim     limits
	root    *node
	nodes   int // live nodes, root included
	samples int64
	// lastChange is the sample that last changed the inferred schema.
	lastChange int64
	dropped    Dropped
	buf        []byte // decoded string values (≤ maxTextLen + 4)
	keyBuf     []byte // decoded keys (≤ maxKeyLen + 4)
}

// Field is a field of the learned documents that held sensitive values.
type Field struct {
	// Pointer is the JSON pointer of the field ("/user/email"); array items
	// and map values are "*" ("/items/*/card"). For text values (ObserveText,
	// ObserveParam) it is "". A map whose keys are sensitive is reported at
	// the map's own pointer.
	Pointer string
	Classes sensitive.Class
	Count   int64 // values classified as sensitive
}

// New returns an empty Learner bounded by cfg. cfg is only read, during New;
// nil means the zero Config.
func New(cfg *Config) *Learner {
	return &Learner{lim: cfg.limits()}
}

// Samples returns how many observations were learned from (invalid bodies
// are not counted).
func (l *Learner) Samples() int64 { return l.samples }

// Stable reports whether the inferred schema has not changed over the last
// StableAfter samples. Types, formats, enums, required properties, maps and
// nullability count as changes; counts and examples do not. A merge that
// changes the schema restarts the count.
func (l *Learner) Stable() bool {
	return l.samples > 0 && l.samples-l.lastChange >= int64(l.lim.stableAfter)
}

// Dropped returns what the bounds made the learner ignore so far.
func (l *Learner) Dropped() Dropped { return l.dropped }

func (l *Learner) changed() { l.lastChange = l.samples }

func (l *Learner) rootNode() *node {
	if l.root == nil {
		l.root = &node{}
		l.nodes++
	}
	return l.root
}

// newNode creates a child of parent, or returns nil when MaxNodes is
// reached.
func (l *Learner) newNode(parent *node, key string) *node {
	if l.nodes >= l.lim.maxNodes {
		l.dropped.Nodes++
		parent.partial = true
		return nil
	}
	l.nodes++
	n := &node{key: key, field: key, text: parent.text}
	if key == "*" {
		n.field, n.nameSens = parent.field, parent.nameSens
	} else {
		n.nameSens = nameMatters(key)
	}
	return n
}

func (l *Learner) addKind(n *node, k kind) {
	if n.kinds&k == 0 {
		n.kinds |= k
		l.changed()
	}
}

// ustr views b as a string for a call that does not keep it.
func ustr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ubytes views s as bytes for reading only.
func ubytes(s string) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// ObserveJSON learns from one JSON document (a request or response body).
// A body that is not exactly one JSON value returns an error wrapping
// ErrInvalidJSON and leaves the learner unchanged: the body is checked
// completely before anything is learned. The learner does not keep body.
// Steady-state observations of documents of a known shape allocate
// nothing.
func (l *Learner) ObserveJSON(body []byte) error {
	if err := validate(body); err != nil {
		return err
	}
	l.samples++
	l.value(l.rootNode(), body, skipWS(body, 0), 1)
	return nil
}

// value learns the value at b[i] into n, at nesting level depth, and
// returns the index after it.
func (l *Learner) value(n *node, b []byte, i, depth int) int {
	switch c := b[i]; c {
	case '{':
		return l.object(n, b, i, depth)
	case '[':
		return l.array(n, b, i, depth)
	case '"':
		e, esc := stringEnd(b, i+1)
		raw := b[i+1 : e]
		if esc {
			var ok bool
			l.buf, ok = unescape(l.buf[:0], raw, maxTextLen)
			l.str(n, l.buf, !ok, n.field)
		} else {
			l.str(n, raw, false, n.field)
		}
		return e + 1
	case 't':
		l.boolean(n, "true")
		return i + 4
	case 'f':
		l.boolean(n, "false")
		return i + 5
	case 'n':
		l.addKind(n, kNull)
		return i + 4
	default:
		e, integer, _ := scanNumber(b, i)
		l.number(n, b[i:e], integer, n.field)
		return e
	}
}

// deep summarises a container nested deeper than MaxDepth.
func (l *Learner) deep(n *node, b []byte, i int) int {
	l.addKind(n, kAny)
	l.dropped.Depth++
	return skipValue(b, i)
}

func (l *Learner) object(n *node, b []byte, i, depth int) int {
	if depth > l.lim.maxDepth {
		return l.deep(n, b, i)
	}
	o := l.objBegin(n)
	i = skipWS(b, i+1)
	if b[i] == '}' {
		l.objEnd(n, &o)
		return i + 1
	}
	for {
		ke, esc := stringEnd(b, i+1)
		key := b[i+1 : ke]
		long := false
		if esc {
			var ok bool
			l.keyBuf, ok = unescape(l.keyBuf[:0], key, maxKeyLen+1)
			key, long = l.keyBuf, !ok
		}
		i = skipWS(b, ke+1)
		i = skipWS(b, i+1) // after ':'
		if child := l.objKey(n, &o, key, long); child != nil {
			i = l.value(child, b, i, depth+1)
		} else {
			i = skipValue(b, i)
		}
		i = skipWS(b, i)
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		l.objEnd(n, &o)
		return i + 1
	}
}

// objState follows one object while its keys are learned.
type objState struct {
	serial int64 // n.nObj for this object
	seen   int   // distinct known properties present
	added  bool  // a property was added
}

func (l *Learner) objBegin(n *node) objState {
	l.addKind(n, kObj)
	n.nObj++
	n.cursor = 0
	return objState{serial: n.nObj}
}

// objKey returns the node that learns the value of key, or nil when the
// value is to be skipped. long says key was longer than maxKeyLen.
func (l *Learner) objKey(n *node, o *objState, key []byte, long bool) *node {
	if n.isMap {
		return l.mapKey(n, key)
	}
	var c *node
	if n.cursor < len(n.order) && n.order[n.cursor].key == string(key) {
		c = n.order[n.cursor]
	} else if c = n.props[string(key)]; c == nil {
		if c = l.addProp(n, o, key, long); c == nil || n.isMap {
			return c
		}
	}
	n.cursor = c.idx + 1
	if c.seenAt != o.serial {
		c.seenAt = o.serial
		c.present++
		if c.present > n.maxPresent {
			n.maxPresent = c.present
		}
		o.seen++
	}
	return c
}

// addProp adds a property to object n, or turns n into a map when the key
// is evidence of one; it returns the node for the key's value, or nil.
func (l *Learner) addProp(n *node, o *objState, key []byte, long bool) *node {
	if long || len(key) > maxKeyLen || !utf8.Valid(key) {
		l.dropped.Properties++
		return nil
	}
	if c := sensitive.Value(ustr(key)); c != 0 {
		// A sensitive key is data: never keep it as a property name.
		l.toMap(n)
		return l.mapKey(n, key)
	}
	if len(n.order) >= l.lim.maxProps {
		if n.dataKeys*2 >= len(n.order) || homogeneous(n) {
			l.toMap(n)
			return l.mapKey(n, key)
		}
		l.dropped.Properties++
		return nil
	}
	c := l.newNode(n, string(key))
	if c == nil {
		// MaxNodes reached. An object that keeps bringing new keys when
		// no more can be kept may be a map whose values filled the
		// nodes before it showed: a map frees them.
		n.refused++
		if l.sparseMap(n) {
			l.toMap(n)
			return l.mapKey(n, key)
		}
		return nil
	}
	if n.props == nil {
		n.props = make(map[string]*node)
	}
	c.idx = len(n.order)
	n.props[c.key] = c
	n.order = append(n.order, c)
	if isDataKey(key) {
		n.dataKeys++
	}
	c.optional = o.serial > 1 // absent from the earlier objects
	o.added = true
	l.changed()
	return c
}

// mapKey classifies a map key and returns the map's value node.
func (l *Learner) mapKey(n *node, key []byte) *node {
	if c := sensitive.Value(ustr(key)); c != 0 {
		n.keyClasses |= c
		n.keySensCount++
	}
	return n.mapVal
}

func (l *Learner) objEnd(n *node, o *objState) {
	if n.isMap {
		return
	}
	n.presentSum += int64(o.seen)
	if o.seen < len(n.order) {
		for _, c := range n.order {
			if c.seenAt != o.serial && !c.optional {
				c.optional = true
				l.changed()
			}
		}
	}
	l.checkMap(n, o.added)
}

// checkMap turns n into a map when its keys say so (it runs after every
// object, and after a merge):
//
//   - data keys: two or more keys, at least three quarters of which look
//     like data (all of them for two or three keys), checked when a key
//     was added;
//   - sparse keys: MapSparseKeys keys or more over at least
//     mapSparseMinObjects objects, none present in more than half of them
//     and each present in at most a quarter of them on average, values of
//     one type (see sparseMap);
//   - many keys: from MapMinKeys keys on, values of one type under keys
//     that mostly look like data or are each present in less than half of
//     the objects, checked when a key was added or the object count
//     reaches a power of two.
func (l *Learner) checkMap(n *node, added bool) {
	k := len(n.order)
	if added && k >= 2 && n.dataKeys*4 >= k*3 {
		l.toMap(n)
		return
	}
	if l.sparseMap(n) {
		l.toMap(n)
		return
	}
	if k < l.lim.mapMinKeys || !(added || n.nObj&(n.nObj-1) == 0) {
		return
	}
	dataLike := n.dataKeys*2 >= k
	sparse := n.nObj >= 2 && n.presentSum*2 < int64(k)*n.nObj
	if (dataLike || sparse) && homogeneous(n) {
		l.toMap(n)
	}
}

// mapSparseMinObjects is how many objects the sparse-keys rule needs at
// least. With fewer, a quarter of the objects is less than one: the keys
// of three objects can all be distinct without any being rare.
const mapSparseMinObjects = 4

// sparseMap reports whether object n is a map whose keys are words chosen
// by the data (index names, user-defined labels: "articles_2015",
// "blue_cars") rather than property names: many distinct keys, each in a
// small share of the objects, with values of one type.
//
// A record has a stable core: required fields and the usual optional ones
// (present in 70–95% of the objects) put its most frequent key in far more
// than half of the objects, whatever rare fields it also has. A map's keys
// come from a large vocabulary and each object names a few, so no key is
// in more than half of the objects and the average key is in few of them.
// Both bounds are needed: the maximum alone lets records made of several
// variants through (three disjoint field sets, each in a third of the
// objects, average a third), and the average alone a record with a
// stable core among many rare fields. Half and a quarter leave room for
// the noise of small samples (a map of 8 objects whose most common key is
// in 3 of them) while a core field in 70% of the objects stays far off.
//
// The condition depends only on counts that a merge adds up, so one
// learner and the merge of two learners of the same objects decide alike;
// it is checked after every object, so the order of the objects decides
// at most when, not whether, a clearly sparse object becomes a map. It
// costs O(1) for objects with a frequent key (records).
//
// Keys that MaxNodes kept out (refused) count as distinct keys present
// once: a map whose values are large can fill MaxNodes before its fourth
// object, and the keys it keeps bringing are then the evidence.
func (l *Learner) sparseMap(n *node) bool {
	k := int64(len(n.order)) + n.refused
	return k >= int64(l.lim.mapSparseKeys) && n.nObj >= mapSparseMinObjects &&
		n.maxPresent*2 <= n.nObj && (n.presentSum+n.refused)*4 <= k*n.nObj && homogeneous(n)
}

// homogeneous reports whether all properties of n hold values of one type
// (null ignored; integer and number count as one). Values that were all
// null join into one schema too (a nullable one): they are of one type as
// long as some value was seen.
func homogeneous(n *node) bool {
	var want, seen kind
	for _, c := range n.order {
		seen |= c.kinds
		k := c.kinds &^ kNull
		if k&kInt != 0 {
			k = k&^kInt | kNum
		}
		if k == 0 {
			continue
		}
		if want != 0 && k != want {
			return false
		}
		want = k
	}
	return seen != 0
}

// toMap turns object node n into a map: its properties are merged into one
// value schema, and from then on every key's value is learned into it.
// Values whose structure MaxNodes cut short (partial, somewhere in their
// subtree) are left out when others are complete: their missing
// properties would only make the value schema's properties optional.
func (l *Learner) toMap(n *node) {
	if n.isMap {
		return
	}
	complete := 0
	for _, c := range n.order {
		cnt, partial := subtree(c)
		l.nodes -= cnt
		if !partial {
			complete++
		}
	}
	v := &node{key: "*", field: n.field, nameSens: n.nameSens, text: n.text}
	l.nodes++
	for _, c := range n.order {
		if complete > 0 {
			if _, partial := subtree(c); partial {
				continue
			}
		}
		l.mergeNode(v, c)
	}
	n.isMap, n.mapVal = true, v
	n.props, n.order, n.dataKeys, n.cursor = nil, nil, 0, 0
	n.presentSum, n.maxPresent, n.refused = 0, 0, 0
	// The keys MaxNodes refused are no loss to a map: it keeps no keys.
	n.partial = false
	l.changed()
}

func countNodes(n *node) int {
	c, _ := subtree(n)
	return c
}

// subtree returns the number of nodes of n's subtree, n included, and
// whether any of them is partial.
func subtree(n *node) (count int, partial bool) {
	count, partial = 1, n.partial
	for _, p := range n.order {
		c, pp := subtree(p)
		count, partial = count+c, partial || pp
	}
	if n.mapVal != nil {
		c, pp := subtree(n.mapVal)
		count, partial = count+c, partial || pp
	}
	if n.items != nil {
		c, pp := subtree(n.items)
		count, partial = count+c, partial || pp
	}
	return count, partial
}

func (l *Learner) array(n *node, b []byte, i, depth int) int {
	if depth > l.lim.maxDepth {
		return l.deep(n, b, i)
	}
	l.addKind(n, kArr)
	start := i
	i = skipWS(b, i+1)
	if b[i] == ']' {
		return i + 1
	}
	if n.items == nil {
		if n.items = l.newNode(n, "*"); n.items == nil {
			return skipValue(b, start)
		}
	}
	for count := 0; ; count++ {
		if count < l.lim.maxItems {
			i = l.value(n.items, b, i, depth+1)
		} else {
			i = skipValue(b, i)
			l.dropped.ArrayItems++
		}
		i = skipWS(b, i)
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		return i + 1
	}
}

func (l *Learner) boolean(n *node, lit string) {
	l.addKind(n, kBool)
	l.addExample(n, kBool, ubytes(lit), 0, false)
}

// number learns a JSON number literal (or a parameter's numeric text).
func (l *Learner) number(n *node, lit []byte, integer bool, field string) {
	k := kNum
	if integer {
		if v, ok := parseInt(lit); ok {
			k = kInt
			if (v < math.MinInt32 || v > math.MaxInt32) && !n.wide {
				n.wide = true
				l.changed()
			}
		}
	}
	l.addKind(n, k)
	cls := classify(n, field, ustr(lit))
	if cls != 0 {
		n.classes |= cls
		n.sensCount++
		return // no example of a sensitive number
	}
	l.addExample(n, k, lit, 0, false)
}

// parseInt parses a JSON integer literal; ok is false when it does not fit
// in an int64.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// str learns a string value. s is its decoded text, cut at maxTextLen when
// long is set.
func (l *Learner) str(n *node, s []byte, long bool, field string) {
	l.addKind(n, kStr)
	n.nStr++
	switch n.format {
	case fmtUnset:
		n.format = fmtNone
		if !long {
			n.format = detectFormat(s)
		}
	case fmtNone:
	default:
		if long || !matchFormat(n.format, s) {
			n.format = fmtNone
			l.changed()
		}
	}
	var cls sensitive.Class
	if !(plainFormat(n.format) && field == n.field && !n.nameSens) {
		// A value that matched a uuid, date, date-time or IP address
		// format is not sensitive data by itself; only the name could say
		// otherwise.
		cls = classify(n, field, ustr(s))
	}
	if cls != 0 {
		n.classes |= cls
		n.sensCount++
	}
	if !n.enumDead {
		l.enumObserve(n, s, long, cls)
	}
	l.addExample(n, kStr, s, cls, long)
}

// enumObserve tracks the value set of a string node and decides whether it
// is reported as an enum.
func (l *Learner) enumObserve(n *node, s []byte, long bool, cls sensitive.Class) {
	if cls != 0 || long {
		l.killEnum(n)
		return
	}
	known := false
	for _, v := range n.enum {
		if v == string(s) {
			known = true
			break
		}
	}
	if !known {
		if len(n.enum) >= l.lim.maxEnum || !enumCandidate(s) || !utf8.Valid(s) {
			l.killEnum(n)
			return
		}
		n.enum = append(n.enum, string(s))
		n.enumNewAt = n.nStr
	}
	l.decideEnum(n)
}

func (l *Learner) decideEnum(n *node) {
	k := int64(len(n.enum))
	on := !n.enumDead && k > 0 && n.nStr >= int64(l.lim.enumMin) && k*k <= n.nStr && n.enumNewAt*2 <= n.nStr
	if on != n.enumOn {
		n.enumOn = on
		l.changed()
	}
}

func (l *Learner) killEnum(n *node) {
	n.enumDead, n.enum = true, nil
	if n.enumOn {
		n.enumOn = false
		l.changed()
	}
}

// addExample keeps v as an example of n unless MaxExamples are kept or it
// repeats one. Sensitive strings are kept only as their redaction.
func (l *Learner) addExample(n *node, k kind, v []byte, cls sensitive.Class, long bool) {
	if len(n.examples) >= l.lim.maxExamples {
		return
	}
	if cls != 0 {
		if n.redacted {
			return
		}
		n.redacted = true
		r := strings.Clone(sensitive.Redact(cls, ustr(v)))
		n.examples = append(n.examples, example{k: k, text: r})
		return
	}
	cut := len(v)
	if cut > l.lim.maxExampleLen {
		cut = l.lim.maxExampleLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
	}
	isCut := long || cut < len(v)
	p := v[:cut]
	if hasExample(n, k, isCut, p) {
		return
	}
	if !utf8.Valid(p) {
		if p = []byte(strings.ToValidUTF8(string(p), "\uFFFD")); hasExample(n, k, isCut, p) {
			return
		}
	}
	n.examples = append(n.examples, example{k: k, cut: isCut, text: string(p)})
}

func hasExample(n *node, k kind, cut bool, p []byte) bool {
	for _, e := range n.examples {
		if e.k == k && e.cut == cut && e.text == string(p) {
			return true
		}
	}
	return false
}

// nameProbes are values that set off each name rule of sensitive.Field:
// any non-literal text (passwords), opaque tokens (API keys, cloud
// credentials, Authorization), 9-digit-ish ids, phone numbers, loose
// e-mail addresses, card numbers and IBANs in either case.
var nameProbes = [...]string{
	"x9", "AbCdEf0123456789GhIjKlMn", "123-45-6789", "123456789", "AB123456C", "+1 415 555 2671", "4155552671",
	"a@b", "user@example.com", "4111111111111111", "4111 1111 1111 1111", "378282246310005",
	"gb82west12345698765432", "GB82WEST12345698765432",
}

// nameMatters reports whether sensitive.Field(name, v) can differ from
// sensitive.Value(v): whether the name itself is evidence (password,
// api_key, ssn, phone, …). It is decided once per field, so that the
// values of ordinary fields take only the cheaper sensitive.Value.
// sensitive.Field is Value(v) plus the name's evidence; probing the name
// with one value per name rule finds that evidence.
func nameMatters(name string) bool {
	if name == "" {
		return false
	}
	if strings.EqualFold(name, "cookie") {
		return true
	}
	for _, p := range nameProbes {
		if sensitive.Field(name, p) != sensitive.Value(p) {
			return true
		}
	}
	return false
}

// classify classifies a value of node n seen under field name field.
func classify(n *node, field, v string) sensitive.Class {
	if field == n.field && !n.nameSens {
		return sensitive.Value(v)
	}
	return sensitive.Field(field, v)
}

// plainFormat reports formats whose values package sensitive never
// classifies (identifiers, timestamps, addresses).
func plainFormat(f format) bool {
	switch f {
	case fmtUUID, fmtDate, fmtDateTime, fmtIPv4, fmtIPv6:
		return true
	}
	return false
}
