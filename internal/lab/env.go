package lab

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
)

// EnvConfig configures an Env made by NewEnv, for clients that run where
// Record does not set things up: in a network namespace, against a server
// the caller started (typically serving Handler). The zero value dials with
// a net.Dialer and runs tools in the current network namespace.
type EnvConfig struct {
	// GoServer is the server that Env.GoURL points at.
	GoServer netip.AddrPort
	// Dir receives the files curl sends as request bodies. "": Curl
	// requests must have no body.
	Dir string
	// DialContext dials the Go client's connections (e.g. from inside a
	// network namespace). nil: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Command builds the command that runs a tool such as curl, given its
	// absolute path (e.g. wrapping it in `ip netns exec`). nil:
	// exec.CommandContext.
	Command func(ctx context.Context, name string, args ...string) *exec.Cmd
}

// NewEnv returns an Env whose clients (Do, Get, Send, Curl, Pipeline)
// record the ground truth of their exchanges, read back with Exchanges.
// Its Go client keeps connections alive (at most 4 idle per server);
// CloseIdleConnections closes them. Nginx and Wrk are not available.
func NewEnv(cfg EnvConfig) *Env {
	e := &Env{GoServer: cfg.GoServer, dir: cfg.Dir, logf: func(string, ...any) {}, loop: cfg.GoServer.Addr(),
		dial: cfg.DialContext, command: cfg.Command}
	e.initClient()
	return e
}

// Exchanges returns the ground truth recorded so far, in the order the
// exchanges completed.
func (e *Env) Exchanges() []Exchange { return e.truth.all() }

// CloseIdleConnections closes the Go client's idle keep-alive connections.
func (e *Env) CloseIdleConnections() { e.transport.CloseIdleConnections() }

// Handler returns the Go server's routes as Record serves them: feature
// endpoints (/json, /chunked, /gzip, /status/{code}, /cached, /echo,
// /large) and the demo JSON REST API under /api/ (bearer DemoToken).
func Handler() http.Handler { return newHandler() }
