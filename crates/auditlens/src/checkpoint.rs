//! C2SP tlog-checkpoint note bodies (<https://c2sp.org/tlog-checkpoint>): the origin line, the
//! tree size and the RFC 6962 root hash of a log, plus optional extension lines.
//!
//! A checkpoint is the text of a signed note (see [`crate::note`]); this module only reads and
//! writes that text. Parsing is strict so that one checkpoint has exactly one spelling: the size
//! is decimal without leading zeros, the root is canonical padded base64 of 32 bytes, and every
//! line, including the last, ends in `\n`.
//!
//! The size is a `u64`; Go's `tlog.ParseTree` stops at `i64::MAX`, and the base64 root must be
//! canonical (Go tolerates non-zero trailing bits).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Everything that can be wrong with a checkpoint body. Line numbers count from 1.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint text must end with a newline")]
    MissingFinalNewline,
    #[error("checkpoint has {lines} line(s); it needs at least 3 (origin, tree size, root hash)")]
    TooFewLines { lines: usize },
    #[error("checkpoint contains control character 0x{byte:02x} at byte {offset}")]
    ControlCharacter { offset: usize, byte: u8 },
    #[error("checkpoint origin (line 1) is empty")]
    EmptyOrigin,
    #[error(
        "checkpoint tree size (line 2) {found:?} is not a decimal number without leading zeros"
    )]
    MalformedSize { found: String },
    #[error("checkpoint tree size (line 2) {found:?} does not fit in 64 bits")]
    SizeOverflow { found: String },
    #[error("checkpoint root hash (line 3) is not canonical standard padded base64")]
    MalformedRoot,
    #[error("checkpoint root hash (line 3) is {len} bytes; an RFC 6962 SHA-256 root is 32 bytes")]
    WrongRootLength { len: usize },
    #[error("checkpoint extension line {line} is empty")]
    EmptyExtensionLine { line: usize },
}

/// A log's signed tree head as written in a checkpoint note body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log identity, e.g. `example.com/log42`; non-empty, one line.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 Merkle tree root at `size`.
    pub root: [u8; 32],
    /// Opaque extra lines after the root, each non-empty (the spec advises against using them).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint body (the note text, ending in `\n`, without signatures).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if let Some(offset) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlCharacter {
                offset,
                byte: text.as_bytes().get(offset).copied().unwrap_or_default(),
            });
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { lines: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = STANDARD
            .decode(root)
            .map_err(|_| CheckpointError::MalformedRoot)?;
        let root: [u8; 32] = root
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::WrongRootLength { len: root.len() })?;
        if let Some(index) = extensions.iter().position(|line| line.is_empty()) {
            return Err(CheckpointError::EmptyExtensionLine { line: index + 4 });
        }
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size,
            root,
            extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
        })
    }

    /// The checkpoint body: origin, size, base64 root and extension lines, each ending in `\n`.
    /// `parse(to_text())` gives back the same checkpoint when the origin and extensions are
    /// non-empty single lines without control characters.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// ASCII decimal, no sign, no leading zeros except for "0" itself, at most `u64::MAX`.
