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
	"fmt"
	"os"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// stockPushdownEnv, when set to a non-empty value, restores v1.24.2's own
// filter pushdown (only exactly {_id: <string|ObjectID>}, through an
// expression no index matches). It is read on every call so that tests and
// benchmarks can compare both behaviours in one process; nothing else
// should set it.
const stockPushdownEnv = "FERRETDB_SQLITE_STOCK_PUSHDOWN"

// maxPushdownArgs bounds the placeholders of one pushed-down filter, well
// below SQLite's limit of 32766; a longer $in list is left to the Go filter.
const maxPushdownArgs = 1000

// stockPushdown reports whether the stock behaviour is requested.
func stockPushdown() bool {
	return os.Getenv(stockPushdownEnv) != ""
}

// fieldExpr returns the SQLite expression of a top-level field, spelled
// exactly as metadata's indexesCreate spells index columns
// (`_ferretdb_sjson->"field"`), so SQLite's planner can match the two.
func fieldExpr(field string) string {
	return fmt.Sprintf("%s->%q", metadata.DefaultColumn, field)
}

// idExpr returns the expression that selects a row by _id in SELECT, UPDATE
// and DELETE: the unique _id index's own expression, or with the stock
// switch v1.24.2's `->'$._id'`, which means the same but matches no index.
func idExpr() string {
	if stockPushdown() {
		return metadata.IDColumn
	}

	return fieldExpr("_id")
}

// prepareWhereClause returns the WHERE clause (with a leading space, or
// empty) and its arguments for the given filter.
//
// The clause selects a SUPERSET of the documents the filter matches: every
// handler still applies the whole filter in Go to each row returned, so
// pushing down less never changes a result, and pushing down a condition
// that every match satisfies only removes rows the Go filter would reject.
//
// Pushed down are top-level fields compared by equality, $eq or $in with
// string or ObjectID values. Both types are stored as JSON strings (an
// ObjectID as its hex), and sjson encodes a given string the same way in a
// stored document and in the argument, so the JSON text SQLite's -> returns
// for the field equals the marshalled filter value. For every field but _id
// (which cannot hold an array) a row whose field is an array stays a
// candidate, since {f: "x"} also matches f: ["x", "y"].
func prepareWhereClause(filter *types.Document) (string, []any) {
	if stockPushdown() {
		return prepareWhereClauseStock(filter)
	}

	var idConds, conds []string
	var idArgs, args []any
	var terms []pushdownTerm

	keys, values := filter.Keys(), filter.Values()
	for i, key := range keys {
		if !pushdownField(key) {
			continue
		}

		vals := pushdownValues(values[i])
		if len(vals) == 0 || len(idArgs)+len(args)+len(vals) > maxPushdownArgs {
			continue
		}

		expr := fieldExpr(key)

		t := pushdownTerm{
			// The JSON text of an array, and only of an array, starts with '['
			// ('\' is the next character), so this is "the field is an
			// array" as a range the same index can serve.
			arr: fmt.Sprintf(`%s > '[' AND %s < '\'`, expr, expr),
		}

		if len(vals) == 1 {
			t.eq = expr + " = ?"
		} else {
			t.eq = expr + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")"
		}

		for _, v := range vals {
			t.args = append(t.args, string(must.NotFail(sjson.MarshalSingleValue(v))))
		}

		if key == "_id" {
			idConds = append(idConds, t.eq)
			idArgs = append(idArgs, t.args...)

			continue
		}

		terms = append(terms, t)
		conds = append(conds, "("+t.eq+" OR ("+t.arr+"))")
		args = append(args, t.args...)
	}

	if 0 < len(terms) && len(terms) <= maxExpandedTerms {
		// (a1 OR a2) AND (b1 OR b2) written as (a1 AND b1) OR (a1 AND b2) OR …:
		// SQLite then searches a compound index on every field for each
		// disjunct (MULTI-INDEX OR); the ANDed form uses only its first field.
		var disjuncts []string

		args = nil

		for mask := 0; mask < 1<<len(terms); mask++ {
			parts := make([]string, len(terms))

			for j, t := range terms {
				if mask&(1<<j) != 0 {
					parts[j] = t.arr
					continue
				}

				parts[j] = t.eq
				args = append(args, t.args...)
			}

			disjuncts = append(disjuncts, "("+strings.Join(parts, " AND ")+")")
		}

		conds = []string{"(" + strings.Join(disjuncts, " OR ") + ")"}
	}

	conds = append(idConds, conds...)
	if len(conds) == 0 {
		return "", nil
	}

	return " WHERE " + strings.Join(conds, " AND "), append(idArgs, args...)
}

// maxExpandedTerms bounds the fields whose conditions prepareWhereClause
// expands into 2^n disjuncts.
const maxExpandedTerms = 3

// pushdownTerm is the condition on one pushed-down field: it equals one of
// the args (eq), or, for any field but _id, it is an array (arr).
type pushdownTerm struct {
	eq   string
	arr  string
	args []any
}

// prepareNaturalOrderClause returns " ORDER BY rowid" when a pushed-down
// WHERE clause may be served by an index and nothing else orders the rows:
// a stock query scans the table, so its rows come in rowid (insertion)
// order, and callers that read without a sort must keep seeing that order.
func prepareNaturalOrderClause(whereClause, orderByClause string) string {
	if whereClause == "" || orderByClause != "" || stockPushdown() {
		return ""
	}

	return " ORDER BY rowid"
}

// prepareWhereClauseStock is v1.24.2's pushdown, unchanged.
func prepareWhereClauseStock(filter *types.Document) (string, []any) {
	if filter.Len() == 1 {
		v, _ := filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			return fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn), []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}

	return "", nil
}

// pushdownField reports whether a filter key is a top-level field whose
// name can be written as `->"name"` with the same meaning in SQLite's JSON
// path syntax: letters, digits and '_', not starting with a digit, and not a
// reserved name (which could resolve to a column instead of a string).
func pushdownField(key string) bool {
	if key == "" || strings.HasPrefix(key, backends.ReservedPrefix) {
		return false
	}

	for i, r := range key {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}

	return true
}

// pushdownValues returns the values one of which the field must equal (or
// hold in an array) for the document to match, or nil when the condition on
// the field cannot be expressed that way: {f: v}, {f: {$eq: v}} and
// {f: {$in: [v1, v2, …]}} with every v a string or an ObjectID.
func pushdownValues(v any) []any {
	switch v := v.(type) {
	case string, types.ObjectID:
		return []any{v}

	case *types.Document:
		// Only an operator document; {f: {a: 1}} is equality with a document.
		for _, k := range v.Keys() {
			if !strings.HasPrefix(k, "$") {
				return nil
			}
		}

		// Any one operator is a necessary condition, as the Go filter ANDs them.
		if eq, err := v.Get("$eq"); err == nil {
			switch eq.(type) {
			case string, types.ObjectID:
				return []any{eq}
			}
		}

		in, err := v.Get("$in")
		if err != nil {
			return nil
		}

		arr, ok := in.(*types.Array)
		if !ok || arr.Len() == 0 {
			return nil
		}

		res := make([]any, 0, arr.Len())

		for i := 0; i < arr.Len(); i++ {
			e := must.NotFail(arr.Get(i))
			switch e.(type) {
			case string, types.ObjectID:
				res = append(res, e)
			default:
				// null, regexes, numbers, documents and arrays match in ways
				// a string comparison does not capture.
				return nil
			}
		}

		return res
	}

	return nil
}
