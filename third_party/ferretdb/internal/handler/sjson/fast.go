// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package sjson

// minsheng patch (issue 9, fourth part): a single-pass decoder for the sjson
// that Marshal writes. The stock Unmarshal decodes a document with
// encoding/json three times over (the document into raw messages, the
// schema by reflection, then every scalar through a new json.Decoder of its
// own); a full scan of a collection spent most of its CPU there.
//
// unmarshalFast reads the document once, left to right, and builds the
// same *types.Document the stock path builds. It accepts only the shape
// Marshal writes: "$s" first, then the schema's keys in the schema's
// order, no duplicate keys, keys and schema strings without escapes,
// element types double, string, objectId, bool, date, null, int, long,
// object and array. Anything else (binData, regex, timestamp, escapes in
// keys, unusual order, a syntax it is unsure of) makes it report false,
// and Unmarshal decodes the data the stock way, with the stock result or
// error. Strings with escapes are decoded with encoding/json, as stock.

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/types"
)

// stockEnv is the project's switch back to stock behaviour (see
// backends/sqlite's stockPushdownEnv): set, Unmarshal is the stock one.
const stockEnv = "FERRETDB_SQLITE_STOCK_PUSHDOWN"

// fastDecoder is the position in the data being decoded.
type fastDecoder struct {
	data  []byte
	pos   int
	depth int
}

// fastMaxDepth bounds the nesting of objects and arrays (of the data and
// the schema together) the fast decoder follows; deeper data is left to
// the stock decoder, whose encoding/json has its own limit.
const fastMaxDepth = 200

// enter counts one more level of nesting; leave undoes it.
func (d *fastDecoder) enter() bool {
	d.depth++
	return d.depth <= fastMaxDepth
}

func (d *fastDecoder) leave() { d.depth-- }

// unmarshalFast decodes data as Unmarshal does; false when it cannot tell
// that its result would be the stock one.
func unmarshalFast(data []byte) (*types.Document, bool) {
	d := fastDecoder{data: data}

	if !d.consume('{') {
		return nil, false
	}

	if k, ok := d.simpleString(); !ok || k != "$s" || !d.consume(':') {
		return nil, false
	}

	// a data key "$s" would be the schema to the stock decoder (a map, the
	// last duplicate wins)
	sch, ok := d.schema()
	if !ok || !uniqueKeys(sch.Keys) || slices.Contains(sch.Keys, "$s") {
		return nil, false
	}

	doc, err := types.NewDocument()
	if err != nil {
		return nil, false
	}

	for _, key := range sch.Keys {
		if !d.consume(',') {
			return nil, false
		}

		if k, ok := d.simpleString(); !ok || k != key || !d.consume(':') {
			return nil, false
		}

		v, ok := d.value(sch.Properties[key])
		if !ok {
			return nil, false
		}

		doc.Set(key, v)
	}

	// no trailing bytes, not even whitespace (stock checkConsumed)
	if !d.consume('}') || d.pos != len(d.data) {
		return nil, false
	}

	return doc, true
}

// uniqueKeys reports whether keys has no duplicates (the stock decoder
// counts the distinct keys of the data against the schema's).
func uniqueKeys(keys []string) bool {
	if len(keys) < 16 {
		for i := range keys {
			for j := range i {
				if keys[i] == keys[j] {
					return false
				}
			}
		}

		return true
	}

	seen := make(map[string]struct{}, len(keys))

	for _, k := range keys {
		if _, ok := seen[k]; ok {
			return false
		}

		seen[k] = struct{}{}
	}

	return true
}

// ws skips JSON whitespace.
func (d *fastDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume skips whitespace and c.
func (d *fastDecoder) consume(c byte) bool {
	d.ws()

	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}

	return false
}

// peek skips whitespace and returns the next byte (0 at the end).
func (d *fastDecoder) peek() byte {
	d.ws()

	if d.pos < len(d.data) {
		return d.data[d.pos]
	}

	return 0
}

// literal consumes lit.
func (d *fastDecoder) literal(lit string) bool {
	d.ws()

	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}

	return false
}