fn parse_size(found: &str) -> Result<u64, CheckpointError> {
    let canonical = !found.is_empty()
        && found.bytes().all(|b| b.is_ascii_digit())
        && (found == "0" || !found.starts_with('0'));
    if !canonical {
        return Err(CheckpointError::MalformedSize {
            found: found.to_owned(),
        });
    }
    found.parse().map_err(|_| CheckpointError::SizeOverflow {
        found: found.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `$result` is an `Err` matching `$pattern`, showing what it was otherwise.
    macro_rules! assert_err {
        ($result:expr, $pattern:pat) => {
            match $result {
                Err($pattern) => {}
                other => panic!("expected Err({}), got {other:?}", stringify!($pattern)),
            }
        };
    }

    const SUMDB: &str = "go.sum database tree\n20852163\n\
                         CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn real_sumdb_checkpoint_body_parses_and_round_trips() {
        let cp = Checkpoint::parse(SUMDB).unwrap();
        assert_eq!(cp.origin, "go.sum database tree");
        assert_eq!(cp.size, 20852163);
        assert_eq!(
            STANDARD.encode(cp.root),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(cp.extensions.is_empty());
        assert_eq!(cp.to_text(), SUMDB);
    }

    #[test]
    fn extension_lines_are_kept_in_order() {
        let text = format!("{SUMDB}ext one\next two\n");
        let cp = Checkpoint::parse(&text).unwrap();
        assert_eq!(cp.extensions, ["ext one", "ext two"]);
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn empty_tree_has_size_zero() {
        let text = "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let cp = Checkpoint::parse(text).unwrap();
        assert_eq!(cp.size, 0);
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn largest_u64_size_is_accepted_and_one_more_overflows() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let max = format!("o\n{}\n{root}\n", u64::MAX);
        assert_eq!(Checkpoint::parse(&max).unwrap().size, u64::MAX);
        let over = format!("o\n18446744073709551616\n{root}\n");
        assert_err!(
            Checkpoint::parse(&over),
            CheckpointError::SizeOverflow { .. }
        );
    }

    #[test]
    fn malformed_bodies_give_precise_errors() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        type Case = (String, fn(&CheckpointError) -> bool);
        let cases: Vec<Case> = vec![
            (String::new(), |e| {
                matches!(e, CheckpointError::MissingFinalNewline)
            }),
            ("\n".into(), |e| {
                matches!(e, CheckpointError::TooFewLines { lines: 1 })
            }),
            (SUMDB.trim_end().into(), |e| {
                matches!(e, CheckpointError::MissingFinalNewline)
            }),
            ("o\n1\n".into(), |e| {
                matches!(e, CheckpointError::TooFewLines { lines: 2 })
            }),
            (format!("\n1\n{root}\n"), |e| {
                matches!(e, CheckpointError::EmptyOrigin)
            }),
            (format!("o\n01\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n00\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n+1\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n-1\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n 1\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (format!("o\n\u{0661}\n{root}\n"), |e| {
                matches!(e, CheckpointError::MalformedSize { .. })
            }),
            (
                "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".into(),
                |e| matches!(e, CheckpointError::MalformedRoot),
            ),
            (
                "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".into(),
                |e| matches!(e, CheckpointError::MalformedRoot),
            ),
            (
                "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n".into(),
                |e| matches!(e, CheckpointError::MalformedRoot),
            ),
            ("o\n1\nAAAA\n".into(), |e| {
                matches!(e, CheckpointError::WrongRootLength { len: 3 })
            }),
            ("o\n1\n\n".into(), |e| {
                matches!(e, CheckpointError::WrongRootLength { len: 0 })
            }),
            (format!("o\n1\n{root}\n\n"), |e| {
                matches!(e, CheckpointError::EmptyExtensionLine { line: 4 })
            }),
            (format!("o\n1\n{root}\next\n\nmore\n"), |e| {
                matches!(e, CheckpointError::EmptyExtensionLine { line: 5 })
            }),
            (format!("o\r\n1\n{root}\n"), |e| {
                matches!(
                    e,
                    CheckpointError::ControlCharacter {
                        offset: 1,
                        byte: b'\r'
                    }
                )
            }),
        ];
        for (text, expected) in cases {
            let err = Checkpoint::parse(&text).unwrap_err();
            assert!(expected(&err), "{text:?}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn valid_checkpoints_round_trip(
                origin in "[^\\x00-\\x1f]{1,40}",
                size in any::<u64>(),
                root in any::<[u8; 32]>(),
                extensions in proptest::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
            ) {
                let cp = Checkpoint { origin, size, root, extensions };
                prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
            }

            #[test]
            fn arbitrary_text_never_panics(text in "(?s).{0,200}") {
                let _ = Checkpoint::parse(&text);
            }
        }
    }
}
