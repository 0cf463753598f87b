//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys: parsing, signing and
//! verifying notes, and the `name+keyid+base64` key strings of Go's `golang.org/x/mod/sumdb/note`.
//!
//! A signed note is a UTF-8 text ending in `\n`, a blank line, then one or more signature lines
//! `— <key name> base64(key ID (4 bytes, big-endian) || signature)`. The key ID of an Ed25519 key is
//! `SHA-256(name || "\n" || 0x01 || public key)[..4]`. AuditLens signs its archive checkpoints this
//! way, so any signed-note verifier, such as Go's `note.Open`, can check them.
//!
//! Why hand-written rather than the `signed_note` crate (cloudflare/azul 0.2.0): that crate is
//! built on ed25519-dalek 2, sha2 0.10, base64 0.21, rand_core 0.6 and thiserror 1, so using it
//! would pull a second copy of the whole crypto stack next to our ed25519-dalek 3 / sha2 0.11 /
//! base64 0.22, and its verifier goes through the `Verifier` trait (plain `verify`) instead of
//! `verify_strict`. Its API is a port of Go's interfaces (`Verifiers`, `Box<dyn Verifier>`), wider
//! than the single-key "parse, then verify with this key" we need, and it is a young 0.x crate
//! maintained as part of a larger project. The format is small and fully specified (a few hundred
//! lines here), and owning it lets us choose strictness and error messages, so we implement it directly
//! and pin it to Go's behaviour with Go's own test vectors.
//!
//! Behaviour matches Go's `sumdb/note` except where we are deliberately stricter:
//! - base64 must be canonical (padded, zero trailing bits); Go also accepts non-zero trailing bits
//!   and ignores `\r`/`\n` inside base64, which makes one signature spellable in several ways;
//! - Ed25519 uses `verify_strict` (rejects small-order keys and `R`, non-canonical encodings);
//!   public keys that are not curve points or have small order are rejected when parsed;
//! - when a note carries several signature lines with the same key name and ID, every one of
//!   them must verify (Go checks the first and skips the rest);
//! - key names may not contain ASCII control characters (they could never appear in a note).
//!
//! Like Go, a note may carry at most [`MAX_SIGNATURES`] signature lines (the spec requires at
//! least 16 to be accepted), and signatures from keys we do not know are ignored.
//!
//! Why one file: keys, notes and signature lines are one small format whose parsing and verifying share the
//! same strictness rules and error type, and two fifths of the file are the tests pinned to Go's vectors.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Signature type byte of Ed25519 keys and signatures (signed-note "signature types").
pub const ALG_ED25519: u8 = 0x01;

/// Most signature lines a note may carry (Go's limit; the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Ed25519 signature length in bytes (after the 4-byte key ID in a signature line).
const ED25519_SIGNATURE_LEN: usize = 64;

