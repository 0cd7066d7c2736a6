package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/getkin/kin-openapi/openapi3"
)

// Marshal renders doc as "yaml" (or "yml") or "json" (case-insensitive, a
// leading dot allowed, so a file extension will do). The output is
// deterministic: the same document gives the same bytes. Keys of OpenAPI
// objects come in reading order (openapi, info, servers, paths,
// components; operationId, summary, parameters, requestBody, responses;
// type, format, properties, required), extensions last; keys that are
// names (paths, properties, status codes, media types, component names)
// are sorted. JSON is indented by two spaces; both end with a newline.
func Marshal(doc *openapi3.T, format string) ([]byte, error) {
	if doc == nil {
		return nil, fmt.Errorf("openapi: marshal: nil document")
	}
	f := strings.ToLower(strings.TrimPrefix(format, "."))
	if f != "yaml" && f != "yml" && f != "json" {
		return nil, fmt.Errorf("openapi: marshal: unknown format %q (want yaml or json)", format)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	root := toNode(v, kindRoot)
	var buf bytes.Buffer
	if f == "json" {
		if err := writeJSON(&buf, root, 0); err != nil {
			return nil, fmt.Errorf("openapi: marshal: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// kind says what a JSON object in an OpenAPI document is, which decides
// the order of its keys and the kinds of its children.
type kind uint8

const (
	kindRaw        kind = iota // user data (examples, enums, extensions): keys sorted
	kindRoot                   // the OpenAPI object
	kindComponents             // the Components object
	kindPathItem
	kindOperation
	kindSchema
	kindOther  // every other OpenAPI object
	kindApitap // the value of an x-apitap-* extension
)

// keyOrder lists, per kind, the keys that come first and in which order;
// other keys follow sorted, extensions last.
func keyOrder(k kind) []string {
	switch k {
	case kindRoot:
		return []string{"openapi", "info", "jsonSchemaDialect", "servers", "security", "tags", "paths", "webhooks", "components", "externalDocs"}
	case kindComponents:
		return []string{"securitySchemes", "schemas", "parameters", "requestBodies", "responses", "headers", "examples",
			"links", "callbacks", "pathItems"}
	case kindPathItem:
		return []string{"$ref", "summary", "description", "servers", "parameters", "get", "put", "post", "delete", "options", "head", "patch", "trace"}
	case kindOperation:
		return []string{"operationId", "summary", "description", "tags", "servers", "security", "parameters", "requestBody", "responses",
			"callbacks", "deprecated", "externalDocs"}
	case kindSchema:
		return []string{"$ref", "title", "description", "type", "format", "contentMediaType", "contentEncoding", "nullable", "const", "enum",
			"default", "multipleOf", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
			"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "properties", "required", "additionalProperties",
			"minProperties", "maxProperties", "oneOf", "anyOf", "allOf", "not", "discriminator", "readOnly", "writeOnly", "deprecated",
			"example", "examples"}
	case kindOther:
		return []string{"url", "type", "scheme", "bearerFormat", "flows", "openIdConnectUrl", "name", "in", "title", "summary",
			"description", "termsOfService", "contact", "license", "version", "variables", "required", "deprecated",
			"allowEmptyValue", "style", "explode", "allowReserved", "schema", "headers", "content", "links", "example", "examples", "encoding"}
	case kindApitap:
		return []string{"in", "pointer", "scheme", "name", "classes", "count", "p50", "p95", "p99"}
	}
	return nil
}

// childKind says what the value under key of an object of kind k is. When
// asMap is true, the value is a map from names to objects of kind k2.
func childKind(k kind, key string) (child kind, asMap bool) {
	if k == kindRaw || k == kindApitap {
		return k, false
	}
	if strings.HasPrefix(key, "x-apitap-") {
		return kindApitap, false
	}
	if strings.HasPrefix(key, "x-") {
		return kindRaw, false
	}
	switch k {
	case kindRoot:
		switch key {
		case "paths", "webhooks":
			return kindPathItem, true
		case "components":
			return kindComponents, false
		case "security":
			return kindRaw, false
		}
	case kindComponents:
		switch key {
		case "schemas":
			return kindSchema, true
		case "pathItems":
			return kindPathItem, true
		case "examples":
			return kindRaw, false
		}
		return kindOther, true
	case kindPathItem:
		if methodRank(strings.ToUpper(key)) < len(methodOrder) {
			return kindOperation, false
		}
	case kindOperation:
		switch key {
		case "responses":
			return kindOther, true
		case "security", "callbacks":
			return kindRaw, false
		}
	case kindSchema:
		switch key {
		case "properties", "patternProperties", "$defs", "dependentSchemas":
			return kindSchema, true
		case "items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "contentSchema",
			"unevaluatedItems", "unevaluatedProperties", "allOf", "oneOf", "anyOf", "prefixItems":
			return kindSchema, false
		case "discriminator", "xml", "externalDocs":
			return kindOther, false
		}
		return kindRaw, false
	case kindOther:
		switch key {
		case "schema":
			return kindSchema, false
		case "content", "headers", "encoding", "variables", "links", "mapping", "scopes":
			return kindOther, true
		case "examples", "example", "default", "enum", "value":
			return kindRaw, false
		}
	}
	return kindOther, false
}

// toNode builds the YAML node of a decoded JSON value of kind k.
func toNode(v any, k kind) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, key := range orderedKeys(x, k) {
			ck, asMap := childKind(k, key)
			var val *yaml.Node
			if m, ok := x[key].(map[string]any); ok && asMap {
				val = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				for _, name := range sortedKeys(m) {
					val.Content = append(val.Content, scalar("!!str", name), toNode(m[name], ck))
				}
			} else {
				val = toNode(x[key], ck)
			}
			n.Content = append(n.Content, scalar("!!str", key), val)
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, toNode(e, k))
		}
		return n
	case string:
		n := scalar("!!str", x)
		if yaml11Special(x) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return scalar("!!float", x.String())
		}
		return scalar("!!int", x.String())
	case bool:
		if x {
			return scalar("!!bool", "true")
		}
		return scalar("!!bool", "false")
	default:
		return scalar("!!null", "null")
	}
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// yaml11Special reports whether a YAML 1.1 reader (still common) would
// read the plain scalar s as something other than a string: the old
// booleans (yes, no, on, off, y, n) and base-60 numbers ("1:20"). YAML 1.2,
// which the encoder follows, reads them as strings and would not quote them.
func yaml11Special(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off":
		return true
	}
	// [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return false
	}
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	groups := 0
	for i < len(s) && s[i] == ':' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 2 {
			i++
		}
		if n := i - start; n == 0 || n == 2 && s[start] > '5' {
			return false
		}
		groups++
	}
	if groups == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	return i == len(s)
}

// orderedKeys sorts an object's keys: the kind's known keys in their
// order, then other keys, then extensions, each group sorted.
func orderedKeys(m map[string]any, k kind) []string {
	keys := sortedKeys(m)
	order := keyOrder(k)
	rank := func(key string) int {
		if r := slices.Index(order, key); r >= 0 {
			return r
		}
		if strings.HasPrefix(key, "x-") {
			return 1 << 20
		}
		return 1 << 19
	}
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	return keys
}

// writeJSON writes a node tree built by toNode as indented JSON.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, depth int) error {
	indent := func(d int) {
		buf.WriteByte('\n')
		for range d {
			buf.WriteString("  ")
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteByte('{')
		for i := 0; i < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			indent(depth + 1)
			if err := writeJSONString(buf, n.Content[i].Value); err != nil {
				return err
			}
			buf.WriteString(": ")
			if err := writeJSON(buf, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		buf.WriteByte('}')
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			indent(depth + 1)
			if err := writeJSON(buf, c, depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		buf.WriteByte(']')
	default:
		if n.Tag == "!!str" {
			return writeJSONString(buf, n.Value)
		}
		buf.WriteString(n.Value)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
