package staple_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asc-auth/action/internal/bundle/bundletest"
	"github.com/asc-auth/action/internal/notarysim"
	"github.com/asc-auth/action/internal/staple"
)

// ticket is a stand-in ticket: real ones start "s8ch".
var ticket = append([]byte("s8ch"), bytes.Repeat([]byte{0xa5, 0x5a, 0x01}, 1700)...)

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func recordName(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := staple.RecordName(bytes.NewReader(data), int64(len(data)), path)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// crossCheck is what testdata/staplecheck.py, an independent reader
// written from Apple's formats, finds in a file.
type crossCheck struct {
	Kind            string
	Record          string
	Ticket          *string
	HeapEnd         int64 `json:"heap_end"`
	Checksum        string
	Signed          bool
	SignatureOffset int64 `json:"signature_offset"`
	SignatureSize   int64 `json:"signature_size"`
	Blobs           []struct {
		Slot, Offset, Magic, Length uint32
		SHA256                      string
	}
}

// pythonCheck runs the independent reader on path. It skips where
// /usr/bin/python3 is missing, and fails there under
// ASC_AUTH_CROSSCHECK=required, as CI runs it.
func pythonCheck(t *testing.T, path string) crossCheck {
	t.Helper()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		if os.Getenv("ASC_AUTH_CROSSCHECK") == "required" {
			t.Fatalf("%s is required for the cross-check: %v", python, err)
		}
		t.Skipf("%s not installed", python)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), python, filepath.Join("testdata", "staplecheck.py"), path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("staplecheck.py %s: %v\n%s", filepath.Base(path), err, stderr.Bytes())
	}
	var c crossCheck
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("staplecheck.py: %v: %s", err, out)
	}
	return c
}

func TestStaplePkg(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]bundletest.PKGOptions{
		"signed, sha1":   {Signed: true},
		"signed, sha256": {Signed: true, TOCChecksum: "sha256"},
		"unsigned":       {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orig, err := bundletest.PKG(opts)
			if err != nil {
				t.Fatal(err)
			}
			path := write(t, "Demo.pkg", orig)
			rec := recordName(t, path)
			wantType := map[string]string{"": "2/1/", "sha256": "2/2/"}[opts.TOCChecksum]
			if !strings.HasPrefix(rec, wantType) || len(rec) != len(wantType)+40 {
				t.Errorf("record %s, want %s and 20 bytes of hex", rec, wantType)
			}
			before := pythonCheck(t, path)
			if before.Record != rec || before.Ticket != nil || before.HeapEnd != int64(len(orig)) || before.Signed != opts.Signed {
				t.Fatalf("staplecheck.py before stapling: %+v; Go's record %s, %d bytes", before, rec, len(orig))
			}

			if err := staple.Pkg(path, ticket); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got[:len(orig)], orig) {
				t.Fatal("stapling changed the package itself")
			}
			// The trailer, byte by byte.
			tail := got[len(orig):]
			want := append(trailerRecord(1, 0), ticket...)
			want = append(want, trailerRecord(2, uint32(len(ticket)))...)
			if !bytes.Equal(tail, want) {
				t.Errorf("trailer:\n% x\nwant\n% x", tail[:min(48, len(tail))], want[:48])
			}
			after := pythonCheck(t, path)
			if after.Record != rec || after.Ticket == nil || *after.Ticket != hex.EncodeToString(ticket) || after.HeapEnd != int64(len(orig)) {
				t.Errorf("staplecheck.py after stapling: record %s ticket %v heap end %d", after.Record, after.Ticket != nil, after.HeapEnd)
			}
			// The package still reads, under the same record.
			if r := recordName(t, path); r != rec {
				t.Errorf("record after stapling %s, want %s", r, rec)
			}
			// Stapling again replaces the ticket rather than adding one.
			other := append([]byte("s8ch"), "a newer ticket"...)
			if err := staple.Pkg(path, other); err != nil {
				t.Fatal(err)
			}
			again, _ := os.ReadFile(path)
			if len(again) != len(orig)+32+len(other) || !bytes.Equal(again[:len(orig)], orig) {
				t.Errorf("stapling twice: %d bytes, want %d", len(again), len(orig)+32+len(other))
			}
		})
	}
}

func trailerRecord(typ uint16, n uint32) []byte {
	b := make([]byte, 16)
	copy(b, "t8lr")
	binary.LittleEndian.PutUint16(b[4:], 1)
	binary.LittleEndian.PutUint16(b[6:], typ)
	binary.LittleEndian.PutUint32(b[8:], n)
	return b
}

