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

// minsheng patch: the single-pass decoder (fast.go) against the stock one.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// fastCorpus is sjson documents: every valid value of the package's test
// cases as the field of a document, Marshal's output, and hand-written
// texts the fast decoder must decode as stock does or leave to it.
func fastCorpus(t testing.TB) (marshaled []string, handWritten []string) {
	var cases []testCase
	for _, tcs := range [][]testCase{
		arrayTestCases, binaryTestCases, boolTestCases, dateTimeTestCases, documentTestCases, doubleTestCases,
		int32TestCases, int64TestCases, objectIDTestCases, regexTestCases, stringTestCases, timestampTestCases,
	} {
		cases = append(cases, tcs...)
	}

	for _, tc := range cases {
		if tc.v == nil || tc.jErr != "" {
			continue
		}

		v := fromSJSON(tc.v)
		if d, ok := v.(*types.Document); ok {
			if b, err := Marshal(d); err == nil {
				marshaled = append(marshaled, string(b))
			}
		}

		d := must.NotFail(types.NewDocument("v", v, "s", "尾", "n", int32(-7), "a", must.NotFail(types.NewArray(v, types.Null))))
		b, err := Marshal(d)
		require.NoError(t, err, tc.name)
		marshaled = append(marshaled, string(b))
	}

	handWritten = []string{
		`{"$s":{}}`,
		` {"$s":{}}`,
		`{"$s":{}} `,
		`{"$s":{}}x`,
		`{"$s":{"p":{},"$k":[]}}`,
		`{"$s":{"$k":["a"],"p":{"a":{"t":"string"}}},"a":"x"}`,
		`{ "$s" : { "p" : { "a" : { "t" : "string" } } , "$k" : [ "a" ] } , "a" : "x" }`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"\u4e2d\n\"\\\/\ud83d\ude00"}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"\ud800"}`,
		"{\"$s\":{\"p\":{\"a\":{\"t\":\"string\"}},\"$k\":[\"a\"]},\"a\":\"\xff\"}",
		"{\"$s\":{\"p\":{\"a\":{\"t\":\"string\"}},\"$k\":[\"a\"]},\"a\":\"\x01\"}",
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"\x"}`,
		`{"$s":{"p":{"a\u0062":{"t":"string"}},"$k":["ab"]},"ab":"x"}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a","a"]},"a":"x","a":"y"}`,
		`{"$s":{"p":{"a":{"t":"string"},"a":{"t":"int"}},"$k":["a"]},"a":"x"}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"],"$k":["a"]},"a":"x"}`,
		`{"a":"x","$s":{"p":{"a":{"t":"string"}},"$k":["a"]}}`,
		`{"$s":{"p":{"$s":{"t":"object","$s":{}}},"$k":["$s"]},"$s":{}}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"x","$s":{}}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":null}`,
		`{"$s":{"p":{},"$k":["a"]},"a":null}`,
		`{"$s":{"p":{"a":null},"$k":["a"]},"a":"x"}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":2147483648}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":-0}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":1.0}`,
		`{"$s":{"p":{"a":{"t":"int"}},"$k":["a"]},"a":01}`,
		`{"$s":{"p":{"a":{"t":"long"}},"$k":["a"]},"a":-9223372036854775808}`,
		`{"$s":{"p":{"a":{"t":"long"}},"$k":["a"]},"a":9223372036854775808}`,
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":-0}`,
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":1e400}`,
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":1.5E-3}`,
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":1.}`,
		`{"$s":{"p":{"a":{"t":"double"}},"$k":["a"]},"a":"1"}`,
		`{"$s":{"p":{"a":{"t":"date"}},"$k":["a"]},"a":1700000000123}`,
		`{"$s":{"p":{"a":{"t":"date"}},"$k":["a"]},"a":-1}`,
		`{"$s":{"p":{"a":{"t":"bool"}},"$k":["a"]},"a":true}`,
		`{"$s":{"p":{"a":{"t":"bool"}},"$k":["a"]},"a":tru}`,
		`{"$s":{"p":{"a":{"t":"objectId"}},"$k":["a"]},"a":"0123456789abcdefABCDEF01"}`,
		`{"$s":{"p":{"a":{"t":"objectId"}},"$k":["a"]},"a":"0123456789abcdefABCDEF0"}`,
		`{"$s":{"p":{"a":{"t":"objectId"}},"$k":["a"]},"a":"0123456789abcdefABCDEFgg"}`,
		`{"$s":{"p":{"a":{"t":"null"}},"$k":["a"]},"a":null}`,
		`{"$s":{"p":{"a":{"t":"null"}},"$k":["a"]},"a":1}`,
		`{"$s":{"p":{"a":{"t":"nope"}},"$k":["a"]},"a":1}`,
		`{"$s":{"p":{"a":{}},"$k":["a"]},"a":1}`,
		`{"$s":{"p":{"a":{"t":"int","x":1}},"$k":["a"]},"a":1}`,
		`{"$s":{"p":{"a":{"t":"object"}},"$k":["a"]},"a":{}}`,
		`{"$s":{"p":{"a":{"t":"object","$s":{}}},"$k":["a"]},"a":{}}`,
		`{"$s":{"p":{"a":{"t":"object","$s":{"p":{"b":{"t":"int"}},"$k":["b"]}}},"$k":["a"]},"a":{}}`,
		`{"$s":{"p":{"a":{"t":"object","$s":{"p":{"b":{"t":"int"}},"$k":["b"]}}},"$k":["a"]},"a":{"b":1}}`,
		`{"$s":{"p":{"a":{"t":"object","$s":{"p":{"b":{"t":"int"}},"$k":["b"]}}},"$k":["a"]},"a":{"b":1,"b":1}}`,
		`{"$s":{"p":{"a":{"t":"object","$s":{"p":{"b":{"t":"int"}},"$k":[]}}},"$k":["a"]},"a":{"b":1}}`,
		`{"$s":{"p":{"a":{"t":"array","i":[]}},"$k":["a"]},"a":[]}`,
		`{"$s":{"p":{"a":{"t":"array"}},"$k":["a"]},"a":[]}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"int"},{"t":"null"}]}},"$k":["a"]},"a":[1,null]}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"int"}]}},"$k":["a"]},"a":[1,2]}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"int"},{"t":"int"}]}},"$k":["a"]},"a":[1]}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"int"}]}},"$k":["a"]},"a":[1,]}`,
		`{"$s":{"p":{"a":{"t":"array","i":[{"t":"array","i":[{"t":"string"}]}]}},"$k":["a"]},"a":[["民生"]]}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"x",}`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a":"x"`,
		`{"$s":{"p":{"a":{"t":"string"}},"$k":["a"]},"a"`,
		`{"$s":`,
		`"foo"`,
		`null`,
		``,
		`{"$s":{"p": {"foo": {"t": "string"}},"$k": ["foo"]}}`,
		`{"$s":{"p":{}, "$k": []}, "foo": "bar"}`,
		`{"$s":{"p":{"a":{"t":"object","$s":` + strings.Repeat(`{"p":{"a":{"t":"object","$s":`, 300) + `{}` +
			strings.Repeat(`}}}}`, 300) + `}},"$k":["a"]},"a":` + strings.Repeat(`{"a":`, 300) + `{}` + strings.Repeat(`}`, 300) + `}`,
	}

	return marshaled, handWritten
}

