package testflight_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/asc-auth/action/internal/testflight"
)

func TestParseGroups(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Beta", []string{"Beta"}},
		{"Beta, QA ,Team", []string{"Beta", "QA", "Team"}},
		{"Beta\nQA\r\n\n  Team Members  \n", []string{"Beta", "QA", "Team Members"}},
		{"Beta\nBeta, QA,,", []string{"Beta", "QA"}},
	} {
		if got := testflight.ParseGroups(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseGroups(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckNotes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		wantErr    string // "" for none
	}{
		{"plain", "Fixed the login screen.", ""},
		{"typography", "© 2026 Example™ — tap → then ★ ✓", ""},
		{"accents and CJK", "Corrigé les écrans. 修正しました。", ""},
		{"devanagari with ZWJ", "क्\u200dष", ""},
		{"exactly 4000", strings.Repeat("é", 4000), ""},
		{"empty", "", "empty"},
		{"blank", " \n\t", "empty"},
		{"too long", strings.Repeat("a", 4001), "4001 characters"},
		{"bird", "New: 🐤 mode", "emoji"},
		{"flag", "Now in 🇫🇷", "emoji"},
		{"heart with VS16", "Made with ❤️", "emoji"},
		{"keycap", "Step 1️⃣", "emoji"},
		{"watch", "Watch ⌚ support", "emoji"},
		{"check mark button", "Done ✅", "emoji"},
		{"skin tone alone", "\U0001F3FD", "emoji"},
		{"invalid UTF-8", "a\xffb", "UTF-8"},
	} {
		err := testflight.CheckNotes(tc.text)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: CheckNotes: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: CheckNotes = %v, want an error about %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestIsEmojiEnclosedLetters(t *testing.T) {
	t.Parallel()
	// Enclosed letters that are not pictographs are text; 🅰 and 🆗 are emoji.
	for r, want := range map[rune]bool{0x1F110: false, 0x1F130: false, 0x1F170: true, 0x1F197: true, 0x1F1E6: true, '©': false, 0x2764: false} {
		if got := testflight.IsEmoji(r); got != want {
			t.Errorf("IsEmoji(U+%04X) = %t, want %t", r, got, want)
		}
	}
}

func TestParseLocalizedNotes(t *testing.T) {
	t.Parallel()
	got, err := testflight.ParseLocalizedNotes(`{"en-US": "Fixes", "de-DE": "Korrekturen", "": "Primary"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["de-DE"] != "Korrekturen" || got[""] != "Primary" {
		t.Errorf("ParseLocalizedNotes = %q", got)
	}
	for _, tc := range []struct{ in, want string }{
		{`["en-US"]`, "JSON object"},
		{`{}`, "no locale"},
		{`{"english": "x"}`, `"english" is not a locale`},
		{`{"en-US": "a", "en-us": "b"}`, "are the same"},
		{`{"en-US": "🎉", "fr-FR": ""}`, "emoji"},
	} {
		_, err := testflight.ParseLocalizedNotes(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLocalizedNotes(%s) = %v, want an error about %q", tc.in, err, tc.want)
		}
	}
	// All problems at once.
	_, err = testflight.ParseLocalizedNotes(`{"en-US": "🎉", "fr-FR": ""}`)
	if err == nil || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), "emoji") {
		t.Errorf("ParseLocalizedNotes did not report both problems: %v", err)
	}
}

func FuzzCheckNotes(f *testing.F) {
	for _, s := range []string{"Fixes", "🐤", "❤️", strings.Repeat("x", 4000), "\xff"} {
		f.Add(s)
	}
	// emoji is an oracle independent of IsEmoji: characters App Store
	// Connect refuses, written out, each of which must make any text that
	// holds it refused.
	emoji := []string{"🐤", "🎉", "😀", "🇺🇸", "❤️", "1️⃣", "⭐", "✅", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"}
	f.Fuzz(func(t *testing.T, s string) {
		err := testflight.CheckNotes(s)
		for _, e := range emoji {
			if strings.Contains(s, e) && err == nil {
				t.Fatalf("accepted %q, which holds %q", s, e)
			}
		}
		if withEmoji := s + emoji[len(s)%len(emoji)]; testflight.CheckNotes(withEmoji) == nil {
			t.Fatalf("accepted %q", withEmoji)
		}
		// Property: accepted text is valid UTF-8, has no emoji rune and is
		// within the limit.
		if err == nil && !utf8.ValidString(s) {
			t.Fatalf("accepted %q, which is not UTF-8", s)
		}
		if err == nil {
			for _, r := range s {
				if testflight.IsEmoji(r) {
					t.Fatalf("accepted %q with emoji U+%04X", s, r)
				}
			}
			if n := len([]rune(s)); n > testflight.MaxNotesLength || strings.TrimSpace(s) == "" {
				t.Fatalf("accepted %q of %d characters", s, n)
			}
		}
	})
}
