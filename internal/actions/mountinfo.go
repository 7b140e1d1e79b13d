package actions

import (
	"fmt"
	"slices"
	"strings"
)

// mount is one line of /proc/self/mountinfo, as described in proc_pid_mountinfo(5):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Root, MountPoint, FSType and Source have their octal escapes (\040 for a
// space) decoded; the other fields are kept as written.
type mount struct {
	ID           string
	ParentID     string
	Device       string // major:minor
	Root         string // directory of the source file system seen at MountPoint
	MountPoint   string
	Options      string
	Optional     []string // tag[:value] fields before the "-" separator; nil if none
	FSType       string
	Source       string
	SuperOptions string
}

// parseMountInfo parses the text of /proc/self/mountinfo. Blank lines are
// skipped. A line with fewer than six fields before the "-" separator, no
// separator, or fewer than three fields after it is an error; fields after
// the third are ignored, as proc(5) allows for future kernels.
func parseMountInfo(data []byte) ([]mount, error) {
	var mounts []mount
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		sep := -1
		if len(f) >= 10 {
			sep = slices.Index(f[6:], "-")
		}
		if sep < 0 || len(f)-(6+sep+1) < 3 {
			return nil, fmt.Errorf("mountinfo line %d: want 6 fields, optional fields, \"-\" and 3 fields", i+1)
		}
		sep += 6
		m := mount{
			ID:           f[0],
			ParentID:     f[1],
			Device:       f[2],
			Root:         unescapeOctal(f[3]),
			MountPoint:   unescapeOctal(f[4]),
			Options:      f[5],
			FSType:       unescapeOctal(f[sep+1]),
			Source:       unescapeOctal(f[sep+2]),
			SuperOptions: f[sep+3],
		}
		if sep > 6 {
			m.Optional = f[6:sep]
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// unescapeOctal decodes the kernel's \ooo escapes, which it writes for space,
// tab, newline and backslash. A backslash not starting a valid escape is kept.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) &&
			'0' <= s[i+1] && s[i+1] <= '3' &&
			'0' <= s[i+2] && s[i+2] <= '7' &&
			'0' <= s[i+3] && s[i+3] <= '7' {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
