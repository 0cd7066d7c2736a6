package synth_test

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/apitap/apitap/internal/synth"
)

// A connection mirrored through VXLAN, whose request loses its second
// segment on the way to the capture.
func Example() {
	c := synth.NewCapture()
	cn := c.NewConn(synth.ConnConfig{
		MSS:         100,
		ClientStack: synth.VXLANTunnel(netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("172.16.0.2"), 42),
	})
	cn.Request(synth.Request{Method: "POST", URI: "/orders", Body: bytes.Repeat([]byte("x"), 300)}, synth.Drop(1))
	cn.Response(synth.Response{Status: 201, Body: []byte(`{"id":1}`)})
	cn.Exchange(synth.Request{URI: "/orders/1"}, synth.Response{Body: []byte(`{"id":1}`), Chunked: true})
	cn.Close()

	var pcap bytes.Buffer
	if _, err := c.WriteTo(&pcap); err != nil {
		panic(err)
	}
	for _, x := range c.Truth() {
		fmt.Println(x.Method, x.URI, x.Status, x.RequestBodyLen, x.ResponseBodyLen, x.Request, x.Response)
	}
	// Output:
	// POST /orders 201 300 8 partial captured
	// GET /orders/1 200 0 8 captured captured
}
