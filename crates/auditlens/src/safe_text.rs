//! Untrusted text made safe to show, and origins that only look alike (docs/trust-policy.md, "Untrusted text on
//! terminals and screens").
//!
//! Everything an archive, a bundle, a key file or the database holds was written by someone else, possibly the
//! auditee. [`terminal_safe`] is the one rendering every command uses for such text: characters a reader cannot
//! see, or that act on the terminal or reorder what it shows, are written as visible escapes `\u{…}` (lowercase
//! hexadecimal, as Rust writes them): C0 and C1 controls and DEL (ESC, CR, BEL, CSI, …), bidirectional
//! controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), zero-width and other invisible format
//! characters (general category Cf, e.g. U+200B–U+200D, U+2060, U+FEFF, the tag characters), and the
//! remaining default-ignorable and blank characters (variation selectors, Hangul fillers, U+2800, line and
//! paragraph separators). The app's `ui/src/format/safeText.ts` is the same function in TypeScript.
//!
//! A backslash in the text is written `\\` exactly when what is written after it starts with `\` or `u{`, so
//! the rendering reads back unambiguously: `\\` is a backslash, `\u{…}` an escaped character, and any other
//! `\` a backslash (`C:\Users` and `DOMAIN\user` stay as they are; a literal `\u{202e}` is written
//! `\\u{202e}`).
//!
//! Origins are compared exactly, byte for byte, everywhere. Two different origins that a reader cannot tell
//! apart are flagged instead: [`origin_skeleton`] folds what does not show (case, Unicode compatibility forms,
//! invisible characters) and [`lookalike_groups`] names the origins that share a skeleton.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Whether `c` is shown as a `\u{…}` escape: a control (C0, DEL, C1), a format character (category Cf:
/// bidirectional controls, zero-width characters, the byte order mark, tags, …), a line or paragraph separator,
/// or another character that is invisible or blank by default (variation selectors, combining grapheme joiner,
/// Hangul and Mongolian fillers, the Braille blank).
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Category Cf (Unicode 16).
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
                // Line and paragraph separators (Zl, Zp).
                | '\u{2028}'..='\u{2029}'
                // Other default-ignorable or blank characters.
                | '\u{034F}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `text` as it may be shown on a terminal or a screen: see the module documentation. Text without hidden
/// characters or backslashes comes back unchanged.
pub fn terminal_safe(text: &str) -> String {
    Safe(text).to_string()
}

/// Shows `text` as [`terminal_safe`] renders it, without an intermediate string: `format!("{}", safe(o))`.
pub fn safe(text: &str) -> Safe<'_> {
    Safe(text)
}