/// Prefix of every signature line: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Prefix of a signer (private) key string, as in Go.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Everything that can be wrong with a key, a note or its signatures.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error(
        "invalid key name {name:?}: a key name must be non-empty and contain no '+', whitespace \
         or control characters"
    )]
    InvalidKeyName { name: String },
    #[error("malformed verifier key: {reason}")]
    MalformedVerifierKey { reason: &'static str },
    /// Never carries key material: the message only says which part is wrong.
    #[error("malformed signer (private) key: {reason}")]
    MalformedSignerKey { reason: &'static str },
    #[error("unsupported key algorithm 0x{alg:02x} (only Ed25519, 0x01, is supported)")]
    UnsupportedAlgorithm { alg: u8 },
    #[error(
        "key ID mismatch for key {name:?}: the key string says {declared:08x} but the key hashes \
         to {computed:08x}"
    )]
    KeyIdMismatch {
        name: String,
        declared: u32,
        computed: u32,
    },
    #[error("invalid Ed25519 public key for {name:?}: {reason}")]
    InvalidPublicKey { name: String, reason: &'static str },
    #[error("could not get random bytes from the operating system: {0}")]
    Randomness(String),
    #[error("note text must be non-empty and end with a newline")]
    TextMissingFinalNewline,
    #[error("note is not valid UTF-8 (first invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error(
        "note contains a carriage return (\\r) at byte {offset}: signed notes use bare \\n line \
         endings (was the file converted to CRLF?)"
    )]
    CarriageReturn { offset: usize },
    #[error("note contains control character 0x{byte:02x} at byte {offset}; only \\n is allowed")]
    ControlCharacter { offset: usize, byte: u8 },
    #[error("note has no blank line separating its text from its signature lines")]
    MissingSeparator,
    #[error("note has no signature lines after the blank line")]
    NoSignatures,
    #[error("note does not end with a newline after its last signature line")]
    UnterminatedSignature,
    #[error("signature line {line} of the note is malformed: {reason}")]
    MalformedSignatureLine { line: usize, reason: &'static str },
    #[error("note has more than {max} signature lines")]
    TooManySignatures { max: usize },
    #[error("note has no signature from key {name}+{key_id:08x}")]
    NoSignatureFromKey { name: String, key_id: u32 },
    #[error(
        "signature by key {name}+{key_id:08x} does not verify: the note text or the signature \
         was altered, or a different key with the same name and ID signed it"
    )]
    BadSignature { name: String, key_id: u32 },
    #[error("note has no verifiable signatures: none of its signatures is from a trusted key")]
    NoVerifiedSignature,
    #[error("ambiguous trusted keys: two different keys are named {name}+{key_id:08x}")]
    AmbiguousKey { name: String, key_id: u32 },
}

/// Whether `name` may be used as a key name: non-empty, no `+`, no Unicode white space (Go's
/// `unicode.IsSpace`, which is the same set as `char::is_whitespace`) and no ASCII control
/// characters.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c.is_ascii_control() && c != '\u{7f}')
}

/// The key ID of a key: the first four bytes, big-endian, of
/// `SHA-256(name || "\n" || encoded_key)`, where `encoded_key` starts with the algorithm byte.
pub fn key_id(name: &str, encoded_key: &[u8]) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update(encoded_key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
        })
    }
}

/// Parses the 8 hex digits of a key ID as written in key strings (either case, as Go accepts).
fn parse_key_id_hex(hex: &str) -> Option<u32> {
    if hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(hex, 16).ok()
    } else {
        None
    }
}

/// `0x01 || public key`, the encoding hashed into the key ID and written in key strings.
fn encoded_public_key(public: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = ALG_ED25519;
    out[1..].copy_from_slice(public);
    out
}

/// Best-effort wipe of secret bytes we held outside `SigningKey` (which zeroizes itself).
fn wipe(bytes: &mut [u8]) {
    bytes.iter_mut().for_each(|b| *b = 0);
    std::hint::black_box(bytes);
}

/// A named Ed25519 public key that notes are verified against.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Parses Go's verifier key format `<name>+<key ID hex8>+<base64(0x01 || public key)>`.
    /// Surrounding white space (such as the newline at the end of a `.pub` file) is ignored.
    pub fn parse(s: &str) -> Result<VerifierKey, NoteError> {
        let malformed = |reason| NoteError::MalformedVerifierKey { reason };
        let s = s.trim();
        let (name, rest) = s
            .split_once('+')
            .ok_or(malformed("expected <name>+<key ID>+<base64 key>"))?;
        let (hex, key64) = rest
            .split_once('+')
            .ok_or(malformed("expected <name>+<key ID>+<base64 key>"))?;
        check_name(name)?;
        let declared =
            parse_key_id_hex(hex).ok_or(malformed("the key ID is not 8 hexadecimal digits"))?;
        let encoded = STANDARD
            .decode(key64)
            .map_err(|_| malformed("the key is not valid standard padded base64"))?;
        // Go checks the ID over the encoded key before looking at the algorithm byte.
        let computed = key_id(name, &encoded);
        if computed != declared {
            return Err(NoteError::KeyIdMismatch {
                name: name.to_owned(),
                declared,
                computed,
            });
        }
        let (&alg, public) = encoded.split_first().ok_or(malformed("the key is empty"))?;
        if alg != ALG_ED25519 {
            return Err(NoteError::UnsupportedAlgorithm { alg });
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| malformed("an Ed25519 public key must be 32 bytes"))?;
        VerifierKey::from_public_key(name, public)
    }

    /// Builds the verifier key for an Ed25519 public key (Go's `NewEd25519VerifierKey`).
    pub fn from_public_key(name: &str, public: [u8; 32]) -> Result<VerifierKey, NoteError> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError::InvalidPublicKey {
            name: name.to_owned(),
            reason: "not a valid curve point",
        })?;
        if key.is_weak() {
            return Err(NoteError::InvalidPublicKey {
                name: name.to_owned(),
                reason: "small-order (weak) key",
            });
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, &encoded_public_key(&public)),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// `SHA256:` and the unpadded standard base64 of `SHA-256(0x01 || public key)`, for showing
    /// users which key they trust (same style as OpenSSH fingerprints).
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(encoded_public_key(&self.public_key_bytes()));
        format!("SHA256:{}", STANDARD_NO_PAD.encode(digest))
    }

    /// Checks one signature by this key over `text`.
    fn verifies(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; ED25519_SIGNATURE_LEN]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(text, &signature).is_ok()
    }

    fn matches(&self, signature: &NoteSignature) -> bool {
        signature.key_id == self.key_id && signature.name == self.name
    }
}

