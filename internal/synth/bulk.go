package synth

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// BulkConfig configures WriteBulkAPI. Every field's zero value has a
// documented default.
type BulkConfig struct {
	// Size is the target size of the capture file in bytes: no new
	// exchange starts once it is reached, then the open connections finish
	// their exchange in flight and close, so the file ends slightly larger.
	// Zero: 64 MiB.
	Size int64
	// Seed makes the traffic: the same seed and config write the same
	// bytes.
	Seed uint64
	// Clients is the number of distinct client addresses (10.1.0.0/16).
	// Zero: 200.
	Clients int
	// Servers is the number of distinct servers (10.2.0.0/16, ports 80 and
	// 8080, Host svc-NN.example.internal). Zero: 16; at most 100.
	Servers int
	// Conns is the number of connections open at once; the messages of
	// open connections interleave. Zero: 64.
	Conns int
	// Exchanges is the mean number of keep-alive exchanges per connection
	// (each connection draws 1..2×Exchanges). Zero: 100.
	Exchanges int
	// MSS is the largest TCP payload per packet. Zero: 1460.
	MSS int
	// Start is the timestamp of the first packet. Zero: 2024-01-01 UTC.
	Start time.Time
	// Rate is the simulated link rate in bits per second that spaces the
	// packets' timestamps. Zero: 1 Gbit/s.
	Rate int64
}

// Stats describes what WriteBulkAPI wrote; it is the ground truth the
// pipeline's counts are compared with.
type Stats struct {
	Bytes        int64 // bytes of the pcap file
	Packets      int64
	Connections  int64 // TCP connections (each with handshake and FIN close)
	Exchanges    int64 // requests, each answered by one response
	PayloadBytes int64 // TCP payload bytes, both directions
	Chunked      int64 // chunked responses
	Gzip         int64 // gzip-encoded responses
	Methods      map[string]int64
	Statuses     map[int]int64
}

// Placeholders in templates, replaced per exchange by fixed-width values.
const (
	phID     = "#######"                              // 7-digit numeric id
	phUUID   = "$$$$$$$$-$$$$-$$$$-$$$$-$$$$$$$$$$$$" // UUID v4
	phServer = "%%"                                   // 2-digit server number
)

const (
	slotID uint8 = iota
	slotUUID
	slotServer
)

type slot struct {
	off  int
	kind uint8
}

type msgTmpl struct {
	b     []byte
	slots []slot
}

type exTmpl struct {
	req, resp        msgTmpl
	method           string
	status           int
	chunked, gzipped bool
}

func compile(s string) msgTmpl {
	t := msgTmpl{b: []byte(s)}
	for _, p := range []struct {
		ph   string
		kind uint8
	}{{phUUID, slotUUID}, {phID, slotID}, {phServer, slotServer}} {
		for off := 0; ; {
			i := bytes.Index(t.b[off:], []byte(p.ph))
			if i < 0 {
				break
			}
			t.slots = append(t.slots, slot{off: off + i, kind: p.kind})
			off += i + len(p.ph)
		}
	}
	return t
}

