package actions

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// formatMountInfo writes mounts in the kernel's format, escaping the decoded
// fields as the kernel does; it is the inverse of parseMountInfo.
func formatMountInfo(mounts []mount) string {
	esc := strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`)
	var b strings.Builder
	for _, m := range mounts {
		f := []string{m.ID, m.ParentID, m.Device, esc.Replace(m.Root), esc.Replace(m.MountPoint), m.Options}
		f = append(f, m.Optional...)
		f = append(f, "-", esc.Replace(m.FSType), esc.Replace(m.Source), m.SuperOptions)
		b.WriteString(strings.Join(f, " ") + "\n")
	}
	return b.String()
}

func TestParseMountInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []mount
		wantErr bool
	}{
		{
			name: "bind mount with optional field",
			in:   "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
			want: []mount{{
				ID: "36", ParentID: "35", Device: "98:0", Root: "/mnt1", MountPoint: "/mnt2",
				Options: "rw,noatime", Optional: []string{"master:1"},
				FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue",
			}},
		},
		{
			name: "no optional fields, escapes, blank lines, no final newline",
			in:   "\n1056 1046 8:1 /tmp/my\\040repo\\011x\\134y\\012z /github/workspace rw - ext4 /dev/sda1 rw\n\n1 2 3:4 /a\\9 /b rw - fuse.a\\040b src\\040x ro",
			want: []mount{
				{
					ID: "1056", ParentID: "1046", Device: "8:1", Root: "/tmp/my repo\tx\\y\nz",
					MountPoint: "/github/workspace", Options: "rw", FSType: "ext4", Source: "/dev/sda1", SuperOptions: "rw",
				},
				{
					ID: "1", ParentID: "2", Device: "3:4", Root: `/a\9`, MountPoint: "/b",
					Options: "rw", FSType: "fuse.a b", Source: "src x", SuperOptions: "ro",
				},
			},
		},
		{
			name: "extra fields after the super options are ignored",
			in:   "1 2 3:4 / /x rw - ext4 /dev/a rw future",
			want: []mount{{ID: "1", ParentID: "2", Device: "3:4", Root: "/", MountPoint: "/x", Options: "rw", FSType: "ext4", Source: "/dev/a", SuperOptions: "rw"}},
		},
		{name: "empty", in: "", want: nil},
		{name: "no separator", in: "1 2 3:4 / /x rw shared:1 ext4 /dev/a rw\n", wantErr: true},
		{name: "too few fields after separator", in: "1 2 3:4 / /x rw shared:1 - ext4 /dev/a\n", wantErr: true},
		{name: "separator too early", in: "1 2 3:4 / - rw ext4 /dev/a rw x\n", wantErr: true},
		{name: "short line", in: "1 2 3:4 / /x\n", wantErr: true},
		{name: "second line bad", in: "1 2 3:4 / /x rw - ext4 /dev/a rw\ngarbage\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseMountInfo([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseMountInfo() error = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseMountInfo() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseMountInfoTestdata(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "mountinfo-*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			mounts, err := parseMountInfo(data)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Count(string(data), "\n"); len(mounts) != want {
				t.Errorf("got %d mounts, want %d", len(mounts), want)
			}
			if got := formatMountInfo(mounts); got != string(data) {
				t.Errorf("format(parse(file)) differs from file:\n%s", got)
			}
		})
	}
}

// FuzzParseMountInfo checks that parseMountInfo never panics and that what it
// parses survives a format and a second parse unchanged.
func FuzzParseMountInfo(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "mountinfo-*.txt"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("1 2 3:4 /a\\040b\\134 /c\\012 rw x:1 y:2 - t s o\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := parseMountInfo(data)
		if err != nil {
			return
		}
		again, err := parseMountInfo([]byte(formatMountInfo(mounts)))
		if err != nil {
			t.Fatalf("formatted mounts do not parse: %v", err)
		}
		if !reflect.DeepEqual(mounts, again) {
			t.Fatalf("round trip changed mounts:\n%+v\n%+v", mounts, again)
		}
	})
}
