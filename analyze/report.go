package analyze

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the inventory as one indented JSON document (what
// `apitap analyze --inventory` writes): every endpoint with its statistics,
// parameters, authentication and sensitive fields; the schemas are in the
// OpenAPI export, not here. The same inventory gives the same bytes.
func (inv *Inventory) WriteJSON(w io.Writer) error {
	out := jsonInventory{
		First:        jsonTime(inv.First),
		Last:         jsonTime(inv.Last),
		Transactions: inv.Transactions,
		Unattributed: inv.Unattributed,
		Merged:       inv.Merged,
		Endpoints:    make([]jsonEndpoint, 0, len(inv.Endpoints)),
	}
	for i := range inv.Endpoints {
		out.Endpoints = append(out.Endpoints, toJSON(&inv.Endpoints[i]))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("analyze: writing the inventory: %w", err)
	}
	return nil
}

type jsonInventory struct {
	First        string         `json:"first_seen,omitempty"`
	Last         string         `json:"last_seen,omitempty"`
	Transactions int64          `json:"transactions"`
	Unattributed int64          `json:"unattributed"`
	Merged       int64          `json:"not_attributed_endpoint_cap"`
	Endpoints    []jsonEndpoint `json:"endpoints"`
}

type jsonEndpoint struct {
	Host          string           `json:"host"`
	Method        string           `json:"method"`
	Template      string           `json:"template"`
	Origin        string           `json:"origin"`
	Calls         int64            `json:"calls"`
	Clients       uint64           `json:"clients"`
	First         string           `json:"first_seen,omitempty"`
	Last          string           `json:"last_seen,omitempty"`
	Status        map[string]int64 `json:"status"`
	LatencyMs     *jsonLatency     `json:"latency_ms,omitempty"`
	RequestBytes  jsonSizes        `json:"request_body_bytes"`
	ResponseBytes jsonSizes        `json:"response_body_bytes"`
	RequestTypes  []string         `json:"request_content_types"`
	ResponseTypes []string         `json:"response_content_types"`
	Auth          []jsonAuth       `json:"auth"`
	Sensitive     []jsonSensitive  `json:"sensitive"`
	Params        []jsonParam      `json:"parameters"`
	Samples       int64            `json:"schema_samples"`
}

type jsonLatency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

type jsonSizes struct {
	Min  int64 `json:"min"`
	Max  int64 `json:"max"`
	Mean int64 `json:"mean"`
}

type jsonAuth struct {
	Scheme string `json:"scheme"`
	Name   string `json:"name,omitempty"`
	Count  int64  `json:"count"`
}

type jsonSensitive struct {
	In      string   `json:"in"`
	Pointer string   `json:"field"`
	Classes []string `json:"classes"`
	Count   int64    `json:"count"`
}

type jsonParam struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Type     string `json:"type,omitempty"`
	Format   string `json:"format,omitempty"`
}

func toJSON(e *Endpoint) jsonEndpoint {
	j := jsonEndpoint{
		Host: e.Host, Method: e.Method, Template: e.Template, Origin: e.Origin,
		Calls: e.Calls, Clients: e.Clients, First: jsonTime(e.First), Last: jsonTime(e.Last),
		Status:        make(map[string]int64, len(e.Status)),
		RequestBytes:  sizes(e.RequestBytes, e.Calls),
		ResponseBytes: sizes(e.ResponseBytes, responded(e)),
		RequestTypes:  []string{},
		ResponseTypes: []string{},
		Auth:          []jsonAuth{},
		Sensitive:     []jsonSensitive{},
		Params:        []jsonParam{},
		Samples:       e.Samples,
	}
	for _, s := range e.Status {
		j.Status[statusKey(s.Code)] = s.Count
	}
	if e.LatencyP50 > 0 || e.LatencyP99 > 0 {
		j.LatencyMs = &jsonLatency{ms(e.LatencyP50), ms(e.LatencyP95), ms(e.LatencyP99)}
	}
	for _, b := range e.RequestBodies {
		if b.ContentType != "" {
			j.RequestTypes = append(j.RequestTypes, b.ContentType)
		}
	}
	for _, r := range e.Responses {
		if r.ContentType != "" && !slices.Contains(j.ResponseTypes, r.ContentType) {
			j.ResponseTypes = append(j.ResponseTypes, r.ContentType)
		}
	}
	slices.Sort(j.ResponseTypes)
	for _, a := range e.Auth {
		j.Auth = append(j.Auth, jsonAuth(a))
	}
	for _, s := range e.Sensitive {
		j.Sensitive = append(j.Sensitive, jsonSensitive(s))
	}
	for _, p := range e.Params {
		jp := jsonParam{Name: p.Name, In: p.In, Required: p.Required}
		if p.Schema != nil {
			if p.Schema.Type != nil && len(*p.Schema.Type) > 0 {
				jp.Type = (*p.Schema.Type)[0]
			}
			jp.Format = p.Schema.Format
		}
		j.Params = append(j.Params, jp)
	}
	return j
}