/// The verifier key string `<name>+<key ID hex8>+<base64(0x01 || public key)>`.
impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encoded = encoded_public_key(&self.public_key_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(encoded)
        )
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// A named Ed25519 private key that signs notes. `Debug` does not show the secret.
pub struct SignerKey {
    name: String,
    key: SigningKey,
    verifier: VerifierKey,
}

impl SignerKey {
    /// Generates a new key from 32 bytes of operating-system randomness.
    pub fn generate(name: &str) -> Result<SignerKey, NoteError> {
        check_name(name)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NoteError::Randomness(e.to_string()))?;
        let key = SignerKey::from_seed(name, &seed);
        wipe(&mut seed);
        key
    }

    /// Builds a signer from a 32-byte Ed25519 seed (the RFC 8032 private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<SignerKey, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let verifier = VerifierKey::from_public_key(name, key.verifying_key().to_bytes())?;
        Ok(SignerKey {
            name: name.to_owned(),
            key,
            verifier,
        })
    }

    /// Parses Go's signer key format
    /// `PRIVATE+KEY+<name>+<key ID hex8>+<base64(0x01 || seed)>`, checking that the key ID matches
    /// the public key derived from the seed. Surrounding white space is ignored. Errors never
    /// contain key material.
    pub fn parse(s: &str) -> Result<SignerKey, NoteError> {
        let malformed = |reason| NoteError::MalformedSignerKey { reason };
        let s = s.trim();
        let rest = s
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(malformed("does not start with PRIVATE+KEY+"))?;
        let (name, rest) = rest.split_once('+').ok_or(malformed(
            "expected PRIVATE+KEY+<name>+<key ID>+<base64 key>",
        ))?;
        let (hex, key64) = rest.split_once('+').ok_or(malformed(
            "expected PRIVATE+KEY+<name>+<key ID>+<base64 key>",
        ))?;
        check_name(name)?;
        let declared =
            parse_key_id_hex(hex).ok_or(malformed("the key ID is not 8 hexadecimal digits"))?;
        let mut encoded = STANDARD
            .decode(key64)
            .map_err(|_| malformed("the key is not valid standard padded base64"))?;
        let seed: Result<[u8; 32], NoteError> = match encoded.split_first() {
            None => Err(malformed("the key is empty")),
            Some((&alg, _)) if alg != ALG_ED25519 => Err(NoteError::UnsupportedAlgorithm { alg }),
            Some((_, seed)) => seed
                .try_into()
                .map_err(|_| malformed("an Ed25519 private key must be a 32-byte seed")),
        };
        wipe(&mut encoded);
        let mut seed = seed?;
        let key = SignerKey::from_seed(name, &seed);
        wipe(&mut seed);
        let key = key?;
        if key.verifier.key_id != declared {
            return Err(NoteError::KeyIdMismatch {
                name: name.to_owned(),
                declared,
                computed: key.verifier.key_id,
            });
        }
        Ok(key)
    }

    /// The private key string in Go's format, accepted by Go's `note.NewSigner`. Keep it secret.
    pub fn to_string_private(&self) -> String {
        let mut encoded = [0u8; 33];
        encoded[0] = ALG_ED25519;
        encoded[1..].copy_from_slice(self.key.as_bytes());
        let out = format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.verifier.key_id,
            STANDARD.encode(encoded)
        );
        wipe(&mut encoded);
        out
    }

    pub fn verifier(&self) -> VerifierKey {
        self.verifier.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.verifier.key_id
    }

    /// Signs `text` and returns the complete signed note: the text, a blank line and one
    /// signature line. Same output as Go's `note.Sign` for the same key and text (Ed25519 is
    /// deterministic). The text must be non-empty, end with `\n` and contain no control
    /// characters other than `\n`, so that the result parses again as a note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text_characters(text.as_bytes())?;
        if !text.ends_with('\n') {
            return Err(NoteError::TextMissingFinalNewline);
        }
        let line = self.signature_line(text);
        let mut note = String::with_capacity(text.len() + 1 + line.len());
        note.push_str(text);
        note.push('\n');
        note.push_str(&line);
        Ok(note)
    }

    /// `— <name> base64(key ID || signature)\n` for `text`.
    fn signature_line(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes()).to_bytes();
        let mut raw = Vec::with_capacity(4 + ED25519_SIGNATURE_LEN);
        raw.extend_from_slice(&self.verifier.key_id.to_be_bytes());
        raw.extend_from_slice(&signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.verifier.key_id))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// One signature line of a note, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes without the 4-byte key ID (64 bytes for Ed25519).
    pub signature: Vec<u8>,
}

