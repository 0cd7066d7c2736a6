package pathtmpl

import (
	"bytes"
	"math/bits"
)

// Shape fingerprints one call for Observe: its method, status class and the
// structure of its request and response bodies. Two calls of one operation
// get similar fingerprints even when optional fields come and go, calls of
// different operations (a list and an item, an array and an object, an
// object with other keys) get dissimilar ones. Bodies are sniffed (no
// content type needed): JSON values by their first byte, form-encoded
// request bodies by their "k=v&…" form; only the first 4 KiB of each body
// is read (keys after a long first member are not seen, alike for every
// call of an operation). Shape never returns 0 and allocates nothing.
//
// Layout (bit 63 first):
//
//	63-60 method: 1 GET, 2 HEAD, 3 POST, 4 PUT, 5 PATCH, 6 DELETE, 7 OPTIONS, 8 other, 0 none
//	59-57 status class: status/100 (1..5), 6 other, 0 no response
//	56-54 response body kind, 53-50 the constant 0b1011 (marks a Shape
//	value), 49-47 request body kind: 0 none, 1 object, 2 list (an array,
//	or an object whose "data"/"results"/"items"/… member is an array),
//	3 string, 4 number, 5 boolean, 6 null, 7 not JSON
//	46-32 request keys, 31-0 response keys: a one-hash Bloom filter of
//	the top-level object keys, each with the class of its value
//	(object, array, scalar); for a top-level array, of the first
//	element's kind and keys.
//
// Observe accepts any other fingerprint too; values without the 0b1011
// mark are only compared for equality.
func Shape(method string, status int, reqBody, respBody []byte) uint64 {
	s := uint64(methodCode(method))<<60 | uint64(statusClass(status))<<57 | shapeMagic<<50
	rk, rb := bodyShape(respBody, 32, true)
	qk, qb := bodyShape(reqBody, 15, false)
	return s | rk<<54 | qk<<47 | qb<<32 | rb
}

const (
	shapeMagic     = 0b1011
	shapeBloomMask = 1<<47 - 1
	maxShapeScan   = 4 << 10
	maxShapeKeys   = 64
)

// Body kinds of Shape.
const (
	bodyNone uint64 = iota
	bodyObject
	bodyList
	bodyString
	bodyNumber
	bodyBool
	bodyNull
	bodyOther
)

func methodCode(m string) uint8 {
	switch m {
	case "":
		return 0
	case "GET", "get":
		return 1
	case "HEAD", "head":
		return 2
	case "POST", "post":
		return 3
	case "PUT", "put":
		return 4
	case "PATCH", "patch":
		return 5
	case "DELETE", "delete":
		return 6
	case "OPTIONS", "options":
		return 7
	}
	return 8
}

func statusClass(status int) uint8 {
	switch {
	case status == 0:
		return 0
	case status >= 100 && status < 600:
		return uint8(status / 100)
	}
	return 6
}

// shapeStructured reports whether s carries Shape's mark.
func shapeStructured(s uint64) bool { return s != 0 && (s>>50)&0xf == shapeMagic }

// shapeKey groups the fingerprints that are compared with each other:
// calls with the same method and status class (the whole value for
// fingerprints not made by Shape).
func shapeKey(s uint64) uint64 {
	if shapeStructured(s) {
		return s >> 57
	}
	return s
}

// shapeSimilar reports whether two fingerprints describe the same kind of
// call: equal, or made by Shape with the same method, status class and
// body kinds, and key sets of which
// the smaller shares at least half of its bits with the other (overlap
// coefficient ≥ 0.5, so optional fields that come and go do not separate
// calls of one operation, while objects of different schemas do).
func shapeSimilar(a, b uint64) bool {
	if a == b {
		return true
	}
	if !shapeStructured(a) || !shapeStructured(b) || a>>47 != b>>47 {
		return false
	}
	x, y := a&shapeBloomMask, b&shapeBloomMask
	small := min(bits.OnesCount64(x), bits.OnesCount64(y))
	return small == 0 && x == y || small > 0 && 2*bits.OnesCount64(x&y) >= small
}

// shapeDiffers reports fingerprints clearly not of one operation (a
// stronger test than !shapeSimilar): different body kinds, or key sets of
// two keys or more each that share less than a quarter of the smaller.
func shapeDiffers(a, b uint64) bool {
	if a == b {
		return false
	}
	if !shapeStructured(a) || !shapeStructured(b) || a>>47 != b>>47 {
		return true
	}
	x, y := a&shapeBloomMask, b&shapeBloomMask
	small := min(bits.OnesCount64(x), bits.OnesCount64(y))
	return small >= 2 && 4*bits.OnesCount64(x&y) < small
}

