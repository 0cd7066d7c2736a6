// Package sensitive classifies values that hold sensitive data (emails,
// phone numbers, card numbers, national ids, IBANs, JWTs, API keys and cloud
// credentials, passwords) and recognises the authentication schemes a
// request carries (Basic, Bearer, Bearer JWT, API keys in a header, the
// query or a cookie, session cookies).
//
// Data contract: the functions are pure. Value, Field, IsJWT and Redact
// never keep their arguments. Value, Field and IsJWT allocate nothing;
// Credentials allocates only to copy a credential name that is not a
// well-known one (well-known names are returned as package constants). Every
// function is safe for concurrent use: the package has no mutable state.
//
// Values are never stored or returned: Value and Field return a Class (a
// bit set), Redact returns a fixed placeholder that reveals nothing of the
// value, and IsJWT reads a token's header but never its claims.
//
// Precision matters as much as recall: an inventory full of false alarms
// is useless. Value therefore recognises only values whose format is
// checkable on its own (Luhn for cards, mod-97 for IBANs, the SSA ranges
// for SSNs, the fixed prefixes and lengths of provider tokens, a JWT's
// decodable header); opaque secrets, passwords and bare digit strings are
// classified only with the evidence of a field name, by Field.
package sensitive