/// A parsed signed note: its text (ending in `\n`, without the separating blank line) and its
/// signature lines in order. Parsing checks the syntax only; call [`Note::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// Rejects ASCII control characters other than `\n`. UTF-8 continuation and lead bytes are all
/// >= 0x80, so a byte scan finds exactly the control code points.
fn check_text_characters(bytes: &[u8]) -> Result<(), NoteError> {
    match bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        None => Ok(()),
        Some(offset) if bytes.get(offset) == Some(&b'\r') => {
            Err(NoteError::CarriageReturn { offset })
        }
        Some(offset) => Err(NoteError::ControlCharacter {
            offset,
            byte: bytes.get(offset).copied().unwrap_or_default(),
        }),
    }
}

impl Note {
    /// Parses a signed note strictly (Go's `note.Open` syntax rules): valid UTF-8, no control
    /// characters but `\n`, the text separated from the signatures by the last blank line, and
    /// 1 to [`MAX_SIGNATURES`] well-formed signature lines, each ending in `\n`.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        let message = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_text_characters(bytes)?;
        let split = message.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let (text, block) = message.split_at(split + 1);
        let block = block.strip_prefix('\n').unwrap_or(block);
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let block = block
            .strip_suffix('\n')
            .ok_or(NoteError::UnterminatedSignature)?;
        // Line numbers in errors count from the first line of the whole note.
        let first_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        for (index, line) in block.split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(parse_signature_line(line, first_line + index)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Verifies the note against one trusted key: it must carry at least one signature line with
    /// the key's name and key ID ([`NoteError::NoSignatureFromKey`] otherwise), and every such line
    /// must verify ([`NoteError::BadSignature`] otherwise). Lines from other keys are ignored.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let mut found = false;
        for signature in self.signatures.iter().filter(|s| key.matches(s)) {
            found = true;
            if !key.verifies(self.text.as_bytes(), &signature.signature) {
                return Err(NoteError::BadSignature {
                    name: key.name.clone(),
                    key_id: key.key_id,
                });
            }
        }
        if found {
            Ok(())
        } else {
            Err(NoteError::NoSignatureFromKey {
                name: key.name.clone(),
                key_id: key.key_id,
            })
        }
    }

