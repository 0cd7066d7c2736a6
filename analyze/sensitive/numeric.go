package sensitive

// numScan is the result of scanning a value made of digits and separators.
type numScan struct {
	digits  [19]byte // the first 19 digit values
	nd      int      // number of digits
	groups  [8]uint8 // lengths of the digit runs
	ng      int      // number of digit runs
	plus    bool     // leading '+'
	space   int      // separator counts
	dash    int
	dot     int
	slash   int
	open    int // '('
	close   int // ')'
	maxRun  int // longest run of consecutive separators
	letter  byte
	trailer bool // a single upper-case letter ends the value
}

// scanNumeric scans s (digits, ' ', '-', '.', '/', '(', ')', a leading
// '+', and one trailing upper-case letter); ok is false for anything else
// or for more than 8 digit groups.
func scanNumeric(s string) (r numScan, ok bool) {
	i := 0
	if s[0] == '+' {
		r.plus = true
		i = 1
	}
	run, sepRun := 0, 0
	for ; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			if r.nd < len(r.digits) {
				r.digits[r.nd] = c - '0'
			}
			r.nd++
			run++
			sepRun = 0
			continue
		}
		if run > 0 {
			if r.ng == len(r.groups) {
				return r, false
			}
			r.groups[r.ng] = uint8(min(run, 255))
			r.ng++
			run = 0
		}
		switch c {
		case ' ':
			r.space++
		case '-':
			r.dash++
		case '.':
			r.dot++
		case '/':
			r.slash++
		case '(':
			r.open++
		case ')':
			r.close++
		default:
			if i == len(s)-1 && isUpper(c) && !r.plus {
				r.letter, r.trailer = c, true
				continue
			}
			return r, false
		}
		sepRun++
		r.maxRun = max(r.maxRun, sepRun)
	}
	if run > 0 {
		if r.ng == len(r.groups) {
			return r, false
		}
		r.groups[r.ng] = uint8(min(run, 255))
		r.ng++
	}
	return r, true
}

// numeric classifies values that start with a digit, '+' or '(': cards,
// phone numbers, SSNs and DNIs.
func numeric(s string) Class {
	r, ok := scanNumeric(s)
	if !ok || r.nd < 8 {
		return 0
	}
	if r.trailer {
		if len(s) == 9 && r.nd == 8 && isDNI(s) {
			return NationalID
		}
		return 0
	}
	if r.plus {
		if isIntlPhone(s, &r) {
			return Phone
		}
		return 0
	}
	if len(s) == 11 && r.nd == 9 && isSSN(s) {
		return NationalID
	}
	if r.nd >= 13 && r.nd <= 19 && isCard(&r) {
		return Card
	}
	if isNationalPhone(s, &r) {
		return Phone
	}
	return 0
}

// isCard: 13–19 digits, bare or in groups (first group of 4, every group of
// at least 3) separated by single spaces or single dashes, a known issuer
// prefix for the length, and a valid Luhn check digit.
func isCard(r *numScan) bool {
	if r.dot+r.slash+r.open+r.close > 0 || r.maxRun > 1 {
		return false
	}
	if r.ng > 1 {
		if r.space > 0 && r.dash > 0 {
			return false
		}
		if r.groups[0] != 4 {
			return false
		}
		for i := 1; i < r.ng; i++ {
			if r.groups[i] < 3 {
				return false
			}
		}
	}
	d := r.digits[:r.nd]
	return knownIIN(d) && luhn(d)
}

// luhn reports whether the digits end with a valid Luhn check digit.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// knownIIN reports whether the digits start with an issuer identification
// number prefix used with that length (ISO/IEC 7812 registrations of the
// major networks).
func knownIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0])*10 + int(d[1])
	p3 := p2*10 + int(d[2])
	p4 := p3*10 + int(d[3])
	p6 := p4*100 + int(d[4])*10 + int(d[5])
	switch d[0] {
	case 4: // Visa
		return n == 13 || n == 16 || n == 19
	case 5:
		switch {
		case p2 >= 51 && p2 <= 55: // Mastercard
			return n == 16
		case p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893: // Maestro
			return n >= 13
		case p3 == 508: // RuPay
			return n == 16
		}
	case 2:
		switch {
		case p4 >= 2221 && p4 <= 2720: // Mastercard 2-series
			return n == 16
		case p4 >= 2200 && p4 <= 2204: // Mir
			return n >= 16
		}
	case 3:
		switch {
		case p2 == 34 || p2 == 37: // American Express
			return n == 15
		case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
			return n >= 14
		case p4 >= 3528 && p4 <= 3589: // JCB
			return n >= 16
		}
	case 6:
		switch {
		case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
			return n >= 16
		case p2 == 62: // UnionPay
			return n >= 16
		case p4 == 6304 || p4 == 6759 || p4 == 6761 || p4 == 6762 || p4 == 6763: // Maestro
			return n >= 13
		case p2 == 60: // RuPay
			return n == 16
		}
	}
	return false
}