// bodyShape returns the kind of a body and the Bloom filter (nbits wide)
// of its top-level keys.
func bodyShape(b []byte, nbits uint64, detectList bool) (kind, bloom uint64) {
	if len(b) > maxShapeScan {
		b = b[:maxShapeScan]
	}
	i := skipWS(b, 0)
	if i == len(b) {
		return bodyNone, 0
	}
	switch c := b[i]; {
	case c == '{':
		bloom, list := objectKeys(b, i, nbits, detectList)
		if list {
			return bodyList, bloom
		}
		return bodyObject, bloom
	case c == '[':
		j := skipWS(b, i+1)
		if j < len(b) && b[j] != ']' {
			ek := valueKind(b[j])
			bloom = 1 << (mix(fnvString(offset64, "[]"), ek) % nbits)
			if b[j] == '{' {
				kb, _ := objectKeys(b, j, nbits, false)
				bloom |= kb
			}
		}
		return bodyList, bloom
	case c == '"':
		return bodyString, 0
	case c == '-' || isDigit(c):
		return bodyNumber, 0
	case c == 't' || c == 'f':
		return bodyBool, 0
	case c == 'n':
		return bodyNull, 0
	}
	return bodyOther, formKeys(b[i:], nbits)
}

const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * prime64
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * prime64
	}
	return h
}

// mix folds v into h and finalises it (splitmix64's finaliser), so that
// the low bits used for the Bloom position are well spread.
func mix(h, v uint64) uint64 {
	h ^= v + 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// valueKind is the class of a JSON value from its first byte: 1 object,
// 2 array, 3 scalar (strings, numbers, booleans and null alike, so that a
// nullable field keeps its bit).
func valueKind(c byte) uint64 {
	switch c {
	case '{':
		return 1
	case '[':
		return 2
	}
	return 3
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// objectKeys reads the keys of the object starting at b[i] == '{' (and
// skips their values), up to maxShapeKeys keys or the end of b. list is
// set when a member named like a list wrapper holds an array.
func objectKeys(b []byte, i int, nbits uint64, detectList bool) (bloom uint64, list bool) {
	i++
	for k := 0; k < maxShapeKeys; k++ {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return bloom, list
		}
		start := i + 1
		i = skipString(b, i)
		if i > len(b) {
			return bloom, list
		}
		key := b[start : i-1]
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return bloom, list
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return bloom, list
		}
		vk := valueKind(b[i])
		bloom |= 1 << (mix(fnvBytes(offset64, key), vk) % nbits)
		if detectList && vk == 2 && isListKey(key) {
			list = true
		}
		i = skipValue(b, i)
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ',' {
			return bloom, list
		}
		i++
	}
	return bloom, list
}

// isListKey reports the member names APIs wrap a list in.
func isListKey(k []byte) bool {
	switch string(k) {
	case "data", "results", "items", "hits", "records", "entries", "list", "content", "objects", "rows",
		"nodes", "edges", "elements", "values", "docs", "collection", "resources", "Items", "Data", "Results":
		return true
	}
	return false
}

// skipString returns the index after the string starting at b[i] == '"'
// (len(b)+1 when unterminated).
func skipString(b []byte, i int) int {
	// Short strings (most keys) byte by byte, long ones with IndexByte.
	i++
	for end := min(len(b), i+16); i < end; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	for i < len(b) {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			break
		}
		i += q
		esc := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			esc++
		}
		i++
		if esc%2 == 0 {
			return i
		}
	}
	return len(b) + 1
}

// jsonSpecial marks with 'x' the bytes skipValue stops at inside an
// object or array: '"', '{', '}', '[' and ']'.
const jsonSpecial = "" +
	"................" + // 0x00
	"................" + // 0x10
	"..x............." + // 0x20
	"................" + // 0x30
	"................" + // 0x40
	"...........x.x.." + // 0x50
	"................" + // 0x60
	"...........x.x.." + // 0x70
	"................" + // 0x80
	"................" + // 0x90
	"................" + // 0xa0
	"................" + // 0xb0
	"................" + // 0xc0
	"................" + // 0xd0
	"................" + // 0xe0
	"................" // 0xf0

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			if jsonSpecial[b[i]] == '.' {
				continue
			}
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// formKeys is the Bloom filter of the keys of a form-encoded body
// ("a=1&b=2"); 0 when b does not look like one.
func formKeys(b []byte, nbits uint64) uint64 {
	var bloom uint64
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '&' {
			c := b[i]
			if c < 0x21 || c > 0x7e {
				return 0
			}
			continue
		}
		seg := b[start:i]
		eq := -1
		for j, c := range seg {
			if c == '=' {
				eq = j
				break
			}
		}
		if eq <= 0 {
			return 0
		}
		bloom |= 1 << (mix(fnvBytes(offset64, seg[:eq]), 3) % nbits)
		start = i + 1
	}
	return bloom
}
