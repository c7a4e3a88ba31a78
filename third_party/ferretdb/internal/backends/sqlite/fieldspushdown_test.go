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
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSplitArray checks the splitter fieldsDocument uses against
// encoding/json: what it splits, it splits as encoding/json decodes into
// raw messages.
func TestSplitArray(t *testing.T) {
	t.Parallel()

	for _, in := range []string{
		`[]`, `[ ]`, `[1]`, `[null,"a",{"t":"string"}]`,
		`[["_id","a,b"],{"t":"object","$s":{"p":{"x":{"t":"array","i":[{"t":"int"}]}},"$k":["x"]}},{"x":[1]},null,null]`,
		`["a\"],[{","\\",{"k":"}"}]`, ` [ 1 , [2, 3] , "民生" ] `, `[1.5e3,true,false]`,
	} {
		got, ok := splitArray([]byte(in))
		require.True(t, ok, "%s: not split", in)

		var want []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)

		if len(want) == 0 {
			assert.Empty(t, got, in)
			continue
		}

		assert.Equal(t, want, got, in)
	}

	for _, in := range []string{``, `1`, `[`, `[1,]`, `[,1]`, `[1`, `["a]`, `[1]]`, `[{]`, `{"a":1}`} {
		_, ok := splitArray([]byte(in))
		assert.False(t, ok, "%s: split", in)
	}

	keys, ok := simpleStrings([]byte(`["_id","number","民生"]`))
	require.True(t, ok)
	assert.Equal(t, []string{"_id", "number", "民生"}, keys)

	for _, in := range []string{`["a\"b"]`, `["\u0041"]`, `[1]`, `["a",2]`} {
		_, ok := simpleStrings([]byte(in))
		assert.False(t, ok, "%s: taken as simple strings", in)
	}
}
