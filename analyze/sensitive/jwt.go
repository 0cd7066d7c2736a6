package sensitive

import "strings"

// maxJWTLen bounds the tokens IsJWT examines.
const maxJWTLen = 64 << 10

// IsJWT reports whether s is a JSON Web Token in JWS compact serialization:
// three base64url parts without padding separated by dots, a header that
// decodes to a JSON object with an "alg" member, and a payload that
// decodes to a JSON object (only its first byte is looked at: claims are
// never decoded or returned). The signature may be empty (unsecured
// tokens, alg "none"). IsJWT never allocates.
func IsJWT(s string) bool {
	if len(s) < 16 || len(s) > maxJWTLen || s[0] != 'e' {
		return false
	}
	d1 := strings.IndexByte(s, '.')
	if d1 < 0 {
		return false
	}
	d2 := strings.IndexByte(s[d1+1:], '.')
	if d2 < 0 {
		return false
	}
	d2 += d1 + 1
	header, payload, sig := s[:d1], s[d1+1:d2], s[d2+1:]
	if strings.IndexByte(sig, '.') >= 0 {
		return false
	}
	// A JSON object starts with '{', whose base64 starts with 'e'.
	if len(payload) < 2 || payload[0] != 'e' || !isBase64URL(payload) || !isBase64URL(sig) {
		return false
	}
	return jwtHeader(header)
}

// isBase64URL reports whether s is unpadded base64url of a whole number of
// bytes (the empty string is).
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if urlAlphabet[s[i]] == 0xff {
			return false
		}
	}
	return true
}

// jwtHeader decodes a base64url JOSE header, a chunk at a time into a
// stack buffer, and checks that it is a JSON object with a top-level "alg"
// member. The check is structural (balanced braces outside strings, an
// "alg" key followed by ':'), not a full JSON validation.
func jwtHeader(h string) bool {
	if len(h) < 8 || len(h)%4 == 1 {
		return false
	}
	var buf [b64Chunk / 4 * 3]byte
	var j jsonHead
	for h != "" {
		chunk := h[:min(len(h), b64Chunk)]
		h = h[len(chunk):]
		n, ok := decodeB64(buf[:], chunk, urlAlphabet)
		if !ok || !j.feed(buf[:n]) {
			return false
		}
	}
	return j.done()
}

// jsonHead follows the structure of a JSON object byte by byte, enough to
// find a top-level "alg" key.
type jsonHead struct {
	started  bool // saw the opening '{'
	depth    int
	inStr    bool
	esc      bool
	strLen   int
	strMatch bool // the string so far is a prefix of "alg"
	afterKey bool // just closed a top-level "alg" string; expecting ':'
	alg      bool
	closed   bool // the top-level object was closed
}

// feed consumes decoded bytes; false when they cannot be (part of) a
// JSON object.
func (j *jsonHead) feed(b []byte) bool {
	for _, c := range b {
		if j.closed {
			if !isSpace(c) {
				return false
			}
			continue
		}
		if !j.started {
			if isSpace(c) {
				continue
			}
			if c != '{' {
				return false
			}
			j.started, j.depth = true, 1
			continue
		}
		if j.inStr {
			switch {
			case j.esc:
				j.esc, j.strMatch = false, false
			case c == '\\':
				j.esc, j.strMatch = true, false
			case c == '"':
				j.inStr = false
				if j.strMatch && j.strLen == 3 && j.depth == 1 {
					j.afterKey = true
				}
				continue
			case c < 0x20:
				return false
			default:
				if j.strLen >= 3 || "alg"[j.strLen] != c {
					j.strMatch = false
				}
			}
			j.strLen++
			continue
		}
		if j.afterKey {
			if isSpace(c) {
				continue
			}
			j.afterKey = false
			if c == ':' {
				j.alg = true
				continue
			}
		}
		switch c {
		case '"':
			j.inStr, j.strLen, j.strMatch = true, 0, true
		case '{', '[':
			j.depth++
		case '}', ']':
			j.depth--
			if j.depth < 0 {
				return false
			}
			if j.depth == 0 {
				j.closed = true
			}
		}
	}
	return true
}

func (j *jsonHead) done() bool { return j.closed && j.alg }

// The alphabets, as 256-byte tables from a character to its 6-bit value
// (0xff: not in the alphabet). Strings, so they cannot be changed.
const (
	stdAlphabet = "" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff\xff\x3f\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
		"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\xff" +
		"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	urlAlphabet = "" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
		"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\x3f" +
		"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
)

// b64Value returns the 6-bit value of c in alphabet, -1 when c is not in
// it.
func b64Value(c byte, alphabet string) int {
	v := alphabet[c]
	if v == 0xff {
		return -1
	}
	return int(v)
}

// b64Chunk is how many base64 characters the decoders here decode at a
// time into a stack buffer (a multiple of 4).
const b64Chunk = 256

// decodeB64 decodes unpadded base64 in alphabet into dst, which must hold
// len(s)/4*3+2 bytes. ok is false for a character outside the alphabet or
// a length that is 1 modulo 4.
func decodeB64(dst []byte, s string, alphabet string) (n int, ok bool) {
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := alphabet[s[i]], alphabet[s[i+1]], alphabet[s[i+2]], alphabet[s[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch len(s) - i {
	case 0:
	case 2:
		a, b := alphabet[s[i]], alphabet[s[i+1]]
		if (a|b)&0xc0 != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := alphabet[s[i]], alphabet[s[i+1]], alphabet[s[i+2]]
		if (a|b|c)&0xc0 != 0 {
			return 0, false
		}
		dst[n], dst[n+1] = a<<2|b>>4, b<<4|c>>2
		n += 2
	default:
		return 0, false
	}
	return n, true
}
