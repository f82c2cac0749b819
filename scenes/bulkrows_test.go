package scenes

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bulk test builds its rows from fixed pieces: json.Marshal and the
// reflective render cost too much CPU for 100,000 rows under -race.
var (
	longTitle  = strings.Repeat("小程序码参数", 115) // 690 runes, ~2 KB
	emojiText  = "🎉😀👨‍👩‍👧 ok"
	titleUTF8  = mustQuote(longTitle)
	titleASCII = asciiJSON(longTitle)
	emojiUTF8  = mustQuote(emojiText)
	emojiASCII = asciiJSON(emojiText)
)

func mustQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// bulkRowA is paramsRow(i) as json.Marshal writes it: sorted keys, HTML
// escaped, no whitespace.
func bulkRowA(i int) []byte { return bulkRowSorted(i, `,"q":"a=1\u0026b=\u003c2\u003e"`) }

// bulkCanonical is the canonical form of paramsRow(i), built by hand: an
// oracle for Canonical that costs nothing.
func bulkCanonical(i int) []byte { return bulkRowSorted(i, `,"q":"a=1&b=<2>"`) }

func bulkRowSorted(i int, q string) []byte {
	n := strconv.Itoa(i)
	b := make([]byte, 0, rowCap(i, len(titleUTF8)))
	b = append(b, `{"ch":"c`+strconv.Itoa(i%7)+`"`...)
	if i%5 == 0 {
		b = append(b, `,"emoji":`+emojiUTF8...)
	}
	b = append(b, `,"id":`+n+`,"kind":"poster"`...)
	if i%5 == 0 {
		b = append(b, `,"nested":{"a":true,"i":`+n+`,"z":[1,2.5,{"a":null,"b":"x"}]}`...)
	}
	if i%3 == 0 {
		b = append(b, q...)
	}
	if i%5 == 0 {
		b = append(b, `,"title":`+titleUTF8...)
	}
	return append(b, '}')
}

// bulkRowB is the same object with keys in reverse order, whitespace, and
// the emoji (and every 50th title) written as \u escapes.
func bulkRowB(i int) []byte {
	n := strconv.Itoa(i)
	b := make([]byte, 0, rowCap(i, len(titleASCII)))
	b = append(b, "{\r\n "...)
	switch {
	case i%50 == 0:
		b = append(b, `"title" : `+titleASCII+" ,\n"...)
	case i%5 == 0:
		b = append(b, `"title":`+titleUTF8+",\n"...)
	}
	if i%3 == 0 {
		b = append(b, `"q":"a=1&b=<2>",`...)
	}
	if i%5 == 0 {
		b = append(b, `"nested" : { "z" : [ 1 , 2.5 , { "b":"x", "a" : null } ], "i": `+n+`, "a":true },`...)
	}
	b = append(b, "\t\"kind\":\"poster\", \"id\" :"+n+", "...)
	if i%5 == 0 {
		b = append(b, `"emoji": `+emojiASCII+`, `...)
	}
	return append(b, `"ch" : "c`+strconv.Itoa(i%7)+"\"\n}\n"...)
}

func rowCap(i, title int) int {
	if i%5 == 0 {
		return title + 256
	}
	return 128
}

// The two builders write the same object as paramsRow.
func TestBulkRowsAgree(t *testing.T) {
	for i := range 31 {
		want := mustJSON(t, paramsRow(i))
		require.JSONEq(t, string(want), string(bulkRowA(i)), "row A %d", i)
		require.JSONEq(t, string(want), string(bulkRowB(i)), "row B %d", i)
		require.Equal(t, string(want), string(bulkRowA(i)), "row A %d is not what json.Marshal writes", i)
		require.NotEqual(t, string(bulkRowA(i)), string(bulkRowB(i)))
		canon, err := Canonical(want)
		require.NoError(t, err)
		require.Equal(t, string(canon), string(bulkCanonical(i)), "row %d", i)
	}
}
