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

// This file is not part of FerretDB v1.24.2: it tests the minsheng project's
// patch. The differential test (results with and without the patch) lives in
// the project, in internal/store.

package sqlite

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func TestPrepareWhereClause(t *testing.T) {
	oid := types.ObjectID{0x65, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	// one is the clause of a single pushed-down field f other than _id.
	one := func(f string) string {
		return fmt.Sprintf(` WHERE ((_ferretdb_sjson->"%[1]s" = ?) OR (_ferretdb_sjson->"%[1]s" > '[' AND _ferretdb_sjson->"%[1]s" < '\'))`, f)
	}
	const (
		c    = `_ferretdb_sjson->"community"`
		st   = `_ferretdb_sjson->"status"`
		cArr = c + ` > '[' AND ` + c + ` < '\'`
		sArr = st + ` > '[' AND ` + st + ` < '\'`
	)

	for name, tc := range map[string]struct {
		filter *types.Document
		where  string
		args   []any
	}{
		"Empty": {
			filter: must.NotFail(types.NewDocument()),
		},
		"Nil": {},
		"IDString": {
			filter: must.NotFail(types.NewDocument("_id", "a")),
			where:  ` WHERE _ferretdb_sjson->"_id" = ?`,
			args:   []any{`"a"`},
		},
		"IDObjectID": {
			filter: must.NotFail(types.NewDocument("_id", oid)),
			where:  ` WHERE _ferretdb_sjson->"_id" = ?`,
			args:   []any{`"650102030405060708090a0b"`},
		},
		"IDInt": {
			filter: must.NotFail(types.NewDocument("_id", int32(1))),
		},
		"IDAndVersion": {
			filter: must.NotFail(types.NewDocument("_id", "a", "version", int64(3))),
			where:  ` WHERE _ferretdb_sjson->"_id" = ?`,
			args:   []any{`"a"`},
		},
		"IDIn": {
			filter: must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray("a", oid)),
			)))),
			where: ` WHERE _ferretdb_sjson->"_id" IN (?, ?)`,
			args:  []any{`"a"`, `"650102030405060708090a0b"`},
		},
		"InMixedTypes": {
			filter: must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray("a", int32(1))),
			)))),
		},
		"InNull": {
			filter: must.NotFail(types.NewDocument("f", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray("a", types.Null)),
			)))),
		},
		"InEmpty": {
			filter: must.NotFail(types.NewDocument("f", must.NotFail(types.NewDocument(
				"$in", must.NotFail(types.NewArray()),
			)))),
		},
		"Queue": {
			filter: must.NotFail(types.NewDocument("community", "c1", "status", "open")),
			where: ` WHERE ((` + c + ` = ? AND ` + st + ` = ?) OR (` + cArr + ` AND ` + st + ` = ?) OR (` +
				c + ` = ? AND ` + sArr + `) OR (` + cArr + ` AND ` + sArr + `))`,
			args: []any{`"c1"`, `"open"`, `"open"`, `"c1"`},
		},
		"IDAndQueueIn": {
			filter: must.NotFail(types.NewDocument(
				"community", must.NotFail(types.NewDocument("$in", must.NotFail(types.NewArray("c1", "c2")))),
				"_id", "a",
				"status", "open",
			)),
			where: ` WHERE _ferretdb_sjson->"_id" = ? AND ((` + c + ` IN (?, ?) AND ` + st + ` = ?) OR (` + cArr + ` AND ` + st + ` = ?) OR (` +
				c + ` IN (?, ?) AND ` + sArr + `) OR (` + cArr + ` AND ` + sArr + `))`,
			args: []any{`"a"`, `"c1"`, `"c2"`, `"open"`, `"open"`, `"c1"`, `"c2"`},
		},
		"FourFieldsNotExpanded": {
			filter: must.NotFail(types.NewDocument("a", "1", "b", "2", "c", "3", "d", "4")),
			where: ` WHERE (_ferretdb_sjson->"a" = ? OR (_ferretdb_sjson->"a" > '[' AND _ferretdb_sjson->"a" < '\'))` +
				` AND (_ferretdb_sjson->"b" = ? OR (_ferretdb_sjson->"b" > '[' AND _ferretdb_sjson->"b" < '\'))` +
				` AND (_ferretdb_sjson->"c" = ? OR (_ferretdb_sjson->"c" > '[' AND _ferretdb_sjson->"c" < '\'))` +
				` AND (_ferretdb_sjson->"d" = ? OR (_ferretdb_sjson->"d" > '[' AND _ferretdb_sjson->"d" < '\'))`,
			args: []any{`"1"`, `"2"`, `"3"`, `"4"`},
		},
		"Eq": {
			filter: must.NotFail(types.NewDocument("f", must.NotFail(types.NewDocument("$eq", "x", "$gt", "a")))),
			where:  one("f"),
			args:   []any{`"x"`},
		},
		"EmbeddedDocument": {
			filter: must.NotFail(types.NewDocument("f", must.NotFail(types.NewDocument("$eq", "x", "a", "b")))),
		},
		"Dotted": {
			filter: must.NotFail(types.NewDocument("a.b", "x")),
		},
		"OddName": {
			filter: must.NotFail(types.NewDocument(`a"b`, "x", "1a", "x", "_ferretdb_sjson", "x", "$comment", "x")),
		},
		"Unicode": {
			filter: must.NotFail(types.NewDocument("f", "社区<\u2028>\"")),
			where:  one("f"),
			args:   []any{`"社区\u003c\u2028\u003e\""`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			where, args := prepareWhereClause(tc.filter)
			assert.Equal(t, tc.where, where)
			assert.Equal(t, tc.args, args)
		})
	}

	t.Run("Stock", func(t *testing.T) {
		t.Setenv(stockPushdownEnv, "1")

		where, args := prepareWhereClause(must.NotFail(types.NewDocument("_id", "a")))
		assert.Equal(t, ` WHERE _ferretdb_sjson->'$._id' = ?`, where)
		assert.Equal(t, []any{`"a"`}, args)

		where, _ = prepareWhereClause(must.NotFail(types.NewDocument("_id", "a", "version", int64(3))))
		assert.Equal(t, "", where)
	})
}