/// See [`safe`].
#[derive(Debug, Clone, Copy)]
pub struct Safe<'a>(pub &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars().peekable();
        while let Some(c) = chars.next() {
            if is_hidden_char(c) {
                write!(f, "\\u{{{:x}}}", c as u32)?;
            } else if c == '\\' {
                let next = chars.peek().copied();
                let doubled = match next {
                    Some('\\') => true,
                    Some(n) if is_hidden_char(n) => true,
                    Some('u') => chars.clone().nth(1) == Some('{'),
                    _ => false,
                };
                f.write_str(if doubled { "\\\\" } else { "\\" })?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// `value` as compact JSON, every hidden character in its strings written as a JSON escape (see [`json_safe`]).
pub fn to_json(value: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string(value).map(json_safe)
}

/// [`to_json`], indented.
pub fn to_json_pretty(value: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(json_safe)
}

/// JSON text written by serde_json with every hidden character ([`is_hidden_char`]) of DEL and above written as a
/// JSON escape (`\u009b`, `\u202e`, a surrogate pair above U+FFFF): the same JSON value, byte for byte once read,
/// and nothing a terminal acts on or hides. serde_json already escapes C0 controls inside strings, and outside
/// them JSON has only ASCII punctuation and whitespace, so every such character met is inside a string.
pub fn json_safe(json: String) -> String {
    if !json.chars().any(|c| c >= '\u{7f}' && is_hidden_char(c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c >= '\u{7f}' && is_hidden_char(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `text` holds a character [`terminal_safe`] escapes.
pub fn has_hidden_chars(text: &str) -> bool {
    text.chars().any(is_hidden_char)
}

/// What an origin looks like to a reader: hidden characters removed, Unicode compatibility normalization
/// (NFKC) and lower case (full case mapping), normalized again. Two origins with the same skeleton cannot be
/// told apart on a screen. (Look-alike letters of other scripts, such as Cyrillic `а` for Latin `a`, are not
/// folded.)
pub fn origin_skeleton(origin: &str) -> String {
    let folded: String = origin
        .chars()
        .filter(|c| !is_hidden_char(*c))
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect();
    folded.nfkc().filter(|c| !is_hidden_char(*c)).collect()
}

/// Different origins that look alike: they share a [`origin_skeleton`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LookalikeGroup {
    /// The skeleton the origins share.
    pub skeleton: String,
    /// The exact origins, at least two, in byte order.
    pub origins: Vec<String>,
}

impl LookalikeGroup {
    /// One line naming every origin of the group, each escaped and quoted.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .origins
            .iter()
            .map(|o| format!("\"{}\"", safe(o)))
            .collect();
        format!(
            "origins {} look alike: they differ only in case, Unicode form or invisible characters",
            names.join(" and ")
        )
    }
}

/// The groups of different origins among `origins` that share a skeleton, by skeleton; origins repeated in
/// `origins` count once, and an origin alone in its skeleton is in no group.
pub fn lookalike_groups<'a>(origins: impl IntoIterator<Item = &'a str>) -> Vec<LookalikeGroup> {
    let mut by_skeleton: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for o in origins {
        by_skeleton.entry(origin_skeleton(o)).or_default().insert(o);
    }
    by_skeleton
        .into_iter()
        .filter(|(_, set)| set.len() > 1)
        .map(|(skeleton, set)| LookalikeGroup {
            skeleton,
            origins: set.into_iter().map(String::from).collect(),
        })
        .collect()
}

/// The origins among `others` that look like `origin` without being it, in byte order, each once.
pub fn lookalikes_of<'a>(origin: &str, others: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let skeleton = origin_skeleton(origin);
    others
        .into_iter()
        .filter(|o| *o != origin && origin_skeleton(o) == skeleton)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_escapes_every_hidden_character_and_keeps_the_value() {
        let hostile =
            "a\u{1b}[2J\u{7f}\u{9b}31m\u{202e}x\u{200b}\u{feff}\u{e0041}\u{2028}\\\"z é 日本";
        let value = serde_json::json!({
            "origin": hostile,
            hostile: [hostile, 1, null, "plain"],
            "nested": {"k": "\u{85}\u{ad}"},
        });
        for (json, pretty) in [
            (to_json(&value).unwrap(), false),
            (to_json_pretty(&value).unwrap(), true),
        ] {
            // Nothing hidden is left but the pretty form's own line breaks.
            let hidden: Vec<char> = json
                .chars()
                .filter(|&c| is_hidden_char(c) && !(pretty && c == '\n'))
                .collect();
            assert!(hidden.is_empty(), "{hidden:?} in {json}");
            for escape in [
                "\\u001b",
                "\\u007f",
                "\\u009b",
                "\\u202e",
                "\\udb40\\udc41",
                "\\u2028",
            ] {
                assert!(json.contains(escape), "{escape} not in {json}");
            }
            // Letters of every script stay as they are.
            assert!(json.contains("z é 日本"));
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(back, value);
        }
        // JSON without such characters comes back as serde_json wrote it.
        let plain = serde_json::json!({"a": "b\\c \\u{202e} é"});
        assert_eq!(
            to_json(&plain).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
    }

    /// Reads a rendering back, as the module documentation describes: the rendering is unambiguous.
    fn unescape(shown: &str) -> String {
        let mut out = String::new();
        let mut rest = shown;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('\\') {
                out.push('\\');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("u{") {
                let end = tail.find('}').unwrap();
                out.push(char::from_u32(u32::from_str_radix(&tail[..end], 16).unwrap()).unwrap());
                rest = &tail[end + 1..];
            } else {
                out.push('\\');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn controls_escape_and_bidi_characters_are_shown_as_escapes() {
        assert_eq!(terminal_safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal_safe("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(
            terminal_safe("\r\n\t\u{0}\u{7}\u{7f}\u{80}\u{9b}\u{9f}"),
            "\\u{d}\\u{a}\\u{9}\\u{0}\\u{7}\\u{7f}\\u{80}\\u{9b}\\u{9f}"
        );
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            assert_eq!(
                terminal_safe(&c.to_string()),
                format!("\\u{{{:x}}}", c as u32)
            );
        }
        assert_eq!(
            terminal_safe("\u{200E}\u{200F}\u{61C}"),
            "\\u{200e}\\u{200f}\\u{61c}"
        );
    }

    #[test]
    fn zero_width_and_other_invisible_characters_are_shown_as_escapes() {
        assert_eq!(
            terminal_safe("a\u{200B}b\u{200C}c\u{200D}d\u{2060}e\u{FEFF}f\u{AD}g"),
            "a\\u{200b}b\\u{200c}c\\u{200d}d\\u{2060}e\\u{feff}f\\u{ad}g"
        );
        assert_eq!(
            terminal_safe("\u{E0041}\u{E007F}\u{FE0F}\u{3164}\u{2800}\u{2028}\u{2029}\u{34F}"),
            "\\u{e0041}\\u{e007f}\\u{fe0f}\\u{3164}\\u{2800}\\u{2028}\\u{2029}\\u{34f}"
        );
    }

    #[test]
    fn visible_text_is_unchanged() {
        for t in [
            "plain été",
            "example.com/prod/k8s",
            "system:serviceaccount:kube-system:default",
            "日本語 Ελληνικά עברית العربية",
            "C:\\Users\\x",
            "DOMAIN\\user",
            "trailing\\",
            "a \u{A0}b",
        ] {
            assert_eq!(terminal_safe(t), t);
        }
    }

    #[test]
    fn a_backslash_is_doubled_only_where_it_could_read_as_an_escape() {
        assert_eq!(terminal_safe("\\u{202e}"), "\\\\u{202e}");
        assert_eq!(terminal_safe("\\\\"), "\\\\\\");
        assert_eq!(terminal_safe("\\\u{202e}"), "\\\\\\u{202e}");
        assert_eq!(terminal_safe("\\u"), "\\u");
        assert_eq!(terminal_safe("\\user"), "\\user");
    }

    #[test]
    fn every_rendering_reads_back_to_its_text() {
        for t in [
            "\\u{202e}",
            "\\\u{202e}",
            "\\\\u{41}",
            "\\",
            "\\\\",
            "a\\u{1b}\u{1b}\\",
            "x\\\\\\u{",
            "\u{202e}\\u{202e}\\\u{202e}",
        ] {
            let shown = terminal_safe(t);
            assert!(!has_hidden_chars(&shown), "{shown:?}");
            assert_eq!(unescape(&shown), t, "{shown:?}");
        }
    }

    #[test]
    fn skeletons_fold_case_compatibility_forms_and_invisible_characters() {
        let s = origin_skeleton("example.com/prod");
        assert_eq!(s, "example.com/prod");
        assert_eq!(origin_skeleton("Example.COM/Prod"), s);
        assert_eq!(origin_skeleton("example.com/pr\u{200B}od"), s);
        assert_eq!(origin_skeleton("\u{FEFF}example.com/prod\u{202E}"), s);
        // Fullwidth letters are compatibility forms of ASCII ones.
        assert_eq!(origin_skeleton("ｅｘａｍｐｌｅ.com/prod"), s);
        // NFC and NFD spellings of é.
        assert_eq!(
            origin_skeleton("caf\u{E9}.example"),
            origin_skeleton("cafe\u{301}.example")
        );
        assert_ne!(origin_skeleton("example.com/prod2"), s);
    }

    #[test]
    fn lookalike_groups_name_different_origins_with_one_skeleton() {
        let origins = [
            "example.com/prod",
            "Example.com/prod",
            "example.com/prod",
            "example.com/pr\u{200B}od",
            "example.com/dev",
            "caf\u{E9}",
            "cafe\u{301}",
        ];
        let groups = lookalike_groups(origins);
        assert_eq!(
            groups,
            vec![
                LookalikeGroup {
                    skeleton: "café".into(),
                    origins: vec!["cafe\u{301}".into(), "caf\u{E9}".into()],
                },
                LookalikeGroup {
                    skeleton: "example.com/prod".into(),
                    origins: vec![
                        "Example.com/prod".into(),
                        "example.com/prod".into(),
                        "example.com/pr\u{200B}od".into(),
                    ],
                },
            ]
        );
        assert_eq!(
            groups[1].describe(),
            "origins \"Example.com/prod\" and \"example.com/prod\" and \"example.com/pr\\u{200b}od\" look \
             alike: they differ only in case, Unicode form or invisible characters"
        );
        assert_eq!(
            lookalikes_of("example.com/prod", origins),
            vec![
                "Example.com/prod".to_string(),
                "example.com/pr\u{200B}od".into()
            ]
        );
        assert!(lookalikes_of("example.com/dev", origins).is_empty());
        assert!(lookalike_groups(["a", "a", "b"]).is_empty());
    }
}
