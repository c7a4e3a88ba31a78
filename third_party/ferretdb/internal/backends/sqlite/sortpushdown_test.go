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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
	"github.com/FerretDB/FerretDB/internal/util/state"
	"github.com/FerretDB/FerretDB/internal/util/testutil"
)

func TestPrepareFieldSortClause(t *testing.T) {
	for name, tc := range map[string]struct {
		sort   *types.Document
		pushed bool
	}{
		"nil":             {nil, false},
		"_id":             {must.NotFail(types.NewDocument("_id", int64(1))), true},
		"field and _id":   {must.NotFail(types.NewDocument("at", int64(-1), "_id", int64(-1))), true},
		"without _id":     {must.NotFail(types.NewDocument("at", int64(-1))), false},
		"dotted":          {must.NotFail(types.NewDocument("a.b", int64(1), "_id", int64(1))), false},
		"natural":         {must.NotFail(types.NewDocument("$natural", int64(1))), false},
		"not an int64":    {must.NotFail(types.NewDocument("_id", int32(1))), false},
		"reserved prefix": {must.NotFail(types.NewDocument("_ferretdb_x", int64(1), "_id", int64(1))), false},
	} {
		t.Run(name, func(t *testing.T) {
			clause, fields := prepareFieldSortClause(tc.sort)
			assert.Equal(t, tc.pushed, clause != "", clause)
			assert.Equal(t, tc.pushed, fields != nil)
		})
	}

	t.Run("clause", func(t *testing.T) {
		clause, _ := prepareFieldSortClause(must.NotFail(types.NewDocument("at", int64(-1), "_id", int64(1))))
		rank := func(f string) string {
			return `(CASE _ferretdb_sjson->>'$."$s".p."` + f + `".t' WHEN 'string' THEN 1 WHEN 'objectId' THEN 2 WHEN 'date' THEN 3 ELSE 0 END)`
		}
		want := ` ORDER BY (` + rank("at") + ` = 0 OR ` + rank("_id") + ` = 0) DESC, ` +
			rank("at") + ` DESC, _ferretdb_sjson->>'at' DESC, ` + rank("_id") + `, _ferretdb_sjson->>'_id'`
		assert.Equal(t, want, clause)
	})
}

// A query with a sort the backend can apply returns Sorted and the order;
// one candidate it cannot order (a number here) makes it decline.
func TestQueryFieldSorted(t *testing.T) {
	ctx := testutil.Ctx(t)

	sp, err := state.NewProvider("")
	require.NoError(t, err)

	b, err := NewBackend(&NewBackendParams{URI: testutil.TestSQLiteURI(t, ""), L: testutil.Logger(t), P: sp, BatchSize: 100})
	require.NoError(t, err)
	t.Cleanup(b.Close)

	db, err := b.Database(testutil.DatabaseName(t))
	require.NoError(t, err)

	c, err := db.Collection(testutil.CollectionName(t))
	require.NoError(t, err)

	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	oid := types.ObjectID{1}
	docs := []*types.Document{
		must.NotFail(types.NewDocument("_id", "b", "at", at)),
		must.NotFail(types.NewDocument("_id", "a", "at", at)),
		must.NotFail(types.NewDocument("_id", "c", "at", at.Add(time.Hour))),
		must.NotFail(types.NewDocument("_id", "d", "at", "z string")),
		must.NotFail(types.NewDocument("_id", "e", "at", oid)),
	}
	_, err = c.InsertAll(ctx, &backends.InsertAllParams{Docs: docs})
	require.NoError(t, err)

	ids := func(res *backends.QueryResult) []any {
		got, err := iterator.ConsumeValues(res.Iter)
		require.NoError(t, err)

		var out []any
		for _, d := range got {
			out = append(out, must.NotFail(d.Get("_id")))
		}

		return out
	}

	sort := must.NotFail(types.NewDocument("at", int64(-1), "_id", int64(-1)))

	res, err := c.Query(ctx, &backends.QueryParams{SortFields: sort})
	require.NoError(t, err)
	assert.True(t, res.Sorted)
	// Dates above ObjectIDs above strings, descending; equal dates by _id.
	assert.Equal(t, []any{"c", "b", "a", "e", "d"}, ids(res))

	asc := must.NotFail(types.NewDocument("at", int64(1), "_id", int64(1)))
	res, err = c.Query(ctx, &backends.QueryParams{SortFields: asc})
	require.NoError(t, err)
	assert.True(t, res.Sorted)
	assert.Equal(t, []any{"d", "e", "a", "b", "c"}, ids(res))

	_, err = c.InsertAll(ctx, &backends.InsertAllParams{Docs: []*types.Document{
		must.NotFail(types.NewDocument("_id", "f", "at", int64(1))),
	}})
	require.NoError(t, err)

	res, err = c.Query(ctx, &backends.QueryParams{SortFields: sort})
	require.NoError(t, err)
	assert.False(t, res.Sorted, "a number among the candidates")
	assert.Len(t, ids(res), 6)

	t.Setenv(stockPushdownEnv, "1")

	res, err = c.Query(ctx, &backends.QueryParams{SortFields: asc, Filter: must.NotFail(types.NewDocument("_id", "a"))})
	require.NoError(t, err)
	assert.False(t, res.Sorted, "stock switch")
	assert.Equal(t, []any{"a"}, ids(res))
}