// isSSN: "AAA-GG-SSSS" (dashes or spaces) with the ranges the SSA never
// issues excluded: area 000, 666 and 900–999, group 00, serial 0000, and
// the two numbers known from advertising (078-05-1120, 219-09-9999).
func isSSN(s string) bool {
	sep := s[3]
	if (sep != '-' && sep != ' ') || s[6] != sep {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 3 && i != 6 && !isDigit(s[i]) {
			return false
		}
	}
	area := atoi3(s[0:3])
	group := int(s[4]-'0')*10 + int(s[5]-'0')
	serial := int(s[7]-'0')*1000 + atoi3(s[8:11])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	if (area == 78 && group == 5 && serial == 1120) || (area == 219 && group == 9 && serial == 9999) {
		return false
	}
	return true
}

func atoi3(s string) int { return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0') }

// isDNI: a Spanish DNI, eight digits and the control letter of the number
// modulo 23.
func isDNI(s string) bool {
	n := 0
	for i := 0; i < 8; i++ {
		if !isDigit(s[i]) {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return dniLetter(n) == s[8]
}

func dniLetter(n int) byte { return "TRWAGMYFPDXBNJZSQVHLCKE"[n%23] }

// isNIE: a Spanish foreigner id, X, Y or Z (0, 1, 2), seven digits and the
// mod-23 control letter.
func isNIE(s string) bool {
	n := int(s[0] - 'X')
	for i := 1; i < 8; i++ {
		if !isDigit(s[i]) {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return dniLetter(n) == s[8]
}

// isIntlPhone: '+' then 8–15 digits, the first not 0: compact E.164, or
// with single separators (spaces, dashes, dots, one pair of parentheses)
// where the country code group has at most 4 digits.
func isIntlPhone(s string, r *numScan) bool {
	if r.nd < 8 || r.nd > 15 || r.slash > 0 {
		return false
	}
	if len(s) < 2 || s[1] < '1' || s[1] > '9' {
		return false
	}
	if r.ng == 1 {
		return true
	}
	if !phoneParens(s, r) || r.maxRun > 2 {
		return false
	}
	if r.groups[0] > 4 {
		return false
	}
	return true
}

// isNationalPhone: a number with separators in a national format: NANP
// (3-3-4 or 1-3-3-4 digits, area and exchange codes not starting with 0
// or 1) or a trunk-prefix format (10 or 11 digits starting with a single
// 0, in 2 to 6 groups of 2 to 8 digits).
func isNationalPhone(s string, r *numScan) bool {
	if r.ng < 2 || r.slash > 0 || r.maxRun > 2 || !phoneParens(s, r) {
		return false
	}
	d := r.digits[:min(r.nd, len(r.digits))]
	g := r.groups[:r.ng]
	switch {
	case r.nd == 10 && r.ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4:
		return d[0] >= 2 && d[3] >= 2
	case r.nd == 11 && r.ng == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4:
		return d[0] == 1 && d[1] >= 2 && d[4] >= 2
	case (r.nd == 10 || r.nd == 11) && d[0] == 0 && d[1] != 0 && r.ng <= 6:
		if g[0] < 2 || g[0] > 5 {
			return false
		}
		for _, l := range g[1:] {
			if l < 2 || l > 8 {
				return false
			}
		}
		// Mixed dots and dashes are version strings and the like.
		return !(r.dot > 0 && r.dash > 0)
	}
	return false
}

// phoneParens: at most one "(…)" pair, in order, around digits.
func phoneParens(s string, r *numScan) bool {
	if r.open == 0 && r.close == 0 {
		return true
	}
	if r.open != 1 || r.close != 1 {
		return false
	}
	o, c := -1, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			o = i
		case ')':
			c = i
		}
	}
	return o < c && c-o >= 2 && isDigit(s[o+1]) && isDigit(s[c-1])
}
