// Package zeeklog reads the logs Zeek writes (http.log and its relatives) so
// that apitap's output can be compared with what Zeek extracted from the same
// capture.
//
// Three layouts are understood, detected from the content:
//
//   - FormatTSV: Zeek's ASCII writer. "#separator", "#set_separator",
//     "#empty_field", "#unset_field", "#path", "#fields" and "#types"
//     directives, then one line per record. Other '#' lines ("#open",
//     "#close", btest banners) are skipped.
//   - FormatCut: the output of `zeek-cut -m`: no directives, the first line
//     holds the field names, the records follow with the default separator
//     (tab), set separator (","), empty ("(empty)") and unset ("-") markers.
//   - FormatJSON: LogAscii::use_json=T, one JSON object per line. Fields
//     appear in order of first use; a field absent from a record is unset.
//     Scrubbed timestamps (a bare XXXXXXXXXX.XXXXXX token, as btest
//     canonifiers leave them) are accepted as strings.
//
// Values are unescaped to the bytes Zeek saw: in TSV and cut files "\xNN"
// becomes byte 0xNN and "\\" a single backslash; "-" alone is unset and
// "(empty)" alone is an empty value. In JSON files the writer renders
// non-printable bytes as the text "\xNN" and leaves a literal backslash
// alone, so "\xNN" is decoded there too; a literal "\xNN" in the data cannot
// be told apart in that format (a limit of Zeek's JSON writer, not of this
// parser).
//
// Ownership and concurrency: a Log owns all its memory and never aliases
// the reader's buffers. A Parser holds only its Config; it may be used by
// several goroutines at once. This package is test and tooling support: it
// keeps no metrics and no state beyond what Parse returns.
package zeeklog