func TestStapleDMG(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]bundletest.DMGOptions{
		"sha256": {},
		"sha1":   {HashType: 1, DataSize: 300 << 10, Seed: 3},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orig, err := bundletest.DMG(opts)
			if err != nil {
				t.Fatal(err)
			}
			path := write(t, "Demo.dmg", orig)
			rec := recordName(t, path)
			if want := map[uint8]string{0: "2/2/", 1: "2/1/"}[opts.HashType]; !strings.HasPrefix(rec, want) {
				t.Errorf("record %s, want %s…", rec, want)
			}
			before := pythonCheck(t, path)
			if before.Record != rec || before.Ticket != nil || len(before.Blobs) != 3 {
				t.Fatalf("staplecheck.py before stapling: %+v; Go's record %s", before, rec)
			}
			sigOff := before.SignatureOffset
			origKoly := orig[len(orig)-512:]

			if err := staple.DMG(path, ticket); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got[:sigOff], orig[:sigOff]) {
				t.Error("stapling changed the image before its code signature")
			}
			koly := got[len(got)-512:]
			for i := range koly {
				if (i < 304 || i >= 312) && koly[i] != origKoly[i] {
					t.Fatalf("koly byte %d changed: only the signature size (304..311) may", i)
				}
			}
			after := pythonCheck(t, path)
			if after.Record != rec || after.Ticket == nil || *after.Ticket != hex.EncodeToString(ticket) || after.SignatureOffset != sigOff ||
				int64(len(got)) != sigOff+after.SignatureSize+512 || len(after.Blobs) != 4 {
				t.Fatalf("staplecheck.py after stapling: %+v", after)
			}
			// The original blobs are kept byte for byte, in slot order, with
			// the ticket last.
			for i, b := range before.Blobs {
				if a := after.Blobs[i]; a.Slot != b.Slot || a.SHA256 != b.SHA256 {
					t.Errorf("blob %d: slot %#x %s, was slot %#x %s", i, a.Slot, a.SHA256, b.Slot, b.SHA256)
				}
			}
			if last := after.Blobs[3]; last.Slot != 0x10002 || last.Magic != 0xfade0b01 || last.Length != uint32(8+len(ticket)) {
				t.Errorf("ticket blob %+v", last)
			}
			if r := recordName(t, path); r != rec {
				t.Errorf("record after stapling %s, want %s", r, rec)
			}
			// Stapling again replaces the ticket.
			if err := staple.DMG(path, ticket); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
				t.Error("stapling the same ticket twice changed the image")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	unsigned, _ := bundletest.DMG(bundletest.DMGOptions{Unsigned: true})
	pkg, _ := bundletest.PKG(bundletest.PKGOptions{})
	signed, _ := bundletest.DMG(bundletest.DMGOptions{})
	gap := append([]byte(nil), signed...)
	k := gap[len(gap)-512:]
	binary.BigEndian.PutUint64(k[304:], binary.BigEndian.Uint64(k[304:])-16) // the signature ends 16 bytes early
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"Unsigned.dmg", unsigned, "has no code signature: sign the disk image"},
		{"Gap.dmg", gap, "does not end where the koly trailer starts"},
		{"Zeros.dmg", make([]byte, 4096), "does not end with a koly trailer"},
		{"Short.dmg", []byte("koly"), "too short"},
		{"Zip.pkg", []byte("PK\x03\x04 not a xar archive at all"), "not a xar archive"},
		{"Cut.pkg", pkg[:len(pkg)/2], "truncated"},
		{"App.zip", []byte("PK"), "a .zip cannot be stapled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := staple.RecordName(bytes.NewReader(tc.data), int64(len(tc.data)), tc.name)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLookupWaitsForTheTicket has the stand-in answer "Record not found"
// for the first lookups, as Apple's does just after acceptance.
func TestLookupWaitsForTheTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		lag      int
		attempts int
		wantErr  bool
	}{
		{name: "found at once", lag: 0, attempts: 3},
		{name: "found on the fourth lookup", lag: 3, attempts: 5},
		{name: "not found in time", lag: 3, attempts: 3, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := notarysim.New(notarysim.WithTicketLag(tc.lag))
			if err := sim.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.Close)
			const rec = "2/2/00112233445566778899aabbccddeeff00112233"
			sim.AddTicket(rec, ticket)
			var slept []time.Duration
			var logged []string
			sleep := func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return ctx.Err() }
			got, err := staple.Lookup(t.Context(), http.DefaultClient, sim.NotaryURL(), rec, tc.attempts, 15*time.Second, sleep,
				func(line string) { logged = append(logged, line) })
			wantLookups := min(tc.lag+1, tc.attempts)
			if sim.Lookups(rec) != wantLookups || len(slept) != wantLookups-1 || len(logged) != wantLookups-1 {
				t.Errorf("%d lookups, %d sleeps, %d lines logged; want %d, %d and %d", sim.Lookups(rec), len(slept), len(logged), wantLookups, wantLookups-1, wantLookups-1)
			}
			for _, line := range logged {
				if !strings.Contains(line, "not published yet") || !strings.Contains(line, "looking again in 15s") {
					t.Errorf("logged %q", line)
				}
			}
			if tc.wantErr {
				if !errors.Is(err, staple.ErrNotFound) || !strings.Contains(err.Error(), rec) {
					t.Errorf("err = %v, want ErrNotFound naming the record", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, ticket) {
				t.Errorf("ticket %d bytes, err %v", len(got), err)
			}
		})
	}
}

// FuzzStapleDMG feeds damaged disk images to the reader: it must refuse
// them or, where it reads a record name, staple without changing that
// name or anything before the signature.
func FuzzStapleDMG(f *testing.F) {
	for _, o := range []bundletest.DMGOptions{{DataSize: 2048}, {DataSize: 1024, HashType: 1}} {
		d, err := bundletest.DMG(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d, uint16(0), byte(0))
		f.Add(d, uint16(len(d)-512+300), byte(0x7f))
		f.Add(d, uint16(len(d)-512+304), byte(0xff))
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint16, b byte) {
		if int(at) < len(data) {
			data[at] ^= b
		}
		rec, err := staple.RecordName(bytes.NewReader(data), int64(len(data)), "F.dmg")
		if err != nil {
			return
		}
		path := write(t, "F.dmg", data)
		if err := staple.DMG(path, ticket); err != nil {
			return
		}
		got, _ := os.ReadFile(path)
		if r, err := staple.RecordName(bytes.NewReader(got), int64(len(got)), "F.dmg"); err != nil || r != rec {
			t.Fatalf("after stapling: record %q (%v), want %q", r, err, rec)
		}
		sigOff := int64(binary.BigEndian.Uint64(got[len(got)-512+296:]))
		if !bytes.Equal(got[:sigOff], data[:sigOff]) {
			t.Fatal("stapling changed bytes before the signature")
		}
	})
}