// apiTemplates builds the request/response templates and a 1024-entry
// table that picks one by weight.
func apiTemplates(r *rand.Rand) ([]exTmpl, []uint16) {
	firsts := []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia"}
	lasts := []string{"Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Dijkstra", "Perlman"}
	cats := []string{"books", "garden", "tools", "toys", "kitchen", "sports", "music", "office"}
	user := func(id string) string {
		f, l := firsts[r.IntN(len(firsts))], lasts[r.IntN(len(lasts))]
		return `{"id":` + id + `,"name":"` + f + ` ` + l + `","email":"` + strings.ToLower(f) + `.` + strings.ToLower(l) + `@example.com","active":` +
			strconv.FormatBool(r.IntN(4) != 0) + `,"created_at":"2023-0` + strconv.Itoa(1+r.IntN(9)) + `-1` + strconv.Itoa(r.IntN(10)) +
			`T08:1` + strconv.Itoa(r.IntN(10)) + `:00Z","roles":["` + []string{"admin", "user", "viewer"}[r.IntN(3)] + `"],"score":` +
			strconv.FormatFloat(float64(r.IntN(10000))/100, 'f', 2, 64) + `}`
	}
	item := func() string {
		return `{"sku":"SKU-` + strconv.Itoa(10000+r.IntN(90000)) + `","category":"` + cats[r.IntN(len(cats))] + `","qty":` +
			strconv.Itoa(1+r.IntN(9)) + `,"price":` + strconv.FormatFloat(float64(100+r.IntN(99900))/100, 'f', 2, 64) + `,"tags":["new","sale"]}`
	}
	order := func(id string, n int) string {
		var b strings.Builder
		b.WriteString(`{"id":"` + id + `","customer_id":` + strconv.Itoa(1000000+r.IntN(9000000)) + `,"status":"` +
			[]string{"pending", "paid", "shipped", "delivered"}[r.IntN(4)] + `","currency":"EUR","items":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(item())
		}
		b.WriteString(`],"note":null}`)
		return b.String()
	}
	list := func(n int, elem func() string) string {
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(elem())
		}
		b.WriteString(`],"total":` + strconv.Itoa(n+r.IntN(1000)) + `,"next":null}`)
		return b.String()
	}
	userAgents := []string{"python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1", "axios/1.6.7", "curl/8.5.0"}
	reqHead := func(method, uri string, body string, gz bool) string {
		var b strings.Builder
		b.WriteString(method + " " + uri + " HTTP/1.1\r\nHost: svc-" + phServer + ".example.internal\r\nUser-Agent: " +
			userAgents[r.IntN(len(userAgents))] + "\r\nAccept: application/json\r\n")
		if gz {
			b.WriteString("Accept-Encoding: gzip\r\n")
		}
		b.WriteString("Authorization: Bearer tok_" + strconv.FormatUint(r.Uint64(), 36) + "\r\nX-Request-Id: " + phUUID + "\r\n")
		if body != "" || method == "POST" || method == "PUT" {
			b.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
		}
		b.WriteString("\r\n")
		b.WriteString(body)
		return b.String()
	}
	type respOpt struct {
		status           int
		body             string
		chunked, gzipped bool
		ctype            string
	}
	respMsg := func(o respOpt) string {
		var b strings.Builder
		b.WriteString("HTTP/1.1 " + strconv.Itoa(o.status) + " " + statusText(o.status) + "\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: api-gateway\r\n")
		if o.status == 204 {
			b.WriteString("\r\n")
			return b.String()
		}
		ct := o.ctype
		if ct == "" {
			ct = "application/json"
		}
		b.WriteString("Content-Type: " + ct + "\r\n")
		entity := o.body
		if o.gzipped {
			entity = string(gzipBytes([]byte(o.body)))
			b.WriteString("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n")
		}
		if o.chunked {
			b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			b.Write(chunk([]byte(entity), 1024+r.IntN(3)*1024, nil))
			return b.String()
		}
		b.WriteString("Content-Length: " + strconv.Itoa(len(entity)) + "\r\n\r\n")
		b.WriteString(entity)
		return b.String()
	}
	var tmpls []exTmpl
	var weights []int
	add := func(w int, method, uri, reqBody string, gz bool, o respOpt) {
		if o.gzipped {
			gz = true
			// A compressed body cannot hold placeholders.
			o.body = strings.NewReplacer(phID, "4242424", phUUID, "0f8fad5b-d9cb-469f-a165-70867728950e").Replace(o.body)
		}
		tmpls = append(tmpls, exTmpl{
			req: compile(reqHead(method, uri, reqBody, gz)), resp: compile(respMsg(o)),
			method: method, status: o.status, chunked: o.chunked, gzipped: o.gzipped,
		})
		weights = append(weights, w)
	}
	for v := 0; v < 8; v++ {
		add(20, "GET", "/api/v1/users/"+phID, "", false, respOpt{status: 200, body: user(phID)})
		n := 1 + r.IntN(40)
		add(6, "GET", "/api/v1/users?page="+strconv.Itoa(1+r.IntN(20))+"&limit="+strconv.Itoa(n), "", false,
			respOpt{status: 200, body: list(n, func() string { return user(strconv.Itoa(1000000 + r.IntN(9000000))) }), chunked: v%3 == 0})
		add(2, "GET", "/api/v1/users?page="+strconv.Itoa(1+r.IntN(20))+"&limit=50&sort=name", "", true,
			respOpt{status: 200, body: list(50, func() string { return user(strconv.Itoa(1000000 + r.IntN(9000000))) }), gzipped: true, chunked: v%2 == 0})
		add(12, "GET", "/api/v1/orders/"+phUUID, "", false, respOpt{status: 200, body: order(phUUID, 1+r.IntN(6))})
		ob := order("", 1+r.IntN(4))
		add(8, "POST", "/api/v1/orders", ob, false, respOpt{status: 201, body: `{"id":"` + phUUID + `","status":"created"}`})
		add(5, "PUT", "/api/v1/users/"+phID, user(phID), false, respOpt{status: 200, body: user(phID)})
		add(4, "DELETE", "/api/v1/items/"+phID, "", false, respOpt{status: 204})
		c := cats[r.IntN(len(cats))]
		m := 5 + r.IntN(60)
		add(6, "GET", "/api/v1/items?category="+c+"&sort=price&limit="+strconv.Itoa(m), "", false,
			respOpt{status: 200, body: list(m, item), chunked: true})
		add(6, "GET", "/api/v1/users/"+phID+"/orders", "", false,
			respOpt{status: 200, body: list(1+r.IntN(5), func() string { return order(phUUID, 1+r.IntN(3)) })})
		add(2, "GET", "/api/v1/items/"+phID, "", false, respOpt{status: 404, body: `{"error":"not_found","message":"item ` + phID + ` does not exist"}`})
		add(1, "GET", "/api/v1/admin/stats", "", false, respOpt{status: 401, body: `{"error":"unauthorized"}`})
		add(2, "POST", "/api/v1/auth/token", `{"client_id":"app-`+strconv.Itoa(r.IntN(100))+`","grant_type":"client_credentials"}`, false,
			respOpt{status: 200, body: `{"access_token":"` + phUUID + `","token_type":"Bearer","expires_in":3600}`})
		add(2, "GET", "/healthz", "", false, respOpt{status: 200, body: "ok\n", ctype: "text/plain"})
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	table := make([]uint16, 1024)
	for i := range table {
		x := i * total / len(table)
		for j, w := range weights {
			if x < w {
				table[i] = uint16(j)
				break
			}
			x -= w
		}
	}
	return tmpls, table
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 401:
		return "Unauthorized"
	case 404:
		return "Not Found"
	}
	return "Unknown"
}

// bulkConn is one open connection of the bulk generator.
type bulkConn struct {
	c2s, s2c   [54]byte // Ethernet + IPv4 + TCP header templates
	cseq, sseq uint32
	cid, sid   uint16
	left       int  // exchanges still to make
	awaiting   bool // a request was sent, its response is due
	tmpl       int
	vals       [36 + 7 + 2]byte // uuid, id, server values of the exchange in flight
}

type bulkWriter struct {
	w       *bufio.Writer
	cfg     BulkConfig
	r       *rand.Rand
	ts      time.Time
	stats   Stats
	rec     [16 + 54]byte
	scratch []byte
	port    uint32
	err     error
}

// WriteBulkAPI writes a pcap (Ethernet, IPv4, microsecond timestamps) of
// keep-alive JSON REST API traffic to w until cfg.Size bytes are written,
// and returns what it wrote. The traffic is many clients talking to a few
// servers over concurrently open connections, each with a handshake,
// 1..2×cfg.Exchanges request/response exchanges and a FIN close; packets
// have valid sequence and acknowledgement numbers and IPv4 checksums, and
// zero TCP checksums. The output depends only on cfg.
func WriteBulkAPI(w io.Writer, cfg BulkConfig) (Stats, error) {
	if cfg.Size <= 0 {
		cfg.Size = 64 << 20
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 200
	}
	if cfg.Servers <= 0 {
		cfg.Servers = 16
	}
	if cfg.Servers > 100 {
		return Stats{}, errors.New("synth: BulkConfig.Servers is at most 100")
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 64
	}
	if cfg.Exchanges <= 0 {
		cfg.Exchanges = 100
	}
	if cfg.MSS <= 0 {
		cfg.MSS = 1460
	}
	if cfg.Start.IsZero() {
		cfg.Start = defaultStart
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1e9
	}
	bw := &bulkWriter{
		w:   bufio.NewWriterSize(w, 1<<20),
		cfg: cfg,
		r:   rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		ts:  cfg.Start,
		stats: Stats{
			Methods:  map[string]int64{},
			Statuses: map[int]int64{},
		},
	}
	tmpls, table := apiTemplates(rand.New(rand.NewPCG(cfg.Seed, 0x7e3)))
	methods := make([]int64, len(tmpls))

	fh := appendPcapFileHeader(nil, LinkTypeEthernet, false)
	bw.write(fh)
	conns := make([]*bulkConn, cfg.Conns)
	for i := range conns {
		conns[i] = bw.open()
	}
	open := len(conns)
	for open > 0 && bw.err == nil {
		i := bw.r.IntN(len(conns))
		c := conns[i]
		if c == nil {
			continue
		}
		if !c.awaiting {
			if c.left == 0 || bw.stats.Bytes >= cfg.Size {
				bw.close(c)
				conns[i] = nil
				open--
				if bw.stats.Bytes < cfg.Size {
					conns[i] = bw.open()
					open++
				}
				continue
			}
			c.tmpl = int(table[bw.r.IntN(len(table))])
			bw.fillVals(c)
			bw.message(c, true, &tmpls[c.tmpl].req)
			c.awaiting = true
			continue
		}
		t := &tmpls[c.tmpl]
		bw.message(c, false, &t.resp)
		// The client's delayed ACK of the response.
		bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
		c.awaiting = false
		c.left--
		methods[c.tmpl]++
		bw.stats.Exchanges++
	}
	for i, n := range methods {
		if n > 0 {
			bw.stats.Methods[tmpls[i].method] += n
			bw.stats.Statuses[tmpls[i].status] += n
			if tmpls[i].chunked {
				bw.stats.Chunked += n
			}
			if tmpls[i].gzipped {
				bw.stats.Gzip += n
			}
		}
	}
	if bw.err == nil {
		if err := bw.w.Flush(); err != nil {
			bw.err = fmt.Errorf("synth: write bulk capture: %w", err)
		}
	}
	return bw.stats, bw.err
}

func (bw *bulkWriter) write(b []byte) {
	if bw.err != nil {
		return
	}
	n, err := bw.w.Write(b)
	bw.stats.Bytes += int64(n)
	if err != nil {
		bw.err = fmt.Errorf("synth: write bulk capture: %w", err)
	}
}

// open starts a new connection with its handshake.
func (bw *bulkWriter) open() *bulkConn {
	r := bw.r
	ci := r.IntN(bw.cfg.Clients)
	si := r.IntN(bw.cfg.Servers)
	cip := [4]byte{10, 1, byte(ci >> 8), byte(ci)}
	sip := [4]byte{10, 2, 0, byte(si + 1)}
	bw.port++
	cport := uint16(1024 + bw.port%64000)
	sport := uint16(80)
	if si%2 == 1 {
		sport = 8080
	}
	c := &bulkConn{
		cseq: r.Uint32(), sseq: r.Uint32(),
		cid: uint16(r.Uint32()), sid: uint16(r.Uint32()),
		left: 1 + r.IntN(2*bw.cfg.Exchanges),
	}
	c.vals[43], c.vals[44] = '0'+byte(si/10), '0'+byte(si%10)
	hdrTemplate(&c.c2s, cip, sip, cport, sport)
	hdrTemplate(&c.s2c, sip, cip, sport, cport)
	bw.packet(&c.c2s, &c.cid, c.cseq, 0, tcpSYN, nil)
	c.cseq++
	bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, tcpSYN|tcpACK, nil)
	c.sseq++
	bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
	bw.stats.Connections++
	return c
}

// close ends a connection: FIN, FIN-ACK, ACK.
func (bw *bulkWriter) close(c *bulkConn) {
	bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpFIN|tcpACK, nil)
	c.cseq++
	bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, tcpFIN|tcpACK, nil)
	c.sseq++
	bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
}

const hexDigits = "0123456789abcdef"

// fillVals draws the id and UUID of the next exchange.
func (bw *bulkWriter) fillVals(c *bulkConn) {
	u := bw.r.Uint64()
	v := bw.r.Uint64()
	j := 0
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			c.vals[i] = '-'
			continue
		case 14:
			c.vals[i] = '4' // version 4
			continue
		case 19:
			c.vals[i] = "89ab"[u>>62] // RFC 4122 variant
			continue
		}
		var nib uint64
		if j < 16 {
			nib = u >> (4 * j) & 15
		} else {
			nib = v >> (4 * (j - 16)) & 15
		}
		j++
		c.vals[i] = hexDigits[nib]
	}
	id := 1000000 + v%9000000
	for i := 42; i >= 36; i-- {
		c.vals[i] = '0' + byte(id%10)
		id /= 10
	}
}

// message sends one templated message, patched with the exchange's
// values, in MSS-sized segments.
func (bw *bulkWriter) message(c *bulkConn, fromClient bool, t *msgTmpl) {
	b := t.b
	if len(t.slots) > 0 {
		bw.scratch = append(bw.scratch[:0], t.b...)
		b = bw.scratch
		for _, s := range t.slots {
			switch s.kind {
			case slotUUID:
				copy(b[s.off:s.off+36], c.vals[0:36])
			case slotID:
				copy(b[s.off:s.off+7], c.vals[36:43])
			case slotServer:
				copy(b[s.off:s.off+2], c.vals[43:45])
			}
		}
	}
	for len(b) > 0 {
		n := min(len(b), bw.cfg.MSS)
		flags := uint8(tcpACK)
		if n == len(b) {
			flags |= tcpPSH
		}
		if fromClient {
			bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, flags, b[:n])
			c.cseq += uint32(n)
		} else {
			bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, flags, b[:n])
			c.sseq += uint32(n)
		}
		bw.stats.PayloadBytes += int64(n)
		b = b[n:]
	}
}

// hdrTemplate fills the constant parts of an Ethernet/IPv4/TCP header.
func hdrTemplate(h *[54]byte, src, dst [4]byte, sport, dport uint16) {
	h[0], h[1], h[2], h[3], h[4], h[5] = 0x02, 0, dst[0], dst[1], dst[2], dst[3]
	h[6], h[7], h[8], h[9], h[10], h[11] = 0x02, 0, src[0], src[1], src[2], src[3]
	h[12], h[13] = 0x08, 0x00
	ip := h[14:34]
	ip[0] = 0x45
	ip[6] = 0x40 // DF
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	tcp := h[34:54]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	tcp[12] = 5 << 4
	binary.BigEndian.PutUint16(tcp[14:], 0xffff)
}

// packet writes one frame: pcap record header, the patched header template
// and the payload.
func (bw *bulkWriter) packet(h *[54]byte, id *uint16, seq, ack uint32, flags uint8, payload []byte) {
	*id++
	ip := h[14:34]
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], *id)
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^checksumFold(checksumAdd(0, ip)))
	tcp := h[34:54]
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[13] = flags
	frameLen := 54 + len(payload)
	putPcapRecordHeader(bw.rec[:16], bw.ts, frameLen, frameLen, false)
	copy(bw.rec[16:], h[:])
	bw.write(bw.rec[:])
	if len(payload) > 0 {
		bw.write(payload)
	}
	bw.stats.Packets++
	// Space packets as on a link of cfg.Rate bits per second (wire
	// overhead of 24 bytes per frame: preamble, FCS, gap).
	bw.ts = bw.ts.Add(time.Duration(int64(frameLen+24) * 8 * int64(time.Second) / bw.cfg.Rate))
}