// rawString consumes a JSON string token and returns its bytes between the
// quotes and whether it is simple: no escapes, no control characters, valid
// UTF-8, so that the bytes are the decoded string.
func (d *fastDecoder) rawString() (raw []byte, simple, ok bool) {
	if !d.consume('"') {
		return nil, false, false
	}

	start := d.pos
	simple = true

	for d.pos < len(d.data) {
		c := d.data[d.pos]

		switch {
		case c == '"':
			raw = d.data[start:d.pos]
			d.pos++

			return raw, simple && utf8.Valid(raw), true
		case c == '\\':
			simple = false
			d.pos += 2
		case c < 0x20:
			return nil, false, false
		default:
			d.pos++
		}
	}

	return nil, false, false
}

// simpleString consumes a string token that must be simple.
func (d *fastDecoder) simpleString() (string, bool) {
	raw, simple, ok := d.rawString()
	if !ok || !simple {
		return "", false
	}

	return string(raw), true
}

// stringValue consumes a string value, decoding escapes as encoding/json.
func (d *fastDecoder) stringValue() (string, bool) {
	start := d.pos

	raw, simple, ok := d.rawString()
	if !ok {
		return "", false
	}

	if simple {
		return string(raw), true
	}

	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", false
	}

	return s, true
}

// number consumes a JSON number token; integer reports that it has no
// fraction or exponent.
func (d *fastDecoder) number() (tok string, integer, ok bool) {
	d.ws()

	start := d.pos
	i := d.pos

	if i < len(d.data) && d.data[i] == '-' {
		i++
	}

	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	default:
		return "", false, false
	}

	integer = true

	if i < len(d.data) && d.data[i] == '.' {
		integer = false
		i++
		digits := i

		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}

		if i == digits {
			return "", false, false
		}
	}

	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		i++

		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}

		digits := i

		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}

		if i == digits {
			return "", false, false
		}
	}

	d.pos = i

	return string(d.data[start:i]), integer, true
}

// integer consumes an integer token that fits in bits.
func (d *fastDecoder) integer(bits int) (int64, bool) {
	tok, integer, ok := d.number()
	if !ok || !integer {
		return 0, false
	}

	n, err := strconv.ParseInt(tok, 10, bits)
	if err != nil {
		return 0, false
	}

	return n, true
}

// value consumes a value of the schema element sch.
func (d *fastDecoder) value(sch *elem) (any, bool) {
	if d.peek() == 'n' {
		if !d.literal("null") {
			return nil, false
		}

		return types.Null, true
	}

	if sch == nil {
		return nil, false
	}

	switch sch.Type {
	case elemTypeString:
		return d.stringValue()

	case elemTypeInt:
		n, ok := d.integer(32)
		return int32(n), ok

	case elemTypeLong:
		return d.integer(64)

	case elemTypeDate:
		n, ok := d.integer(64)
		if !ok {
			return nil, false
		}

		return time.UnixMilli(n), true

	case elemTypeDouble:
		tok, _, ok := d.number()
		if !ok {
			return nil, false
		}

		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, false
		}

		return f, true

	case elemTypeBool:
		switch {
		case d.literal("true"):
			return true, true
		case d.literal("false"):
			return false, true
		}

		return nil, false

	case elemTypeObjectID:
		s, ok := d.simpleString()
		if !ok || len(s) != 2*types.ObjectIDLen {
			return nil, false
		}

		var id types.ObjectID

		for i := range id {
			hi, ok1 := unhex(s[2*i])
			lo, ok2 := unhex(s[2*i+1])

			if !ok1 || !ok2 {
				return nil, false
			}

			id[i] = hi<<4 | lo
		}

		return id, true

	case elemTypeObject:
		if sch.Schema == nil {
			return nil, false
		}

		return d.document(sch.Schema)

	case elemTypeArray:
		if sch.Items == nil {
			return nil, false
		}

		return d.array(sch.Items)

	default:
		return nil, false
	}
}

// unhex is hex.DecodeString's digit decoding (both cases).
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}

	return 0, false
}

// document consumes a nested document of schema sch.
func (d *fastDecoder) document(sch *schema) (*types.Document, bool) {
	if !d.enter() {
		return nil, false
	}
	defer d.leave()

	if !d.consume('{') {
		return nil, false
	}

	if d.consume('}') {
		// as documentType.UnmarshalJSONWithSchema: an empty document
		// whatever the schema says
		return new(types.Document), true
	}

	if len(sch.Keys) == 0 || !uniqueKeys(sch.Keys) {
		return nil, false
	}

	doc, err := types.NewDocument()
	if err != nil {
		return nil, false
	}

	for i, key := range sch.Keys {
		if i > 0 && !d.consume(',') {
			return nil, false
		}

		if k, ok := d.simpleString(); !ok || k != key || !d.consume(':') {
			return nil, false
		}

		v, ok := d.value(sch.Properties[key])
		if !ok {
			return nil, false
		}

		doc.Set(key, v)
	}

	if !d.consume('}') {
		return nil, false
	}

	return doc, true
}

