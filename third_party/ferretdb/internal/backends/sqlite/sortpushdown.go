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
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/fsql"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// sortRankExpr returns the SQL expression of a top-level field's rank in
// the sort order of the three types a pushed-down sort handles, read from
// the sjson schema's type of the field: 1 string, 2 objectId, 3 date (the
// relative order of types.compareTypeOrder), 0 anything else (missing,
// null, numbers, booleans, documents, arrays, ...).
func sortRankExpr(field string) string {
	return fmt.Sprintf(`(CASE %s->>'$."$s".p.%q.t' WHEN 'string' THEN 1 WHEN 'objectId' THEN 2 WHEN 'date' THEN 3 ELSE 0 END)`,
		metadata.DefaultColumn, field)
}

// prepareFieldSortClause returns the ORDER BY clause that returns rows in
// the order of the handler's sort (common.SortDocuments), and the sorted
// fields, or "" when the sort cannot be pushed down.
//
// It is pushed down only when every key is a top-level field (pushdownField)
// sorted 1 or -1, and one key is _id: _id is unique, so no two documents
// tie and the order is fully determined by the comparison. (The handler's
// sort.Sort is not stable, so with ties the stock order of equal documents
// is an accident of the algorithm, which SQL cannot reproduce.)
//
// The clause puts first every row in which some sort field is not a
// string, an ObjectID or a date (rank 0: missing, null, numbers, arrays,
// ...). The caller reads the first row: if it is such a row, the sort is
// not pushed down for this query (queryFieldSorted); otherwise no row is,
// and the rest orders exactly as types.CompareOrderForSort does for these
// three types: by type (string < objectId < date), then by value — strings
// by their bytes (->> returns the unescaped text, compared with SQLite's
// BINARY collation, memcmp, like Go's string comparison), ObjectIDs by
// their hex (same order as their bytes), dates by their milliseconds (what
// sjson stores and what the Go comparison compares). Descending inverts
// both, as CompareOrderForSort does.
func prepareFieldSortClause(sort *types.Document) (string, []string) {
	if sort.Len() == 0 || stockPushdown() {
		return "", nil
	}

	keys, values := sort.Keys(), sort.Values()

	var hasID bool

	var ranks, parts []string

	for i, key := range keys {
		if !pushdownField(key) {
			return "", nil
		}

		var dir string

		switch v := values[i].(type) {
		case int64:
			switch v {
			case 1:
			case -1:
				dir = " DESC"
			default:
				return "", nil
			}
		default:
			return "", nil
		}

		if key == "_id" {
			hasID = true
		}

		rank := sortRankExpr(key)
		ranks = append(ranks, rank+" = 0")
		parts = append(parts, rank+dir, fmt.Sprintf("%s->>'%s'%s", metadata.DefaultColumn, key, dir))
	}

	if !hasID {
		return "", nil
	}

	return " ORDER BY (" + strings.Join(ranks, " OR ") + ") DESC, " + strings.Join(parts, ", "), keys
}

// sortableValues reports whether every field is, in doc, a string, an
// ObjectID or a date: the Go side of sortRankExpr's non-zero ranks.
func sortableValues(doc *types.Document, fields []string) bool {
	for _, f := range fields {
		v, err := doc.Get(f)
		if err != nil {
			return false
		}

		switch v.(type) {
		case string, types.ObjectID, time.Time:
		default:
			return false
		}
	}

	return true
}

// sortedIterator returns the first row read (to decide the pushdown) and
// then the rest of the sorted rows, checking each: a row that is not
// sortable after a sortable first one would mean the SQL order is not the
// handler's, so it stops with an error rather than return a wrong order.
type sortedIterator struct {
	first  *types.Document
	iter   types.DocumentsIterator
	fields []string
}

// Next implements iterator.Interface.
func (s *sortedIterator) Next() (struct{}, *types.Document, error) {
	if d := s.first; d != nil {
		s.first = nil
		return struct{}{}, d, nil
	}

	_, d, err := s.iter.Next()
	if err != nil {
		return struct{}{}, nil, err
	}

	if !sortableValues(d, s.fields) {
		s.iter.Close()
		return struct{}{}, nil, lazyerrors.Errorf("sqlite: pushed-down sort met an unsortable row")
	}

	return struct{}{}, d, nil
}

// Close implements iterator.Interface.
func (s *sortedIterator) Close() {
	s.first = nil
	s.iter.Close()
}

var _ types.DocumentsIterator = (*sortedIterator)(nil)

// queryFieldSorted runs the query q (SELECT … WHERE …) with sort's ORDER BY
// and returns its rows, read by newIter, as a sorted result, or nil (and no error) when the
// sort cannot be pushed down: not a sort prepareFieldSortClause takes, or a
// candidate row with a field it cannot order. The decision and the rows
// come from one statement, so they see the same data.
func queryFieldSorted(ctx context.Context, db *fsql.DB, q string, args []any, sort *types.Document, newIter func(*fsql.Rows) types.DocumentsIterator) (*backends.QueryResult, error) { //nolint:lll // for readability
	orderBy, fields := prepareFieldSortClause(sort)
	if orderBy == "" {
		return nil, nil
	}

	rows, err := db.QueryContext(ctx, q+orderBy, args...)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	iter := newIter(rows)

	_, first, err := iter.Next()

	switch {
	case errors.Is(err, iterator.ErrIteratorDone):
		return &backends.QueryResult{Iter: iter, Sorted: true}, nil
	case err != nil:
		iter.Close()
		return nil, err
	case !sortableValues(first, fields):
		iter.Close()
		return nil, nil
	}

	return &backends.QueryResult{Iter: &sortedIterator{first: first, iter: iter, fields: fields}, Sorted: true}, nil
}
