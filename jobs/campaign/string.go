package campaign

import (
	"fmt"
	"net/url"
	"strings"
)

// String summarises the definition for logs and listings. The webhook is
// shown by scheme and host only: its path or query may carry a token.
func (d Definition) String() string {
	parts := []string{"app " + d.App, d.Source.String()}
	if d.Schedule != "" {
		parts = append(parts, fmt.Sprintf("schedule %q %s", d.Schedule, d.Location()))
	} else {
		parts = append(parts, "by hand")
	}
	if d.Urgent() {
		parts = append(parts, "urgent")
	}
	if d.Webhook != "" {
		parts = append(parts, "webhook "+redactURL(d.Webhook))
	}
	return fmt.Sprintf("%s (%s)", d.Name, strings.Join(parts, ", "))
}

// GoString is String, so %#v does not print the webhook either.
func (d Definition) GoString() string { return d.String() }

// String names the source: "file PATH", "object URL" or
// "generator PATTERN FROM..TO".
func (s Source) String() string {
	switch {
	case s.Generator != nil:
		return fmt.Sprintf("generator %s %d..%d", s.Generator.Pattern, s.Generator.From, s.Generator.To)
	case s.Object != "":
		if _, problem := parseObject(s.Object); problem != "" {
			return "object (invalid)"
		}
		return "object " + s.Object
	case s.File != "":
		return "file " + s.File
	}
	return "no source"
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
