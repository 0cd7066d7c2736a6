// Package capture turns captured frames into decoded TCP packets and hands
// them to per-worker handlers.
//
// Data flow: a Source (capture files, standard input, an AF_PACKET ring)
// yields Frames; a Decoder removes link layers and mirror-port
// encapsulations and yields the innermost TCP segment as a Packet; the
// packet's symmetric FlowKey.Hash picks the worker, whose Handler (the TCP
// assembler) receives it.
//
// Ownership: a Frame's Data is borrowed from its Source until the next
// ReadFrame; a Packet's Payload is borrowed until the Handler returns.
// Sources and Decoders are used by one goroutine at a time.
package capture
