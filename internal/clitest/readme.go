package clitest

import (
	"strings"
)

// Line is one `wxacode ...` command line of a document.
type Line struct {
	// No is the line number in the document.
	No int
	// Argv is the words after wxacode.
	Argv []string
}

// CommandLines extracts every wxacode command line from the shell code
// blocks (```sh, ```bash, ```console, ```shell) of a Markdown document: a
// line whose command word is wxacode, ./wxacode, bin/wxacode or
// `go run ./cmd/wxacode`, after any VAR=value assignments, up to a shell
// operator (|, &, ;, >, <) or a comment. A word a|b|c in the command
// words' place (README's shorthand for several subcommands) gives one
// line per alternative.
func CommandLines(doc string) []Line {
	var out []Line
	inShell := false
	for i, l := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			lang := strings.TrimPrefix(t, "```")
			inShell = !inShell && (lang == "sh" || lang == "bash" || lang == "shell" || lang == "console")
			continue
		}
		if !inShell {
			continue
		}
		if argv, ok := wxacodeArgv(words(t)); ok {
			for _, a := range expand(argv) {
				out = append(out, Line{No: i + 1, Argv: a})
			}
		}
	}
	return out
}

// wxacodeArgv returns the words after the wxacode command word.
func wxacodeArgv(ws []string) ([]string, bool) {
	for len(ws) > 0 && isAssignment(ws[0]) {
		ws = ws[1:]
	}
	switch {
	case len(ws) >= 3 && ws[0] == "go" && ws[1] == "run" && ws[2] == "./cmd/wxacode":
		return ws[3:], true
	case len(ws) > 0 && (ws[0] == "wxacode" || strings.HasSuffix(ws[0], "/wxacode")):
		return ws[1:], true
	}
	return nil, false
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	return ok && k != "" && strings.ToUpper(k) == k && !strings.HasPrefix(k, "-")
}

// expand turns a leading word with "|" (after others without) into one
// argv per alternative.
func expand(argv []string) [][]string {
	for i, w := range argv {
		if strings.HasPrefix(w, "-") {
			break
		}
		if alts := strings.Split(w, "|"); len(alts) > 1 && w == strings.ToLower(w) {
			var out [][]string
			for _, a := range alts {
				next := append(append(append([]string{}, argv[:i]...), a), argv[i+1:]...)
				out = append(out, expand(next)...)
			}
			return out
		}
	}
	return [][]string{argv}
}

// words splits a shell line into words with single and double quotes,
// stopping at a comment or a shell operator.
func words(line string) []string {
	var ws []string
	var cur strings.Builder
	inWord := false
	var quote rune
	flush := func() {
		if inWord {
			ws = append(ws, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case strings.ContainsRune("|&;<>", r) && !inWord, r == '#' && !inWord:
			flush()
			return ws
		case strings.ContainsRune(";&<>", r):
			flush()
			return ws
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return ws
}
