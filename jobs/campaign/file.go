package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvFile names the campaigns file.
const EnvFile = "WXACODE_CAMPAIGNS_FILE"

// File is a parsed campaigns file:
//
//	campaigns:
//	  - name: nightly
//	    app: wx0123456789abcdef
//	    source: {generator: {pattern: "c{n:08}", from: 1, to: 2000000}}
//	    schedule: "0 2 * * *"
type File struct {
	Campaigns []Definition `yaml:"campaigns"`
}

// Load reads and parses the campaigns file at path. It fails with the
// read error, a *SyntaxError, or the *FieldErrors of Validate.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("campaigns file: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads a campaigns file strictly: bad YAML, unknown fields, wrong
// types, duplicate keys and more than one document are a *SyntaxError
// naming the lines; then the definitions are validated (File.Validate),
// and an explicit 0 for window or rate_share is refused too. An empty
// document is a file without campaigns.
func Parse(data []byte) (*File, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && err != io.EOF {
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &SyntaxError{Problems: []string{fmt.Sprintf("line %d: only one YAML document is allowed", extra.Line)}}
	}
	f := &File{}
	if root.Kind != 0 {
		if err := decodeStrict(data, f); err != nil {
			return nil, err
		}
	}
	errs := explicitZeros(&root, f)
	if err := f.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

func decodeStrict(data []byte, f *File) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return syntaxError(err)
	}
	return nil
}

// typeNames makes yaml's messages speak of the file, not of Go types.
var typeNames = strings.NewReplacer(
	"in type campaign.File", "at the top level (known: campaigns)",
	"in type campaign.Definition", "in a campaign",
	"in type campaign.Source", "in source (known: file, object, format, generator)",
	"in type campaign.Generator", "in generator (known: pattern, from, to)",
	"into campaign.File", "into the campaigns file (want a mapping with campaigns:)",
	"into campaign.Definition", "into a campaign (want a mapping)",
	"into campaign.Source", "into source (want a mapping)",
	"into campaign.Generator", "into generator (want a mapping)",
	"into []campaign.Definition", "into campaigns (want a list)",
	"yaml: ", "",
)

func syntaxError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		probs := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			probs[i] = typeNames.Replace(e)
		}
		return &SyntaxError{Problems: probs}
	}
	return &SyntaxError{Problems: []string{typeNames.Replace(err.Error())}}
}

// explicitZeros refuses "window: 0" and "rate_share: 0": in Go a zero
// means the default, but written out it is a mistake, not a wish for it.
func explicitZeros(root *yaml.Node, f *File) []error {
	list := campaignNodes(root)
	var errs []error
	for i, c := range list {
		if i >= len(f.Campaigns) || c.Kind != yaml.MappingNode {
			break
		}
		for k := 0; k+1 < len(c.Content); k += 2 {
			key, val := c.Content[k].Value, c.Content[k+1]
			if (key == "window" || key == "rate_share") && val.Kind == yaml.ScalarNode && isZero(val) {
				fe := &FieldError{Campaign: f.Campaigns[i].Name, Field: key, Value: val.Value,
					Reason: "must be more than 0 (omit it for the default)"}
				errs = append(errs, renameUnnamed(fe, i))
			}
		}
	}
	return errs
}

func campaignNodes(root *yaml.Node) []*yaml.Node {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for k := 0; k+1 < len(m.Content); k += 2 {
		if m.Content[k].Value == "campaigns" && m.Content[k+1].Kind == yaml.SequenceNode {
			return m.Content[k+1].Content
		}
	}
	return nil
}

func isZero(n *yaml.Node) bool {
	if n.ShortTag() == "!!null" {
		return false // "window: ~" leaves the default
	}
	var f float64
	return n.Decode(&f) == nil && f == 0
}

// Get returns the campaign named name.
func (f *File) Get(name string) (Definition, bool) {
	for _, d := range f.Campaigns {
		if d.Name == name {
			return d, true
		}
	}
	return Definition{}, false
}

// Names returns the campaign names in file order.
func (f *File) Names() []string {
	names := make([]string, len(f.Campaigns))
	for i, d := range f.Campaigns {
		names[i] = d.Name
	}
	return names
}
