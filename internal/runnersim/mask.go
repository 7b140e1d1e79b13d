package runnersim

import (
	"cmp"
	"slices"
	"strings"
)

// Masker hides secrets in text as the runner hides them in a job's log:
// every occurrence of a registered value becomes "***", longer values first
// so that a value containing another is hidden whole.
type Masker struct {
	values []string
}

// Add registers values, as ::add-mask:: does; blank values are ignored.
func (m *Masker) Add(values ...string) {
	for _, v := range values {
		if strings.TrimSpace(v) != "" && !slices.Contains(m.values, v) {
			m.values = append(m.values, v)
		}
	}
	slices.SortStableFunc(m.values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// Mask returns s with every registered value replaced by "***".
func (m *Masker) Mask(s string) string {
	for _, v := range m.values {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}
