package schema

// Shape is a cheap fingerprint of a JSON body's top-level structure, as
// evidence for path templating ("do these calls return the same kind of
// thing?"): for an object, its set of top-level keys (order does not
// matter); for an array, "array of" the shape of its first item's
// keys (or of the item's kind); for a scalar, its kind. Values below the
// top level do not matter. It does not validate the body: anything that is
// not recognisably JSON (empty, cut short in the part it reads) is 0. It
// does not allocate and does not keep body.
func Shape(body []byte) uint64 {
	i := skipWS(body, 0)
	if i >= len(body) {
		return 0
	}
	switch body[i] {
	case '[':
		j := skipWS(body, i+1)
		if j >= len(body) {
			return 0
		}
		if body[j] == ']' {
			return Mix64(tagArray)
		}
		h := shapeAt(body, j)
		if h == 0 {
			return 0
		}
		return Mix64(tagArray ^ Mix64(h))
	default:
		return shapeAt(body, i)
	}
}

// Tags of the shapes; arbitrary odd constants.
const (
	tagObject = 0x9e3779b97f4a7c15
	tagArray  = 0xc2b2ae3d27d4eb4f
	tagString = 0x165667b19e3779f9
	tagNumber = 0xd6e8feb86659fd93
	tagBool   = 0xa0761d6478bd642f
	tagNull   = 0xe7037ed1a0b428db
)

// shapeAt fingerprints the value at b[i] without looking into arrays.
func shapeAt(b []byte, i int) uint64 {
	switch c := b[i]; {
	case c == '{':
		return objectShape(b, i)
	case c == '[':
		return Mix64(tagArray)
	case c == '"':
		return Mix64(tagString)
	case c == '-' || isDigit(c):
		return Mix64(tagNumber)
	case c == 't' || c == 'f':
		return Mix64(tagBool)
	case c == 'n':
		return Mix64(tagNull)
	}
	return 0
}

// objectShape combines the hashes of the keys of the object at b[i] with
// an order-independent sum (a key repeated in one object counts twice).
func objectShape(b []byte, i int) uint64 {
	var sum uint64
	i = skipWS(b, i+1)
	for i < len(b) && b[i] == '"' {
		e, ok := safeStringEnd(b, i+1)
		if !ok {
			return 0
		}
		sum += Mix64(fnv64(b[i+1 : e]))
		i = skipWS(b, e+1)
		if i >= len(b) || b[i] != ':' {
			return 0
		}
		i = skipWS(b, i+1)
		if i = safeSkip(b, i); i < 0 {
			return 0
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	if i >= len(b) || b[i] != '}' {
		return 0
	}
	return Mix64(tagObject ^ sum)
}

// safeStringEnd is stringEnd for unvalidated input.
func safeStringEnd(b []byte, i int) (int, bool) {
	for {
		if i = plainRun(b, i); i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case '"':
			return i, true
		case '\\':
			i += 2
		default: // a control character: not JSON, but keep going
			i++
		}
	}
}

// safeSkip skips the value at b[i] in unvalidated input; -1 when it runs
// off the end.
func safeSkip(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // ends the object holding a scalar
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			e, ok := safeStringEnd(b, i+1)
			if !ok {
				return -1
			}
			i = e
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		default:
			if depth == 0 && (isWS(b[i])) {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Mix64 is the splitmix64 finaliser: it spreads the bits of a hash (of a
// shape here; of a client address in package analyze).
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
