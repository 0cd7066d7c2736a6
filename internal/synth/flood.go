package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// FloodConfig configures WriteFlood: a connection flood with some normal
// API traffic interleaved. Every field's zero value is documented.
type FloodConfig struct {
	// HalfOpen is the number of SYN-flood connections: one SYN each, from
	// distinct client addresses and ports (100.64.0.0/10, ports
	// 10000-10031) to 10.2.0.1:80, never answered. Zero: none.
	HalfOpen int
	// Idle is the number of connections that complete their handshake,
	// send one small request (GET /idle/N to Host idle.example.internal,
	// from 10.10.0.0/16 ports 20000-20031 to 10.2.0.2:80), which the
	// server acknowledges but never answers, and then stay silent to the
	// end of the capture. Zero: none.
	Idle int
	// Normal is the number of keep-alive connections of normal API
	// traffic (from 10.20.x.y port 30000 to 10.3.0.1:8080, Host
	// api.example.internal): a handshake, Exchanges answered requests
	// (URIs FloodURI(conn, i)) spread over the whole capture, and a FIN
	// close. Zero: none.
	Normal int
	// Exchanges is the number of exchanges of each normal connection.
	// Zero: 20.
	Exchanges int
	// Duration is the packet time the capture spans: the flood, idle and
	// normal events are spread evenly over it, in an order drawn from
	// Seed. Zero: 20 seconds (less than the assembler's default handshake
	// timeout, so that a flood is resolved by evictions, not timeouts).
	Duration time.Duration
	// Start is the timestamp of the first packet. Zero: 2024-01-01 UTC.
	Start time.Time
	// Seed orders the events: the same seed and config write the same
	// bytes.
	Seed uint64
}

// FloodStats describes what WriteFlood wrote.
type FloodStats struct {
	Bytes   int64 // bytes of the pcap file
	Packets int64
	// HalfOpen, Idle and Normal count the connections of each kind.
	HalfOpen, Idle, Normal int64
	// Exchanges counts the answered requests of the normal connections.
	Exchanges int64
}

// FloodURI is the request target of exchange i of normal connection conn
// in a WriteFlood capture.
func FloodURI(conn, i int) string {
	return "/api/v1/items/" + strconv.Itoa(conn) + "/" + strconv.Itoa(i)
}

// FloodHost is the Host of the normal requests of a WriteFlood capture.
const FloodHost = "api.example.internal"

// floodConn is the state of one normal connection.
type floodConn struct {
	bulkConn
	index int
	step  int // 0: not open; 1..Exchanges: exchanges done + 1; Exchanges+1: closing
}

// WriteFlood writes a pcap (Ethernet, IPv4, microsecond timestamps) of a
// connection flood to w: cfg.HalfOpen unanswered SYNs, cfg.Idle
// connections idle after one unanswered request, and cfg.Normal keep-alive
// connections whose cfg.Exchanges answered requests must survive the
// flood. It writes a million SYNs in well under a second. The output
// depends only on cfg.
func WriteFlood(w io.Writer, cfg FloodConfig) (FloodStats, error) {
	if cfg.HalfOpen < 0 || cfg.Idle < 0 || cfg.Normal < 0 || cfg.Exchanges < 0 || cfg.Duration < 0 {
		return FloodStats{}, errors.New("synth: FloodConfig fields must not be negative")
	}
	if cfg.HalfOpen > 1<<22 || cfg.Idle > 1<<21 || cfg.Normal > 1<<16 {
		return FloodStats{}, errors.New("synth: FloodConfig allows at most 4194304 half-open, 2097152 idle and 65536 normal connections")
	}
	if cfg.Exchanges == 0 {
		cfg.Exchanges = 20
	}
	if cfg.Duration == 0 {
		cfg.Duration = 20 * time.Second
	}
	if cfg.Start.IsZero() {
		cfg.Start = defaultStart
	}
	bw := &bulkWriter{
		w:   bufio.NewWriterSize(w, 1<<20),
		cfg: BulkConfig{Rate: 10e9},
		ts:  cfg.Start,
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0xf100d))
	bw.write(appendPcapFileHeader(nil, LinkTypeEthernet, false))

	normal := make([]floodConn, cfg.Normal)
	for i := range normal {
		normal[i].index = i
	}
	perNormal := cfg.Exchanges + 2 // open, exchanges, close
	left := [3]int{cfg.HalfOpen, cfg.Idle, cfg.Normal * perNormal}
	total := left[0] + left[1] + left[2]
	step := cfg.Duration / time.Duration(max(total, 1))
	var st FloodStats
	var half, idle int
	for unit := 0; unit < total && bw.err == nil; unit++ {
		if t := cfg.Start.Add(time.Duration(unit) * step); t.After(bw.ts) {
			bw.ts = t
		}
		k := r.IntN(left[0] + left[1] + left[2])
		switch {
		case k < left[0]:
			left[0]--
			bw.synFlood(half, r)
			half++
		case k < left[0]+left[1]:
			left[1]--
			bw.idleConn(idle, r)
			idle++
		default:
			left[2]--
			// A connection drawn by its steps left, so that every
			// connection's exchanges spread over the capture.
			c := pickNormal(normal, perNormal, r.IntN(left[2]+1))
			bw.normalStep(c, cfg.Exchanges, r, &st)
		}
	}
	st.HalfOpen, st.Idle, st.Normal = int64(half), int64(idle), int64(cfg.Normal)
	if bw.err == nil {
		if err := bw.w.Flush(); err != nil {
			bw.err = fmt.Errorf("synth: write flood capture: %w", err)
		}
	}
	st.Bytes, st.Packets = bw.stats.Bytes, bw.stats.Packets
	return st, bw.err
}

