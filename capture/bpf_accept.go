package capture

import "golang.org/x/net/bpf"

// acceptAll is the classic BPF program "ret #snapLen": accept every frame,
// keeping at most snapLen bytes of it.
func acceptAll(snapLen int) []bpf.RawInstruction {
	ret, _ := bpf.RetConstant{Val: uint32(snapLen)}.Assemble() // cannot fail
	return []bpf.RawInstruction{ret}
}

// dropAll is the classic BPF program "ret #0": drop every frame.
func dropAll() []bpf.RawInstruction { return acceptAll(0) }
