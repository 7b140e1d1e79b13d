package testflight

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxNotesLength is the longest "What to Test" text accepted, in
// characters (Unicode code points). App Store Connect's form says 4,000
// characters; the API document gives whatsNew no maximum, and whether
// Apple counts code points, UTF-16 units or bytes is not documented, so
// text near the limit may still be refused by Apple, whose message is then
// reported as is.
const MaxNotesLength = 4000

// localePattern is the form of a locale code: a two- or three-letter
// language and optional subtags (en, en-US, zh-Hans, es-419).
var localePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$`) })

// ParseGroups splits a list of beta groups, one a line or comma-separated
// (or both), into its entries: each trimmed, empty ones dropped, repeats
// (the same text) kept once. An entry is a group ID or a group name; a
// name that contains a comma cannot be given this way, use its ID.
func ParseGroups(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if e := strings.TrimSpace(line); e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// CheckNotes reports what makes text unacceptable as "What to Test"
// notes: empty (only white space), longer than MaxNotesLength characters,
// not UTF-8, or containing emoji, which App Store Connect refuses ("Text
// for whatsNew contains invalid characters"). See IsEmoji for what counts.
func CheckNotes(text string) error {
	var errs []error
	switch n := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		errs = append(errs, errors.New("testflight: the notes are empty"))
	case n > MaxNotesLength:
		errs = append(errs, fmt.Errorf("testflight: the notes are %d characters long, more than the %d App Store Connect accepts", n, MaxNotesLength))
	}
	if !utf8.ValidString(text) {
		errs = append(errs, errors.New("testflight: the notes are not valid UTF-8"))
	}
	var found []string
	for i, r := range text {
		if IsEmoji(r) && len(found) < 5 {
			found = append(found, fmt.Sprintf("%q (U+%04X) at byte %d", r, r, i))
		}
	}
	if len(found) > 0 {
		errs = append(errs, fmt.Errorf("testflight: the notes contain emoji, which App Store Connect refuses: %s; remove them", strings.Join(found, ", ")))
	}
	return errors.Join(errs...)
}

// ParseLocalizedNotes reads notes by locale from a JSON object such as
// {"en-US": "Fixes", "de-DE": "Korrekturen"}. The key "" stands for the
// app's primary locale. Every locale code and every text is checked
// (CheckNotes), and all problems are reported at once; locales that differ
// only in case are refused, since App Store Connect matches them so.
func ParseLocalizedNotes(js string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return nil, fmt.Errorf(`testflight: the localized notes are not a JSON object of locale to text, such as {"en-US": "Bug fixes"}: %w`, err)
	}
	if len(m) == 0 {
		return nil, errors.New("testflight: the localized notes name no locale")
	}
	var errs []error
	seen := map[string]string{}
	for _, locale := range slices.Sorted(maps.Keys(m)) {
		if err := checkLocale(locale); err != nil {
			errs = append(errs, err)
		}
		if prev, ok := seen[strings.ToLower(locale)]; ok {
			errs = append(errs, fmt.Errorf("testflight: locales %q and %q are the same", prev, locale))
		}
		seen[strings.ToLower(locale)] = locale
		if err := CheckNotes(m[locale]); err != nil {
			errs = append(errs, fmt.Errorf("locale %q: %w", locale, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// checkLocale accepts "" (the primary locale) or a locale code.
func checkLocale(locale string) error {
	if locale == "" || localePattern().MatchString(locale) {
		return nil
	}
	return fmt.Errorf("testflight: %q is not a locale code such as en-US", locale)
}

// IsEmoji reports whether r is a character CheckNotes refuses as emoji:
//
//   - the pictographic blocks of the supplementary plane,
//     U+1F000–U+1FAFF (mahjong and playing cards, the enclosed
//     alphanumeric and ideographic supplements with the regional
//     indicators U+1F1E6–U+1F1FF that make flags, miscellaneous symbols
//     and pictographs with the skin-tone modifiers, emoticons, transport
//     and map symbols, supplemental symbols and pictographs, and symbols
//     and pictographs extended-A), less the enclosed letters and digits
//     there that are not pictographs (U+1F100–U+1F1E5 other than those
//     Unicode marks Extended_Pictographic);
//   - the characters of the Basic Multilingual Plane that are emoji
//     presented as emoji by default (Emoji_Presentation=Yes: ⌚, ⏰, ☕,
//     ♈–♓, ⚡, ✅, ❌, ⭐ and the like);
//   - U+FE0F, variation selector 16, which asks for the emoji form of the
//     character before it (❤️ is U+2764 U+FE0F), and U+20E3, the keycap
//     mark (1️⃣);
//   - the tag characters U+E0020–U+E007F of subdivision flags.
//
// Text-style symbols without U+FE0F (©, ®, ™, →, ★, ✓) are allowed: they
// are ordinary typography in release notes, and nothing shows that Apple
// refuses them. The zero-width joiner is allowed too: scripts such as
// Devanagari need it.
func IsEmoji(r rune) bool {
	switch {
	case r == 0xFE0F || r == 0x20E3:
		return true
	case r >= 0xE0020 && r <= 0xE007F:
		return true
	case r >= 0x1F100 && r <= 0x1F1E5:
		return inRanges(r, enclosedPictographs)
	case r >= 0x1F000 && r <= 0x1FAFF:
		return true
	case r < 0x10000:
		return inRanges(r, bmpEmojiPresentation)
	}
	return false
}

type runeRange struct{ lo, hi rune }

func inRanges(r rune, ranges []runeRange) bool {
	for _, x := range ranges {
		if r >= x.lo && r <= x.hi {
			return true
		}
	}
	return false
}

// enclosedPictographs are the Extended_Pictographic characters of
// U+1F100–U+1F1E5 (🅰, 🅱, 🅾, 🅿, 🆎, 🆑–🆚 and unassigned ones Unicode
// reserves for pictographs).
var enclosedPictographs = []runeRange{
	{0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F},
	{0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5},
}

// bmpEmojiPresentation are the characters below U+10000 with
// Emoji_Presentation=Yes (Unicode 15.1 emoji-data.txt).
var bmpEmojiPresentation = []runeRange{
	{0x231A, 0x231B}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3},
	{0x25FD, 0x25FE}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F},
	{0x2693, 0x2693}, {0x26A1, 0x26A1}, {0x26AA, 0x26AB}, {0x26BD, 0x26BE},
	{0x26C4, 0x26C5}, {0x26CE, 0x26CE}, {0x26D4, 0x26D4}, {0x26EA, 0x26EA},
	{0x26F2, 0x26F3}, {0x26F5, 0x26F5}, {0x26FA, 0x26FA}, {0x26FD, 0x26FD},
	{0x2705, 0x2705}, {0x270A, 0x270B}, {0x2728, 0x2728}, {0x274C, 0x274C},
	{0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
	{0x27B0, 0x27B0}, {0x27BF, 0x27BF}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50},
	{0x2B55, 0x2B55},
}
