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

// This file is not part of FerretDB v1.24.2: it is the minsheng project's
// patch (see PATCHES in the directory above the copy's root).

package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// prepareFieldsSelectClause returns a SELECT clause that reads, instead of
// the whole sjson document, its schema's key order and, for each field, its
// schema element and its value, each extracted by SQLite; or "" when the
// fields cannot be read that way (none given, a name pushdownField refuses,
// a capped collection, whose queries also read the record id, or the stock
// switch). fieldsIterator turns the columns back into a document.
//
// Decoding a whole document in Go (sjson.Unmarshal) is most of the cost of
// reading it; a case of 2 KB whose check needs a dozen small fields spends
// it on its description, timeline and photos.
func prepareFieldsSelectClause(table string, capped bool, fields []string) string {
	if len(fields) == 0 || capped || stockPushdown() {
		return ""
	}

	// One json_extract with every path parses the stored text once and
	// returns a JSON array of the results (null for a path not found);
	// one extraction per column searched SQLite's JSON cache, comparing the
	// whole text, for each.
	paths := []string{`'$."$s"."$k"'`}

	for _, f := range fields {
		if !pushdownField(f) {
			return ""
		}

		paths = append(paths, fmt.Sprintf(`'$."$s".p.%q'`, f), fmt.Sprintf(`'$.%q'`, f))
	}

	return fmt.Sprintf(`SELECT json_extract(%s, %s) FROM %q`, metadata.DefaultColumn, strings.Join(paths, ", "), table)
}

// fieldsIterator reads the rows of a prepareFieldsSelectClause query: each
// becomes the document holding, in the stored order, those of the fields
// the row has.
type fieldsIterator struct {
	ctx    context.Context
	m      sync.Mutex
	rows   *fsql.Rows // protected by m
	fields []string
}

func newFieldsIterator(ctx context.Context, rows *fsql.Rows, fields []string) types.DocumentsIterator {
	return &fieldsIterator{ctx: ctx, rows: rows, fields: fields}
}

// Next implements iterator.Interface.
func (iter *fieldsIterator) Next() (struct{}, *types.Document, error) {
	iter.m.Lock()
	defer iter.m.Unlock()

	var unused struct{}

	if iter.rows == nil {
		return unused, nil, iterator.ErrIteratorDone
	}

	if err := context.Cause(iter.ctx); err != nil {
		iter.close()
		return unused, nil, lazyerrors.Error(err)
	}

	if !iter.rows.Next() {
		err := iter.rows.Err()

		iter.close()

		if err == nil {
			err = iterator.ErrIteratorDone
		}

		return unused, nil, lazyerrors.Error(err)
	}

	var b []byte
	if err := iter.rows.Scan(&b); err != nil {
		iter.close()
		return unused, nil, lazyerrors.Error(err)
	}

	doc, err := fieldsDocument(iter.fields, b)
	if err != nil {
		iter.close()
		return unused, nil, lazyerrors.Error(err)
	}

	return unused, doc, nil
}

// fieldsDocument builds the sjson text of the document reduced to fields
// from the extracted array (the key order, then schema element and value
// per field; the element is null for a field the row lacks) and decodes it.
func fieldsDocument(fields []string, b []byte) (*types.Document, error) {
	// minsheng patch (fourth part): split SQLite's array without
	// encoding/json (splitArray); encoding/json for anything unusual.
	cols, ok := splitArray(b)
	if !ok {
		if err := json.Unmarshal(b, &cols); err != nil {
			return nil, lazyerrors.Error(err)
		}
	}

	if len(cols) != 1+2*len(fields) {
		return nil, lazyerrors.Errorf("sqlite: %d extracted values for %d fields", len(cols), len(fields))
	}

	keys, ok := simpleStrings(cols[0])
	if !ok {
		if err := json.Unmarshal(cols[0], &keys); err != nil {
			return nil, lazyerrors.Error(err)
		}
	}

	at := make(map[string]int, len(fields))
	for i, f := range fields {
		if string(cols[1+2*i]) != "null" {
			at[f] = 1 + 2*i
		}
	}

	present := make([]string, 0, len(at))

	for _, k := range keys {
		if _, ok := at[k]; ok {
			present = append(present, k)
		}
	}

	// pushdownField names need no escapes
	var buf bytes.Buffer

	buf.Grow(len(b) + 16*len(present) + 32)
	buf.WriteString(`{"$s":{"p":{`)

	for i, k := range present {
		if i > 0 {
			buf.WriteByte(',')
		}

		buf.WriteByte('"')
		buf.WriteString(k)
		buf.WriteString(`":`)
		buf.Write(cols[at[k]])
	}

	buf.WriteString(`},"$k":[`)

	for i, k := range present {
		if i > 0 {
			buf.WriteByte(',')
		}

		buf.WriteByte('"')
		buf.WriteString(k)
		buf.WriteByte('"')
	}

	buf.WriteString(`]}`)

	for _, k := range present {
		buf.WriteString(`,"`)
		buf.WriteString(k)
		buf.WriteString(`":`)
		buf.Write(cols[at[k]+1])
	}

	buf.WriteByte('}')

	return sjson.Unmarshal(buf.Bytes())
}

// splitArray returns the elements of the JSON array b as their texts,
// without surrounding whitespace; false when b is not an array it can
// split with certainty (the caller then uses encoding/json). It relies on
// b being valid JSON, as SQLite's json_extract returns; the sjson decoder
// checks every element it decodes.
func splitArray(b []byte) ([]json.RawMessage, bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, false
	}

	var out []json.RawMessage

	inner := b[1 : len(b)-1]
	if len(bytes.TrimSpace(inner)) == 0 {
		return out, true
	}

	depth, start, inString := 0, 0, false

	for i := 0; i < len(inner); i++ {
		c := inner[i]

		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}

			continue
		}

		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth < 0 {
				return nil, false
			}
		case ',':
			if depth == 0 {
				el := bytes.TrimSpace(inner[start:i])
				if len(el) == 0 {
					return nil, false
				}

				out = append(out, el)
				start = i + 1
			}
		}
	}

	el := bytes.TrimSpace(inner[start:])
	if inString || depth != 0 || len(el) == 0 {
		return nil, false
	}

	return append(out, el), true
}

// simpleStrings decodes a JSON array of strings without escapes.
func simpleStrings(b []byte) ([]string, bool) {
	els, ok := splitArray(b)
	if !ok {
		return nil, false
	}

	out := make([]string, len(els))

	for i, el := range els {
		if len(el) < 2 || el[0] != '"' || el[len(el)-1] != '"' || bytes.IndexByte(el, '\\') >= 0 {
			return nil, false
		}

		s := el[1 : len(el)-1]
		if bytes.IndexByte(s, '"') >= 0 || !utf8.Valid(s) {
			return nil, false
		}

		for _, c := range s {
			if c < 0x20 {
				return nil, false
			}
		}

		out[i] = string(s)
	}

	return out, true
}

// Close implements iterator.Interface.
func (iter *fieldsIterator) Close() {
	iter.m.Lock()
	defer iter.m.Unlock()

	iter.close()
}

func (iter *fieldsIterator) close() {
	if iter.rows != nil {
		iter.rows.Close()
		iter.rows = nil
	}
}

var _ types.DocumentsIterator = (*fieldsIterator)(nil)
