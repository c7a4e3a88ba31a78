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
// patch to setBySourceOrder.

package common

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// TestSetBySourceOrderPatch projects documents with the patch and without
// it (the stock deep copy on every field) and gets the same documents:
// projections in the stored order, in another order, with nested paths of
// one parent apart and together, over arrays, and with missing fields.
func TestSetBySourceOrderPatch(t *testing.T) {
	doc := func() *types.Document {
		return must.NotFail(types.NewDocument(
			"_id", "c-1", "number", "XC-1", "area", "ZH", "title", "路灯",
			"location", must.NotFail(types.NewDocument("sub_district", "s", "community", "c", "address", "1号院")),
			"cosigners", must.NotFail(types.NewArray("r-1", "r-2")),
			"verdicts", must.NotFail(types.NewArray(
				must.NotFail(types.NewDocument("verdict", "ok", "at", int64(1))),
				must.NotFail(types.NewDocument("verdict", "no", "note", "x")),
			)),
			"status", "submitted", "budget", must.NotFail(types.NewDocument("line_id", "L-1", "fen", int64(5))),
			"version", int64(3),
		))
	}
	for name, keys := range map[string][]string{
		"stored order":         {"number", "area", "title", "location.sub_district", "location.community", "cosigners", "status", "version"},
		"other order":          {"version", "status", "number", "location.address", "title", "area"},
		"nested apart":         {"location.address", "number", "location.sub_district", "budget.line_id", "title"},
		"arrays of documents":  {"verdicts.verdict", "title", "verdicts.note", "_id"},
		"missing fields":       {"nope", "number", "location.nope", "budget.nope.deeper", "version"},
		"whole subdocuments":   {"location", "budget", "verdicts"},
		"everything reversed":  {"version", "budget", "status", "verdicts", "cosigners", "location", "title", "area", "number"},
		"one field":            {"title"},
		"nested then its root": {"location.community", "location"},
	} {
		t.Run(name, func(t *testing.T) {
			proj := must.NotFail(types.NewDocument())
			for _, k := range keys {
				proj.Set(k, true)
			}

			setBySourceOrderStock = true
			want, wantErr := ProjectDocument(doc(), proj, must.NotFail(types.NewDocument()), true)
			setBySourceOrderStock = false
			got, err := ProjectDocument(doc(), proj, must.NotFail(types.NewDocument()), true)

			require.Equal(t, wantErr, err)
			require.Equal(t, want, got)
		})
	}
}
