package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEnqueueHostileCSV: `wxacode enqueue` on a 1,001-line CSV holding the
// rows of issue 16 reads every line, rejects each bad row by line and
// field, and its summary accounts for all 1,001 lines.
func TestEnqueueHostileCSV(t *testing.T) {
	w := newWorld(t, "WXACODE_APPID=wx1").withRedis()
	bad := map[int]string{
		7:  `"r7,pages/a,`,
		8:  "u1,pages/\xff,",
		9:  "u1,pages/\xfe,",
		10: "k1,pages/a,_runs/fake-run/manifest-00000.jsonl",
		11: "k2,pages/a,../../etc/passwd",
		12: "k3,pages/a,x/.hidden",
		13: "k4,pages/a,/abs/path.jpg",
		14: "p1,pages/" + strings.Repeat("a", 300) + ",",
		15: "s1,pages/scancode_time/index,",
		16: "",
		17: "r2,pages/a,", // a duplicate of line 2
	}
	var in strings.Builder
	in.WriteString("scene,page,key\n")
	for line := 2; line <= 1001; line++ {
		row, ok := bad[line]
		if !ok {
			row = fmt.Sprintf("r%d,pages/a,", line)
		}
		in.WriteString(row + "\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, "hostile.csv"), []byte(in.String()), 0o600))
	r := w.run("enqueue", "--app", "wx1", "--quiet", "--rejects", "rejects.jsonl", "hostile.csv")
	require.Equal(t, 2, r.code, "rejected rows give exit status 2: %s", r)
	require.Contains(t, r.stdout, "read 1001 lines: enqueued 989, duplicate 1, rejected 9, empty 1, header 1 in")

	f, err := os.Open(filepath.Join(w.dir, "rejects.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rej struct {
			Line  int    `json:"line"`
			Field string `json:"field"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rej))
		got = append(got, fmt.Sprintf("%d %s", rej.Line, rej.Field))
	}
	require.Equal(t, []string{"7 scene", "8 page", "9 page", "10 key", "11 key", "12 key", "13 key", "14 page", "15 page"}, got)
	for _, want := range []string{"line 7: scene: a quoted field is not closed on its line", "line 8: page: not valid UTF-8",
		"line 10: key \"_runs/fake-run/manifest-00000.jsonl\": keys under _runs/ are reserved", "line 14: page", "306 bytes"} {
		require.Contains(t, r.stderr, want)
	}

	for _, app := range []string{"../../x y", strings.Repeat("w", 3000)} {
		r := w.run("enqueue", "--app", app, "--quiet", "hostile.csv")
		require.Equal(t, 2, r.code, r)
		require.Contains(t, r.stderr, "wxacode enqueue: --app: invalid app")
		require.Contains(t, r.stderr, "not an appid")
		require.Empty(t, r.stdout, "nothing read")
	}
}
