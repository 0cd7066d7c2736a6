package lab

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// serverEntry is what the Go server logged about one request.
type serverEntry struct {
	Method, Host, URI string
	Status            int
	ReqBody, RespBody int64
	Remote            string
	ViaNginx          bool
}

// serverLog collects the Go server's entries.
type serverLog = syncList[serverEntry]

// syncList is a list that several goroutines add to. The zero value is
// empty and ready to use.
type syncList[T any] struct {
	mu    sync.Mutex
	items []T
}

func (l *syncList[T]) add(v T) {
	l.mu.Lock()
	l.items = append(l.items, v)
	l.mu.Unlock()
}

// all returns a copy of the items added so far, in order.
func (l *syncList[T]) all() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

// countingWriter wraps a ResponseWriter to learn the status and the entity
// bytes the handler wrote.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

func (r *countingReader) Close() error { return r.r.Close() }

// logged wraps h so that every request is recorded in log.
func logged(h http.Handler, log *serverLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr := &countingReader{r: r.Body}
		r.Body = cr
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		io.Copy(io.Discard, io.LimitReader(cr, 64<<20))
		st := cw.status
		if st == 0 {
			st = 200
		}
		n := cw.n
		if r.Method == http.MethodHead || st == 204 || st == 304 {
			n = 0
		}
		log.add(serverEntry{
			Method: r.Method, Host: r.Host, URI: r.RequestURI, Status: st,
			ReqBody: cr.n, RespBody: n, Remote: r.RemoteAddr,
			ViaNginx: r.Header.Get("X-Lab-Via") == "nginx",
		})
	})
}

// DemoToken is the bearer token the demo API accepts.
const DemoToken = "demo-token-7f3a"

// newHandler returns the Go server's routes: test endpoints for HTTP
// features and a small JSON REST API (users, orders, items) under /api/.
func newHandler() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		w.Write(b)
	}
	intParam := func(r *http.Request, name string, def int) int {
		if v, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil && v >= 0 {
			return v
		}
		return def
	}

	// Feature endpoints.
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"size": intParam(r, "size", 64), "data": strings.Repeat("j", intParam(r, "size", 64))})
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n, size := intParam(r, "n", 4), intParam(r, "size", 100)
		w.Write([]byte("["))
		for i := 0; i < n; i++ {
			if i > 0 {
				w.Write([]byte(","))
			}
			fmt.Fprintf(w, `{"i":%d,"pad":%q}`, i, strings.Repeat("c", size))
			w.(http.Flusher).Flush()
		}
		w.Write([]byte("]"))
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		body := bytes.Repeat([]byte(`{"k":"compressible value"},`), intParam(r, "n", 100))
		w.Header().Set("Content-Type", "application/json")
		writeGzipped(w, r, body)
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			code = 400
		}
		if code == 204 || code == 304 {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, map[string]any{"status": code})
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(304)
			return
		}
		writeJSON(w, 200, map[string]any{"version": 1})
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		writeJSON(w, 200, map[string]any{"received": n, "method": r.Method})
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		size := intParam(r, "size", 1<<20)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for size > 0 {
			n := min(size, len(chunk))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			size -= n
		}
	})

	// The demo REST API.
	api := http.NewServeMux()
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	user := func(id int) map[string]any {
		names := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Edsger Dijkstra"}
		n := names[id%len(names)]
		return map[string]any{"id": id, "name": n, "email": strings.ToLower(strings.ReplaceAll(n, " ", ".")) + "@example.com",
			"active": id%3 != 0, "created_at": fmt.Sprintf("2024-0%d-1%dT10:00:00Z", 1+id%9, id%10)}
	}
	item := func(id int) map[string]any {
		return map[string]any{"id": id, "sku": fmt.Sprintf("SKU-%05d", id*37), "category": []string{"books", "tools", "garden"}[id%3],
			"price": float64(id*199%10000) / 100, "in_stock": id%4 != 0}
	}
	order := func(id string) map[string]any {
		return map[string]any{"id": id, "user_id": 1 + len(id)%50, "status": "paid", "total": 42.5, "currency": "EUR",
			"items": []any{item(3), item(7)}}
	}
	readJSON := func(r *http.Request) (map[string]any, bool) {
		var v map[string]any
		return v, json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&v) == nil
	}
	// getByID serves GET .../{id}: get(id) for an id from 1 to last, else
	// a 404 saying what was not found.
	getByID := func(what string, last int, get func(int) map[string]any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.Atoi(r.PathValue("id"))
			if err != nil || id < 1 || id > last {
				writeJSON(w, 404, map[string]any{"error": what + " not found"})
				return
			}
			writeJSON(w, 200, get(id))
		}
	}
	// create serves a POST of a JSON object: 201 with the object as set
	// completes it, or 400 when the body is not a JSON object.
	create := func(set func(v map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v, ok := readJSON(r)
			if !ok {
				writeJSON(w, 400, map[string]any{"error": "invalid JSON"})
				return
			}
			set(v)
			writeJSON(w, 201, v)
		}
	}
	api.HandleFunc("GET /api/users", func(w http.ResponseWriter, r *http.Request) {
		limit, offset := intParam(r, "limit", 10), intParam(r, "offset", 0)
		var out []any
		for i := offset + 1; i <= offset+min(limit, 50); i++ {
			out = append(out, user(i))
		}
		writeJSON(w, 200, map[string]any{"data": out, "limit": limit, "offset": offset})
	})
	api.HandleFunc("GET /api/users/{id}", getByID("user", 100, user))
	api.HandleFunc("POST /api/users", create(func(v map[string]any) { v["id"] = 101 }))
	api.HandleFunc("PUT /api/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := readJSON(r)
		id, err := strconv.Atoi(r.PathValue("id"))
		if !ok || err != nil {
			writeJSON(w, 400, map[string]any{"error": "invalid request"})
			return
		}
		v["id"] = id
		writeJSON(w, 200, v)
	})
	api.HandleFunc("DELETE /api/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	})
	api.HandleFunc("GET /api/orders", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"data": []any{order("6f1c2a9e-8d1b-4c3e-9a7f-0b5d4e3c2a10")}, "status": r.URL.Query().Get("status")})
	})
	api.HandleFunc("GET /api/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !uuidRE.MatchString(id) {
			writeJSON(w, 404, map[string]any{"error": "order not found"})
			return
		}
		writeJSON(w, 200, order(id))
	})
	api.HandleFunc("POST /api/orders", create(func(v map[string]any) {
		v["id"] = "0d6c3f52-6a51-4b8e-b0a4-5e3f2d1c9b87"
		v["status"] = "created"
	}))
	api.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		var out []any
		for i := 1; i <= intParam(r, "limit", 20); i++ {
			out = append(out, item(i))
		}
		b, _ := json.Marshal(map[string]any{"data": out, "category": r.URL.Query().Get("category")})
		w.Header().Set("Content-Type", "application/json")
		writeGzipped(w, r, b)
	})
	api.HandleFunc("GET /api/items/{id}", getByID("item", 500, item))
	api.HandleFunc("GET /api/reports/daily", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, map[string]any{"error": "report backend unavailable"})
	})
	api.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"status": "ok"})
	})
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" && r.Header.Get("Authorization") != "Bearer "+DemoToken {
			writeJSON(w, 401, map[string]any{"error": "missing or invalid token"})
			return
		}
		api.ServeHTTP(w, r)
	}))
	return mux
}

// writeGzipped writes body with its Content-Length, gzip-compressed (with
// Content-Encoding: gzip) when the request accepts gzip.
func writeGzipped(w http.ResponseWriter, r *http.Request, body []byte) {
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		body = z.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