// pickNormal returns the normal connection that owns the k-th of the steps
// left (k counts from 0 over the connections in order, each weighing its
// remaining steps).
func pickNormal(conns []floodConn, perNormal, k int) *floodConn {
	for i := range conns {
		rem := perNormal - conns[i].step
		if k < rem {
			return &conns[i]
		}
		k -= rem
	}
	for i := range conns {
		if conns[i].step < perNormal {
			return &conns[i]
		}
	}
	panic("synth: no normal connection step left")
}

// synFlood writes the SYN of half-open connection i.
func (bw *bulkWriter) synFlood(i int, r *rand.Rand) {
	ip := 100<<24 | 64<<16 + uint32(i>>5)
	var c bulkConn
	hdrTemplate(&c.c2s, be4(ip), [4]byte{10, 2, 0, 1}, uint16(10000+i&31), 80)
	c.cid = uint16(r.Uint32())
	bw.packet(&c.c2s, &c.cid, r.Uint32(), 0, tcpSYN, nil)
}

// idleConn writes idle connection i: handshake, one request, the server's
// acknowledgement.
func (bw *bulkWriter) idleConn(i int, r *rand.Rand) {
	cip := 10<<24 | 10<<16 + uint32(i>>5)
	c := bulkConn{cseq: r.Uint32(), sseq: r.Uint32(), cid: uint16(r.Uint32()), sid: uint16(r.Uint32())}
	hdrTemplate(&c.c2s, be4(cip), [4]byte{10, 2, 0, 2}, uint16(20000+i&31), 80)
	hdrTemplate(&c.s2c, [4]byte{10, 2, 0, 2}, be4(cip), 80, uint16(20000+i&31))
	bw.handshake(&c)
	bw.scratch = append(bw.scratch[:0], "GET /idle/"...)
	bw.scratch = strconv.AppendInt(bw.scratch, int64(i), 10)
	bw.scratch = append(bw.scratch, " HTTP/1.1\r\nHost: idle.example.internal\r\nUser-Agent: flood/1.0\r\nAccept: */*\r\n\r\n"...)
	bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK|tcpPSH, bw.scratch)
	c.cseq += uint32(len(bw.scratch))
	bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, tcpACK, nil)
}

// normalStep writes the next step of normal connection c: its handshake,
// one exchange, or its close.
func (bw *bulkWriter) normalStep(c *floodConn, exchanges int, r *rand.Rand, st *FloodStats) {
	switch {
	case c.step == 0:
		cip := [4]byte{10, 20, byte(c.index >> 8), byte(c.index)}
		c.cseq, c.sseq, c.cid, c.sid = r.Uint32(), r.Uint32(), uint16(r.Uint32()), uint16(r.Uint32())
		hdrTemplate(&c.c2s, cip, [4]byte{10, 3, 0, 1}, 30000, 8080)
		hdrTemplate(&c.s2c, [4]byte{10, 3, 0, 1}, cip, 8080, 30000)
		bw.handshake(&c.bulkConn)
	case c.step <= exchanges:
		i := c.step - 1
		uri := FloodURI(c.index, i)
		req := "GET " + uri + " HTTP/1.1\r\nHost: " + FloodHost + "\r\nUser-Agent: client/2.0\r\nAccept: application/json\r\n\r\n"
		body := `{"conn":` + strconv.Itoa(c.index) + `,"item":` + strconv.Itoa(i) + `,"name":"widget","price":12.5}`
		resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
		bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK|tcpPSH, []byte(req))
		c.cseq += uint32(len(req))
		bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, tcpACK|tcpPSH, []byte(resp))
		c.sseq += uint32(len(resp))
		bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
		st.Exchanges++
	default:
		bw.close(&c.bulkConn)
	}
	c.step++
}

// handshake writes SYN, SYN-ACK, ACK and advances the sequence numbers.
func (bw *bulkWriter) handshake(c *bulkConn) {
	bw.packet(&c.c2s, &c.cid, c.cseq, 0, tcpSYN, nil)
	c.cseq++
	bw.packet(&c.s2c, &c.sid, c.sseq, c.cseq, tcpSYN|tcpACK, nil)
	c.sseq++
	bw.packet(&c.c2s, &c.cid, c.cseq, c.sseq, tcpACK, nil)
}

func be4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