func statusKey(code int) string {
	if code == 0 {
		return "none"
	}
	return fmt.Sprint(code)
}

func responded(e *Endpoint) int64 {
	var n int64
	for _, s := range e.Status {
		if s.Code != 0 {
			n += s.Count
		}
	}
	return n
}

func sizes(s Sizes, n int64) jsonSizes {
	j := jsonSizes{Min: s.Min, Max: s.Max}
	if n > 0 {
		j.Mean = s.Total / n
	}
	return j
}

func ms(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// WriteTable writes the inventory as an aligned text table, busiest
// endpoint first (what `apitap analyze` prints on stdout). At most limit
// endpoints are listed (0: all), followed by a line counting the rest.
func (inv *Inventory) WriteTable(w io.Writer, limit int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tMETHOD\tENDPOINT\tCALLS\tCLIENTS\tSTATUS\tP50\tP95\tAUTH\tSENSITIVE")
	n := len(inv.Endpoints)
	if limit > 0 && n > limit {
		n = limit
	}
	for i := range inv.Endpoints[:n] {
		e := &inv.Endpoints[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n",
			e.Host, e.Method, e.Template, e.Calls, e.Clients, statusMix(e.Status, e.Calls),
			latency(e.LatencyP50), latency(e.LatencyP95), authList(e.Auth), sensitiveList(e.Sensitive))
	}
	if rest := len(inv.Endpoints) - n; rest > 0 {
		fmt.Fprintf(tw, "… %d more endpoints (all of them in --inventory)\n", rest)
	}
	if len(inv.Endpoints) == 0 {
		fmt.Fprintln(tw, "(no HTTP requests seen)")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("analyze: writing the inventory table: %w", err)
	}
	return nil
}

// statusMix is the share of each status class: "2xx 97% 4xx 3%"; requests
// without a response count as "none".
func statusMix(st []StatusCount, calls int64) string {
	if calls == 0 {
		return "-"
	}
	var classes [7]int64 // none, 1xx..5xx, other
	for _, s := range st {
		c := s.Code / 100
		switch {
		case s.Code == 0:
			c = 0
		case c < 1 || c > 5:
			c = 6
		}
		classes[c] += s.Count
	}
	names := [7]string{"none", "1xx", "2xx", "3xx", "4xx", "5xx", "other"}
	var parts []string
	for _, c := range []int{2, 3, 4, 5, 1, 6, 0} {
		if classes[c] == 0 {
			continue
		}
		pct := float64(classes[c]) * 100 / float64(calls)
		if pct < 1 {
			parts = append(parts, fmt.Sprintf("%s <1%%", names[c]))
		} else {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", names[c], pct))
		}
	}
	return strings.Join(parts, " ")
}

func latency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Second).String()
}

func authList(as []AuthSeen) string {
	var parts []string
	for _, a := range as {
		s := a.Scheme
		if a.Name != "" {
			s += "(" + a.Name + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func sensitiveList(fs []SensitiveField) string {
	var classes []string
	for _, f := range fs {
		classes = append(classes, f.Classes...)
	}
	slices.Sort(classes)
	classes = slices.Compact(classes)
	if len(classes) == 0 {
		return "-"
	}
	return strings.Join(classes, ",")
}
