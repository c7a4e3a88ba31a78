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

package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func TestFindFields(t *testing.T) {
	doc := func(pairs ...any) *types.Document { return must.NotFail(types.NewDocument(pairs...)) }
	arr := func(vs ...any) *types.Array { return must.NotFail(types.NewArray(vs...)) }

	for name, tc := range map[string]struct {
		projection, filter, sort *types.Document
		want                     []string
	}{
		"no projection":   {nil, doc("a", "x"), nil, nil},
		"inclusion":       {doc("a", int32(1), "b.c", true), nil, nil, []string{"_id", "a", "b"}},
		"without _id":     {doc("_id", false, "a", int64(1)), nil, nil, []string{"_id", "a"}},
		"only _id out":    {doc("_id", int32(0)), nil, nil, nil},
		"exclusion":       {doc("a", int32(0)), nil, nil, nil},
		"double":          {doc("a", 1.0), nil, nil, []string{"_id", "a"}},
		"operator":        {doc("a", doc("$slice", int32(1))), nil, nil, nil},
		"positional":      {doc("a.$", int32(1)), nil, nil, nil},
		"string value":    {doc("a", "x"), nil, nil, nil},
		"filter fields":   {doc("a", int32(1)), doc("f.g", "x", "h", doc("$gt", int32(1))), nil, []string{"_id", "a", "f", "h"}},
		"filter or":       {doc("a", int32(1)), doc("$or", arr(doc("o", "x"), doc("$and", arr(doc("p.q", "y"))))), nil, []string{"_id", "a", "o", "p"}},
		"filter comment":  {doc("a", int32(1)), doc("$comment", "c", "b", "x"), nil, []string{"_id", "a", "b"}},
		"filter expr":     {doc("a", int32(1)), doc("$expr", doc("$eq", arr("$x", int32(1)))), nil, nil},
		"filter or value": {doc("a", int32(1)), doc("$or", "x"), nil, nil},
		"sort":            {doc("a", int32(1)), nil, doc("s", int64(-1), "_id", int64(1)), []string{"_id", "a", "s"}},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, findFields(tc.projection, tc.filter, tc.sort))
		})
	}
}
