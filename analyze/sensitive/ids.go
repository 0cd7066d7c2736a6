package sensitive

import "strings"

// ibanLengths is the SWIFT IBAN registry: country code and IBAN length,
// four bytes per country.
const ibanLengths = "" +
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24" +
	"DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27" +
	"GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20" +
	"LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24" +
	"PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25" +
	"SV28TL23TN24TR26UA29VA22VG24XK20YE30"

// ibanLength returns the IBAN length of a country (upper-case code), 0
// when the country has no IBAN.
func ibanLength(a, b byte) int {
	for i := 0; i+4 <= len(ibanLengths); i += 4 {
		if ibanLengths[i] == a && ibanLengths[i+1] == b {
			return int(ibanLengths[i+2]-'0')*10 + int(ibanLengths[i+3]-'0')
		}
	}
	return 0
}

// isIBAN reports whether s is an IBAN, compact ("DE89370400440532013000")
// or printed in groups of four separated by single spaces ("DE89 3704 0044
// 0532 0130 00"), letters of either case: the country's registered length,
// two check digits, an alphanumeric BBAN and the ISO 7064 mod-97 check.
func isIBAN(s string) bool {
	var b [34]byte
	n := 0
	spaced := len(s) > 4 && s[4] == ' '
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if !spaced || i%5 != 4 || i == len(s)-1 {
				return false
			}
			continue
		}
		if spaced && i%5 == 4 {
			return false
		}
		if isLower(c) {
			c -= 'a' - 'A'
		}
		if !isUpper(c) && !isDigit(c) {
			return false
		}
		if n == len(b) {
			return false
		}
		b[n] = c
		n++
	}
	if n < 15 || !isUpper(b[0]) || !isUpper(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) {
		return false
	}
	if ibanLength(b[0], b[1]) != n {
		return false
	}
	// Move the first four characters to the end, letters count as 10..35.
	rem := 0
	for i := 0; i < n; i++ {
		c := b[(i+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	return rem == 1
}

// isNINO reports whether s is a UK National Insurance number, compact
// ("AB123456C") or spaced ("AB 12 34 56 C"): two prefix letters (the first
// not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or V; not BG, GB,
// KN, NK, NT, TN or ZZ), six digits and a suffix A–D.
func isNINO(s string) bool {
	var b [9]byte
	switch len(s) {
	case 9:
		copy(b[:], s)
	case 13:
		if s[2] != ' ' || s[5] != ' ' || s[8] != ' ' || s[11] != ' ' {
			return false
		}
		b = [9]byte{s[0], s[1], s[3], s[4], s[6], s[7], s[9], s[10], s[12]}
	default:
		return false
	}
	p0, p1 := b[0], b[1]
	if !isUpper(p0) || !isUpper(p1) || strings.IndexByte("DFIQUV", p0) >= 0 || strings.IndexByte("DFIOQUV", p1) >= 0 {
		return false
	}
	switch string(b[:2]) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	for _, c := range b[2:8] {
		if !isDigit(c) {
			return false
		}
	}
	return b[8] >= 'A' && b[8] <= 'D'
}