// checkFast fails when the fast decoder decodes data to anything but what
// the stock decoder returns; it reports whether the fast one took it.
func checkFast(t *testing.T, data string) bool {
	t.Helper()

	got, ok := unmarshalFast([]byte(data))
	want, err := unmarshalStock([]byte(data))

	if !ok {
		return false
	}

	require.NoError(t, err, "the fast decoder took data the stock one rejects: %q", data)
	require.Equal(t, want, got, "data: %q", data)

	return true
}

func TestUnmarshalFast(t *testing.T) {
	t.Parallel()

	marshaled, handWritten := fastCorpus(t)

	t.Run("Marshaled", func(t *testing.T) {
		t.Parallel()

		for _, data := range marshaled {
			took := checkFast(t, data)

			// binData, regex and timestamp are left to the stock decoder
			left := strings.Contains(data, `"t":"binData"`) || strings.Contains(data, `"t":"regex"`) ||
				strings.Contains(data, `"t":"timestamp"`)
			if took == left {
				t.Errorf("fast decoder took %q: %t, want %t", data, took, !left)
			}
		}
	})

	t.Run("HandWritten", func(t *testing.T) {
		t.Parallel()

		var took int
		for _, data := range handWritten {
			if checkFast(t, data) {
				took++
			}
		}

		if took < 20 {
			t.Errorf("fast decoder took %d hand-written texts, want at least 20", took)
		}
	})

	t.Run("Unmarshal", func(t *testing.T) {
		t.Parallel()

		// Unmarshal returns the stock error for what the fast one leaves
		_, err := Unmarshal([]byte(`{"$s":{"p":{"a":{"t":"string"}},"$k":["a","a"]},"a":"x"}`))
		require.ErrorContains(t, err, "the same number of schema keys")
	})
}

// FuzzUnmarshalFast checks on any data that the fast decoder either leaves
// it to the stock one or decodes it as that one does.
func FuzzUnmarshalFast(f *testing.F) {
	marshaled, handWritten := fastCorpus(f)
	for _, data := range append(marshaled, handWritten...) {
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data string) {
		checkFast(t, data)
	})
}
