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
	"strings"

	"github.com/FerretDB/FerretDB/internal/types"
)

// findFields returns the top-level fields a find reads (backends.QueryParams.Fields),
// or nil when it may read any: the first path element of every key of an
// inclusion projection, of the filter (through $and, $or and $nor) and of
// the sort, and _id. A document reduced to those fields gives the same
// filter result, order and projected document as the whole one.
//
// Only a plain inclusion projection qualifies: every key without '$', every
// value true or a non-zero number (_id may also be excluded). Any other
// top-level filter operator than $and, $or, $nor and $comment ($expr, say,
// which may read any field) gives nil.
func findFields(projection, filter, sort *types.Document) []string {
	if projection.Len() == 0 {
		return nil
	}

	seen := map[string]bool{"_id": true}
	fields := []string{"_id"}

	add := func(path string) {
		f, _, _ := strings.Cut(path, ".")
		if !seen[f] {
			seen[f] = true
			fields = append(fields, f)
		}
	}

	var inclusion bool

	for _, k := range projection.Keys() {
		if strings.Contains(k, "$") || k == "" {
			return nil
		}

		v := fieldValue(projection.Get(k))

		switch included(v) {
		case 1:
			inclusion = true
			add(k)
		case 0:
			if k != "_id" {
				return nil // an exclusion projection keeps every other field
			}
		default:
			return nil
		}
	}

	if !inclusion || !filterFields(filter, add) {
		return nil
	}

	for _, k := range sort.Keys() {
		if k != "$natural" {
			add(k)
		}
	}

	return fields
}

// included reports 1 for a projection value that includes its field, 0 for
// one that excludes it, -1 for anything else ($slice, $elemMatch, ...).
func included(v any) int {
	switch v := v.(type) {
	case bool:
		if v {
			return 1
		}

		return 0
	case int32:
		return boolInt(v != 0)
	case int64:
		return boolInt(v != 0)
	case float64:
		return boolInt(v != 0)
	}

	return -1
}

func boolInt(b bool) int {
	if b {
		return 1
	}

	return 0
}

// filterFields calls add with every field path of filter and reports
// whether filter reads only those.
func filterFields(filter *types.Document, add func(string)) bool {
	for _, k := range filter.Keys() {
		if !strings.HasPrefix(k, "$") {
			add(k)
			continue
		}

		switch k {
		case "$comment":
		case "$and", "$or", "$nor":
			arr, ok := fieldValue(filter.Get(k)).(*types.Array)
			if !ok {
				return false
			}

			for i := 0; i < arr.Len(); i++ {
				d, ok := fieldValue(arr.Get(i)).(*types.Document)
				if !ok || !filterFields(d, add) {
					return false
				}
			}
		default:
			return false
		}
	}

	return true
}

// fieldValue returns v, ignoring err: the keys come from the document itself.
func fieldValue(v any, _ error) any { return v }
