package speclab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// mediaRank orders media types by preference: JSON first, then forms, text,
// anything else.
func mediaRank(ct string) int {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return 0
	case mt == "application/x-www-form-urlencoded":
		return 1
	case mt == "multipart/form-data":
		return 2
	case mt == "text/plain":
		return 3
	case mt == "*/*" || mt == "":
		return 4
	}
	return 5
}

// pickMedia returns the preferred media type of a content map and its entry.
func pickMedia(c openapi3.Content) (string, *openapi3.MediaType) {
	best, bestRank := "", 99
	for _, ct := range sortedKeys(c) {
		if r := mediaRank(ct); r < bestRank {
			best, bestRank = ct, r
		}
	}
	if best == "" && len(c) == 0 {
		return "", nil
	}
	return best, c[best]
}

func isBinary(s *openapi3.Schema) bool {
	return s != nil && s.Type.Is(openapi3.TypeString) && (s.Format == "binary" || s.ContentMediaType != "" || s.ContentEncoding == "binary")
}

// encodeBody generates a body for a media type: it returns the bytes and
// the Content-Type to send.
func encodeBody(g *Generator, ct string, mt *openapi3.MediaType, desc string) ([]byte, string, error) {
	var sch *openapi3.Schema
	if mt != nil && mt.Schema != nil {
		sch = mt.Schema.Value
	}
	base, _, err := mime.ParseMediaType(ct)
	if err != nil {
		base = strings.ToLower(strings.TrimSpace(ct))
	}
	switch {
	case base == "application/json" || strings.HasSuffix(base, "+json"):
		v, err := g.Value(sch, "")
		if err != nil {
			return nil, "", err
		}
		b, err := marshalJSON(v)
		return b, ct, err
	case base == "application/x-www-form-urlencoded":
		v, err := g.Value(sch, "")
		if err != nil {
			return nil, "", err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("form body schema is not an object")
		}
		var q []string
		for _, k := range sortedKeys(m) {
			switch x := m[k].(type) {
			case []any:
				for _, e := range x {
					q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(scalarText(e)))
				}
			default:
				q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(scalarText(x)))
			}
		}
		return []byte(strings.Join(q, "&")), ct, nil
	case base == "multipart/form-data":
		return multipartBody(g, sch)
	case isBinary(sch) || base == "application/octet-stream" || strings.HasPrefix(base, "image/") ||
		strings.HasPrefix(base, "video/") || strings.HasPrefix(base, "audio/"):
		kind := base
		if base == "" || strings.Contains(base, "*") {
			kind = binaryKind(desc)
		}
		b := fakeFile(g.r, kind)
		return b, kind, nil
	case base == "text/plain" || base == "*/*" || base == "" || strings.HasPrefix(base, "text/"):
		if sch != nil && (base == "*/*" || base == "") && !sch.Type.Is(openapi3.TypeString) {
			v, err := g.Value(sch, "")
			if err != nil {
				return nil, "", err
			}
			b, err := marshalJSON(v)
			return b, "application/json", err
		}
		v, err := g.Value(sch, "")
		if err != nil {
			return nil, "", err
		}
		send := ct
		if base == "*/*" || base == "" {
			send = "text/plain; charset=utf-8"
		}
		return []byte(scalarText(v)), send, nil
	}
	v, err := g.Value(sch, "")
	if err != nil {
		return nil, "", err
	}
	return []byte(scalarText(v)), ct, nil
}

// binaryKind guesses a binary media type from a description.
func binaryKind(desc string) string {
	d := strings.ToLower(desc)
	switch {
	case strings.Contains(d, "png"), strings.Contains(d, "image"), strings.Contains(d, "qr"):
		return "image/png"
	case strings.Contains(d, "video"), strings.Contains(d, "mp4"):
		return "video/mp4"
	}
	return "application/octet-stream"
}

// fakeFile returns a small file with the magic bytes of its type.
func fakeFile(r *rand.Rand, kind string) []byte {
	var head []byte
	switch kind {
	case "image/png":
		head = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	case "image/jpeg":
		head = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	case "video/mp4":
		head = []byte("\x00\x00\x00\x18ftypmp42")
	}
	b := make([]byte, 200+r.IntN(800))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return append(head, b...)
}

var fileNames = map[string][]string{
	"image/png":  {"avatar.png", "photo.png", "screenshot.png"},
	"video/mp4":  {"clip.mp4", "video.mp4", "dashcam.mp4"},
	"image/jpeg": {"photo.jpg", "profile.jpg"},
}

// multipartBody encodes an object as multipart/form-data: binary
// properties become file parts.
func multipartBody(g *Generator, sch *openapi3.Schema) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	// A boundary from the seed keeps the bytes deterministic.
	if err := w.SetBoundary("----speclab" + randBase62(g.r, 24)); err != nil {
		return nil, "", err
	}
	var names []string
	if sch != nil {
		names = sortedKeys(sch.Properties)
	}
	for _, k := range names {
		ps := sch.Properties[k].Value
		if isBinary(ps) {
			kind := binaryKind(k + " " + ps.Description)
			if kind == "application/octet-stream" {
				kind = "image/png"
			}
			fn := pick(g.r, fileNames[kind])
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, k, fn))
			h.Set("Content-Type", kind)
			pw, err := w.CreatePart(h)
			if err != nil {
				return nil, "", err
			}
			pw.Write(fakeFile(g.r, kind))
			continue
		}
		v, err := g.Value(ps, k)
		if err != nil {
			return nil, "", err
		}
		if err := w.WriteField(k, scalarText(v)); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// marshalJSON encodes without HTML escaping, as most API servers do.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
