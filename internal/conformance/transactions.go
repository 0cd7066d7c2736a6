package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Transaction is one line of `apitap analyze --transactions FILE`: the
// fields the comparison reads. Unknown fields are ignored.
type Transaction struct {
	TS              string   `json:"ts"`
	ClientIP        string   `json:"client_ip"`
	ClientPort      int      `json:"client_port"`
	ServerIP        string   `json:"server_ip"`
	ServerPort      int      `json:"server_port"`
	Method          string   `json:"method"`
	Host            string   `json:"host"`
	URI             string   `json:"uri"`
	Path            string   `json:"path"`
	Version         string   `json:"version"`
	Status          int      `json:"status"` // 0 when no response was seen
	RequestBodyLen  int64    `json:"request_body_len"`
	ResponseBodyLen int64    `json:"response_body_len"`
	DurationMS      float64  `json:"duration_ms"`
	Flags           []string `json:"flags"`
}

// ReadTransactions decodes a stream of JSON objects (JSON Lines; blank lines
// and objects spanning lines are accepted alike).
func ReadTransactions(r io.Reader) ([]Transaction, error) {
	dec := json.NewDecoder(r)
	var out []Transaction
	for {
		var t Transaction
		err := dec.Decode(&t)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("conformance: transaction %d: %w", len(out)+1, err)
		}
		t.Method, t.Host, t.URI = unescapeBytes(t.Method), unescapeBytes(t.Host), unescapeBytes(t.URI)
		out = append(out, t)
	}
}

// unescapeBytes undoes apitap's escaping of bytes that are not valid UTF-8:
// the JSONL carries each such byte (always 0x80 or above) as the text \xNN.
func unescapeBytes(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			// ParseUint takes no sign or prefix in base 16: two hex digits.
			if c, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil && c >= 0x80 {
				b = append(b, byte(c))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ReadTransactionsFile reads the JSONL file at name.
func ReadTransactionsFile(name string) ([]Transaction, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	ts, err := ReadTransactions(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, name)
	}
	return ts, nil
}