    /// Verifies the note against a set of trusted keys, like Go's `note.Open` with a
    /// `VerifierList`: every signature from a trusted key must verify, signatures from other keys
    /// are ignored, and at least one must verify ([`NoteError::NoVerifiedSignature`] otherwise).
    /// Returns the trusted keys that signed, in signature-line order.
    pub fn verify_any<'k>(
        &self,
        keys: &'k [VerifierKey],
    ) -> Result<Vec<&'k VerifierKey>, NoteError> {
        let mut verified: Vec<&VerifierKey> = Vec::new();
        for signature in &self.signatures {
            let mut candidates = keys.iter().filter(|k| k.matches(signature));
            let Some(key) = candidates.next() else {
                continue;
            };
            if candidates.any(|other| other != key) {
                return Err(NoteError::AmbiguousKey {
                    name: key.name.clone(),
                    key_id: key.key_id,
                });
            }
            if !key.verifies(self.text.as_bytes(), &signature.signature) {
                return Err(NoteError::BadSignature {
                    name: key.name.clone(),
                    key_id: key.key_id,
                });
            }
            if !verified.contains(&key) {
                verified.push(key);
            }
        }
        if verified.is_empty() {
            Err(NoteError::NoVerifiedSignature)
        } else {
            Ok(verified)
        }
    }

    /// The distinct (key name, key ID) pairs that signature lines claim, in order of first
    /// appearance. Claims only: nothing here is verified.
    pub fn signers(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = Vec::new();
        for s in &self.signatures {
            let signer = (s.name.as_str(), s.key_id);
            if !out.contains(&signer) {
                out.push(signer);
            }
        }
        out
    }
}

/// The encoded note: text, blank line, signature lines. For a parsed note this reproduces the
/// input bytes exactly (parsing accepts only canonical base64).
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            let mut raw = Vec::with_capacity(4 + s.signature.len());
            raw.extend_from_slice(&s.key_id.to_be_bytes());
            raw.extend_from_slice(&s.signature);
            writeln!(f, "{SIGNATURE_PREFIX}{} {}", s.name, STANDARD.encode(raw))?;
        }
        Ok(())
    }
}

