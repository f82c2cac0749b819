package campaign

import (
	"io"

	"github.com/wxacode/wxacode/jobs"
)

// generatorSource makes rows from a pattern: row i is number From+i.
type generatorSource struct {
	p        pattern
	first    int64 // the generator's From
	count    int64 // rows in all
	next     int64 // next index
	defaults jobs.Job
	buf      []byte
}

// newGeneratorSource expects a validated generator.
func newGeneratorSource(g *Generator, defaults jobs.Job, from int64) *generatorSource {
	p, _ := parsePattern(g.Pattern)
	count := g.To - g.From + 1
	return &generatorSource{p: p, first: g.From, count: count, next: min(from, count), defaults: defaults}
}

func (g *generatorSource) Next() (int64, jobs.Row, error) {
	if g.next >= g.count {
		return g.count, jobs.Row{}, io.EOF
	}
	i := g.next
	g.next++
	g.buf = g.p.appendScene(g.buf[:0], g.first+i)
	j := g.defaults
	j.Scene = string(g.buf)
	return i, jobs.Row{Line: i + 1, Job: j}, nil
}

func (g *generatorSource) Close() error { return nil }