// array consumes an array whose elements have the schemas items.
func (d *fastDecoder) array(items []*elem) (*types.Array, bool) {
	if !d.enter() {
		return nil, false
	}
	defer d.leave()

	if !d.consume('[') {
		return nil, false
	}

	a := types.MakeArray(len(items))

	for i, sch := range items {
		if i > 0 && !d.consume(',') {
			return nil, false
		}

		v, ok := d.value(sch)
		if !ok {
			return nil, false
		}

		a.Append(v)
	}

	if !d.consume(']') {
		return nil, false
	}

	return a, true
}

// schema consumes a schema object: "p" and "$k" in any order, each once.
func (d *fastDecoder) schema() (*schema, bool) {
	if !d.enter() {
		return nil, false
	}
	defer d.leave()

	if !d.consume('{') {
		return nil, false
	}

	var sch schema
	var seenP, seenK bool

	if d.consume('}') {
		return &sch, true
	}

	for {
		k, ok := d.simpleString()
		if !ok || !d.consume(':') {
			return nil, false
		}

		switch {
		case k == "p" && !seenP:
			seenP = true

			if sch.Properties, ok = d.properties(); !ok {
				return nil, false
			}

		case k == "$k" && !seenK:
			seenK = true

			if sch.Keys, ok = d.keys(); !ok {
				return nil, false
			}

		default:
			return nil, false
		}

		if d.consume('}') {
			return &sch, true
		}

		if !d.consume(',') {
			return nil, false
		}
	}
}

// properties consumes the "p" object of a schema.
func (d *fastDecoder) properties() (map[string]*elem, bool) {
	if !d.consume('{') {
		return nil, false
	}

	props := map[string]*elem{}

	if d.consume('}') {
		return props, true
	}

	for {
		k, ok := d.simpleString()
		if !ok || !d.consume(':') {
			return nil, false
		}

		if _, dup := props[k]; dup {
			return nil, false
		}

		e, ok := d.elem()
		if !ok {
			return nil, false
		}

		props[k] = e

		if d.consume('}') {
			return props, true
		}

		if !d.consume(',') {
			return nil, false
		}
	}
}

// keys consumes the "$k" array of a schema.
func (d *fastDecoder) keys() ([]string, bool) {
	if !d.consume('[') {
		return nil, false
	}

	keys := []string{}

	if d.consume(']') {
		return keys, true
	}

	for {
		k, ok := d.simpleString()
		if !ok {
			return nil, false
		}

		keys = append(keys, k)

		if d.consume(']') {
			return keys, true
		}

		if !d.consume(',') {
			return nil, false
		}
	}
}

// elem consumes a schema element: "t", and "$s" or "i", each once; "o"
// and "s" (regex, binData) are left to the stock decoder.
func (d *fastDecoder) elem() (*elem, bool) {
	if !d.enter() {
		return nil, false
	}
	defer d.leave()

	if !d.consume('{') {
		return nil, false
	}

	var e elem
	var seenT, seenS, seenI bool

	if d.consume('}') {
		return nil, false
	}

	for {
		k, ok := d.simpleString()
		if !ok || !d.consume(':') {
			return nil, false
		}

		switch {
		case k == "t" && !seenT:
			seenT = true

			t, ok := d.simpleString()
			if !ok {
				return nil, false
			}

			e.Type = elemType(t)

		case k == "$s" && !seenS:
			seenS = true

			if e.Schema, ok = d.schema(); !ok {
				return nil, false
			}

		case k == "i" && !seenI:
			seenI = true

			if !d.consume('[') {
				return nil, false
			}

			e.Items = []*elem{}

			if !d.consume(']') {
				for {
					it, ok := d.elem()
					if !ok {
						return nil, false
					}

					e.Items = append(e.Items, it)

					if d.consume(']') {
						break
					}

					if !d.consume(',') {
						return nil, false
					}
				}
			}

		default:
			return nil, false
		}

		if d.consume('}') {
			if !seenT {
				return nil, false
			}

			return &e, true
		}

		if !d.consume(',') {
			return nil, false
		}
	}
}