fn parse_signature_line(line: &str, line_number: usize) -> Result<NoteSignature, NoteError> {
    let malformed = |reason| NoteError::MalformedSignatureLine {
        line: line_number,
        reason,
    };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed(
        "does not start with an em dash (U+2014) and a space",
    ))?;
    let (name, sig64) = rest.split_once(' ').ok_or(malformed(
        "expected a key name, a space and a base64 signature",
    ))?;
    if !is_valid_key_name(name) {
        return Err(malformed("invalid key name"));
    }
    if sig64.is_empty() {
        return Err(malformed("the signature is empty"));
    }
    let raw = STANDARD
        .decode(sig64)
        .map_err(|_| malformed("the signature is not canonical standard padded base64"))?;
    match raw.split_first_chunk::<4>() {
        Some((id, signature)) if !signature.is_empty() => Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes(*id),
            signature: signature.to_vec(),
        }),
        _ => Err(malformed(
            "the signature is shorter than 5 bytes (4-byte key ID and signature)",
        )),
    }
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

    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn peter() -> SignerKey {
        SignerKey::parse(PETER_SKEY).unwrap()
    }

    fn golden() -> String {
        format!("{TEXT}\n{PETER_SIG}")
    }

    #[test]
    fn signing_reproduces_go_golden_note() {
        assert_eq!(peter().sign(TEXT).unwrap(), golden());
    }

    #[test]
    fn key_strings_round_trip_in_go_format() {
        let key = peter();
        assert_eq!(key.to_string_private(), PETER_SKEY);
        assert_eq!(key.verifier().to_string(), PETER_VKEY);
        assert_eq!(VerifierKey::parse(PETER_VKEY).unwrap(), key.verifier());
        assert_eq!(key.key_id(), 0xc74f20a3);
        assert_eq!(key.name(), "PeterNeumann");
    }

    #[test]
    fn verifier_key_parse_trims_surrounding_whitespace() {
        let key = VerifierKey::parse(&format!("  {PETER_VKEY}\n")).unwrap();
        assert_eq!(key.to_string(), PETER_VKEY);
        assert!(SignerKey::parse(&format!("{PETER_SKEY}\r\n")).is_ok());
    }

    #[test]
    fn uppercase_key_id_hex_is_accepted_like_go() {
        let upper = PETER_VKEY.replace("c74f20a3", "C74F20A3");
        assert_eq!(VerifierKey::parse(&upper).unwrap().key_id(), 0xc74f20a3);
    }

    #[test]
    fn key_id_is_sha256_of_name_newline_alg_and_key() {
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        let mut input = b"PeterNeumann\n\x01".to_vec();
        input.extend_from_slice(&key.public_key_bytes());
        let digest = Sha256::digest(&input);
        assert_eq!(key.key_id().to_be_bytes(), digest[..4]);
    }

    #[test]
    fn fingerprint_hashes_alg_byte_and_public_key() {
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        let digest = Sha256::digest(encoded_public_key(&key.public_key_bytes()));
        let fp = key.fingerprint();
        assert_eq!(fp, format!("SHA256:{}", STANDARD_NO_PAD.encode(digest)));
        assert!(!fp.ends_with('='));
        assert_eq!(fp.len(), "SHA256:".len() + 43);
    }

    #[test]
    fn every_substring_and_byte_bump_of_the_verifier_key_is_rejected() {
        // The manglings of Go's TestNewVerifier.
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let s = String::from_utf8_lossy(&b[i..j]);
                    assert!(VerifierKey::parse(&s).is_err(), "accepted {s:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            let s = String::from_utf8_lossy(&m);
            assert!(VerifierKey::parse(&s).is_err(), "accepted {s:?}");
        }
    }

    #[test]
    fn every_substring_and_byte_bump_of_the_signer_key_is_rejected() {
        let b = PETER_SKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    let s = String::from_utf8_lossy(&b[i..j]);
                    assert!(SignerKey::parse(&s).is_err(), "accepted {s:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            let s = String::from_utf8_lossy(&m);
            assert!(SignerKey::parse(&s).is_err(), "accepted {s:?}");
        }
    }

    #[test]
    fn wrong_length_and_unknown_algorithm_keys_are_rejected_even_with_matching_ids() {
        // From Go's TestNewVerifier: key IDs adjusted so only the length / algorithm is wrong.
        let long = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
        assert_err!(
            VerifierKey::parse(long),
            NoteError::MalformedVerifierKey { .. }
        );
        let alg = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        assert_err!(
            VerifierKey::parse(alg),
            NoteError::UnsupportedAlgorithm { alg: 0x65 }
        );
    }

    #[test]
    fn key_id_mismatch_is_reported_with_both_ids() {
        let wrong = PETER_VKEY.replace("c74f20a3", "c74f20a4");
        match VerifierKey::parse(&wrong) {
            Err(NoteError::KeyIdMismatch {
                declared, computed, ..
            }) => {
                assert_eq!(declared, 0xc74f20a4);
                assert_eq!(computed, 0xc74f20a3);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn small_order_public_key_is_rejected() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_err!(
            VerifierKey::from_public_key("weak", identity),
            NoteError::InvalidPublicKey { .. }
        );
    }

    #[test]
    fn signer_key_errors_do_not_contain_the_secret() {
        let bad = PETER_SKEY.replace("c74f20a3", "00000000");
        let message = SignerKey::parse(&bad).unwrap_err().to_string();
        assert!(!message.contains("AYEKFALV"), "{message}");
        let debug = format!("{:?}", peter());
        assert!(
            !debug.contains("AYEKFALV") && debug.contains("redacted"),
            "{debug}"
        );
    }

    #[test]
    fn key_names_follow_go_rules() {
        for good in [
            "a",
            "example.com/log42",
            "PeterNeumann",
            "ünïcödé",
            "a/b-c_d.e",
        ] {
            assert!(is_valid_key_name(good), "{good:?}");
        }
        for bad in [
            "",
            "a+b",
            "a b",
            "a\tb",
            "a\nb",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\u{3000}b",
            "a\u{85}b",
            "a\u{1}b",
        ] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
            assert_err!(SignerKey::generate(bad), NoteError::InvalidKeyName { .. });
        }
    }

    #[test]
    fn generated_keys_sign_and_verify_and_survive_their_string_forms() {
        let key = SignerKey::generate("example.com/auditlens").unwrap();
        let again = SignerKey::parse(&key.to_string_private()).unwrap();
        let verifier = VerifierKey::parse(&key.verifier().to_string()).unwrap();
        let signed = again.sign("hello\n").unwrap();
        let note = Note::parse(signed.as_bytes()).unwrap();
        note.verify(&verifier).unwrap();
        assert_eq!(note.text, "hello\n");
        assert_ne!(
            SignerKey::generate("x").unwrap().verifier(),
            SignerKey::generate("x").unwrap().verifier()
        );
    }

    #[test]
    fn sign_rejects_text_that_would_not_parse_back() {
        let key = peter();
        assert_err!(key.sign(""), NoteError::TextMissingFinalNewline);
        assert_err!(key.sign("abc"), NoteError::TextMissingFinalNewline);
        assert_err!(key.sign("a\r\n"), NoteError::CarriageReturn { offset: 1 });
        assert_err!(
            key.sign("a\u{1}\n"),
            NoteError::ControlCharacter { offset: 1, byte: 1 }
        );
    }

    #[test]
    fn texts_with_blank_lines_and_signature_like_lines_round_trip() {
        let key = peter();
        for text in [
            "\n",
            "a\n\n",
            "a\n\nb\n",
            "a\n\n\u{2014} x eQ==\n",
            "\n\n\n",
        ] {
            let signed = key.sign(text).unwrap();
            let note = Note::parse(signed.as_bytes()).unwrap();
            assert_eq!(note.text, text);
            note.verify(&key.verifier()).unwrap();
            assert_eq!(note.to_string(), signed);
        }
    }

    #[test]
    fn parsed_note_re_encodes_to_the_same_bytes() {
        let note = Note::parse(golden().as_bytes()).unwrap();
        assert_eq!(note.to_string(), golden());
        assert_eq!(note.signers(), vec![("PeterNeumann", 0xc74f20a3)]);
        assert_eq!(note.signatures[0].signature.len(), 64);
    }

    #[test]
    fn tampered_text_signature_key_id_or_name_is_rejected() {
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        let good = Note::parse(golden().as_bytes()).unwrap();
        good.verify(&key).unwrap();

        let mut text = good.clone();
        text.text = text.text.replacen("answer", "Answer", 1);
        assert_err!(text.verify(&key), NoteError::BadSignature { .. });

        let mut sig = good.clone();
        sig.signatures[0].signature[10] ^= 1;
        assert_err!(sig.verify(&key), NoteError::BadSignature { .. });

        let mut id = good.clone();
        id.signatures[0].key_id ^= 1;
        assert_err!(id.verify(&key), NoteError::NoSignatureFromKey { .. });

        let mut name = good.clone();
        name.signatures[0].name = "PeterNeuman".into();
        assert_err!(name.verify(&key), NoteError::NoSignatureFromKey { .. });

        let mut short = good;
        short.signatures[0].signature.pop();
        assert_err!(short.verify(&key), NoteError::BadSignature { .. });
    }

    #[test]
    fn a_bad_duplicate_signature_from_the_trusted_key_rejects_the_note() {
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        let mut note = Note::parse(golden().as_bytes()).unwrap();
        let mut bad = note.signatures[0].clone();
        bad.signature[0] ^= 1;
        note.signatures.push(bad);
        assert_err!(note.verify(&key), NoteError::BadSignature { .. });
        assert_err!(
            note.verify_any(std::slice::from_ref(&key)),
            NoteError::BadSignature { .. }
        );
    }

    #[test]
    fn verify_any_reports_ambiguous_trusted_keys_only_when_used() {
        let peter = VerifierKey::parse(PETER_VKEY).unwrap();
        let note = Note::parse(golden().as_bytes()).unwrap();
        // Same key twice is fine; it is reported once.
        let twice = [peter.clone(), peter.clone()];
        assert_eq!(note.verify_any(&twice).unwrap(), vec![&peter]);
        // A different key with the same name and ID cannot be built from real keys without a
        // collision, so build one by hand.
        let other = SignerKey::generate("PeterNeumann").unwrap().verifier();
        let forged = VerifierKey {
            key_id: peter.key_id,
            ..other
        };
        assert_err!(
            note.verify_any(&[peter.clone(), forged.clone()]),
            NoteError::AmbiguousKey { .. }
        );
        let unused = VerifierKey {
            name: "Someone".into(),
            ..forged
        };
        assert!(note.verify_any(&[unused.clone(), unused, peter]).is_ok());
    }

    #[test]
    fn malformed_notes_give_precise_errors() {
        type Case = (Vec<u8>, fn(&NoteError) -> bool);
        let cases: Vec<Case> = vec![
            (b"".to_vec(), |e| matches!(e, NoteError::MissingSeparator)),
            (TEXT.as_bytes().to_vec(), |e| {
                matches!(e, NoteError::MissingSeparator)
            }),
            (format!("{TEXT}\n").into_bytes(), |e| {
                matches!(e, NoteError::NoSignatures)
            }),
            (golden().trim_end().as_bytes().to_vec(), |e| {
                matches!(e, NoteError::UnterminatedSignature)
            }),
            (golden().replace('\n', "\r\n").into_bytes(), |e| {
                matches!(e, NoteError::CarriageReturn { offset: 56 })
            }),
            ([b"\xff".as_slice(), golden().as_bytes()].concat(), |e| {
                matches!(e, NoteError::NotUtf8 { offset: 0 })
            }),
            (format!("{TEXT}\n- PeterNeumann eQ==\n").into_bytes(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { line: 4, .. })
            }),
            (
                format!("{TEXT}\n\u{2014} Peter Neumann AAAAAAA=\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (
                format!("{TEXT}\n\u{2014} a+b AAAAAAA=\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (
                format!("{TEXT}\n\u{2014} PeterNeumann\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (
                format!("{TEXT}\n\u{2014} PeterNeumann \n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (format!("{TEXT}\n\u{2014}  AAAAAAA=\n").into_bytes(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { .. })
            }),
            // 4 bytes: a key ID and no signature.
            (
                format!("{TEXT}\n\u{2014} PeterNeumann AAAAAA==\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            // Missing padding, non-zero trailing bits, embedded space.
            (
                format!("{TEXT}\n\u{2014} PeterNeumann AAAAAAA\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (
                format!("{TEXT}\n\u{2014} PeterNeumann AAAAAAB=\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (
                format!("{TEXT}\n\u{2014} PeterNeumann AAAA AAA=\n").into_bytes(),
                |e| matches!(e, NoteError::MalformedSignatureLine { .. }),
            ),
            (format!("{}Trailing line\n", golden()).into_bytes(), |e| {
                matches!(e, NoteError::MalformedSignatureLine { line: 5, .. })
            }),
        ];
        for (input, expected) in cases {
            let err = Note::parse(&input).unwrap_err();
            assert!(
                expected(&err),
                "{:?}: {err:?}",
                String::from_utf8_lossy(&input)
            );
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn huge_base64_signature_is_parsed_but_never_verifies() {
        let huge = STANDARD.encode(vec![0xc7u8; 3 * 100_000]);
        let input = format!("{TEXT}\n\u{2014} PeterNeumann {huge}\n");
        let note = Note::parse(input.as_bytes()).unwrap();
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        assert_err!(note.verify(&key), NoteError::NoSignatureFromKey { .. });
        let mut raw = 0xc74f20a3u32.to_be_bytes().to_vec();
        raw.resize(300_000, 0xc7);
        let id = format!("{TEXT}\n\u{2014} PeterNeumann {}\n", STANDARD.encode(raw));
        let note = Note::parse(id.as_bytes()).unwrap();
        assert_err!(note.verify(&key), NoteError::BadSignature { .. });
    }

    #[test]
    fn one_hundred_signatures_are_accepted_and_one_hundred_and_one_are_not() {
        let key = VerifierKey::parse(PETER_VKEY).unwrap();
        let hundred = format!("{TEXT}\n{}", PETER_SIG.repeat(100));
        Note::parse(hundred.as_bytes())
            .unwrap()
            .verify(&key)
            .unwrap();
        let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
        assert_err!(
            Note::parse(too_many.as_bytes()),
            NoteError::TooManySignatures { max: 100 }
        );
    }
}
