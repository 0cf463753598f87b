//! Conformance of `note` and `checkpoint` against public vectors (C2SP spec examples, Go's
//! `sumdb/note` tests, a real sum.golang.org checkpoint; see tests/fixtures/vectors/note/SOURCE.txt),
//! plus tampering and mutation properties of signed notes.

use auditlens::checkpoint::Checkpoint;
use auditlens::note::{Note, NoteError, SignerKey, VerifierKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

/// Asserts that `$result` is an `Err` matching `$pattern`, showing what it was otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {other:?}", stringify!($pattern)),
        }
    };
}

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vectors/note/vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("vectors.json is readable");
    serde_json::from_str(&text).expect("vectors.json is valid JSON")
}

fn vector(id: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn str_field<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string"))
}

/// The note bytes; vectors flagged `note_is_latin1_escape` stand for a raw 0xFF byte as U+00FF.
fn note_bytes(v: &Value) -> Vec<u8> {
    let note = str_field(v, "note");
    if v["note_is_latin1_escape"] == true {
        let mut out = Vec::new();
        for c in note.chars() {
            if c == '\u{ff}' {
                out.push(0xff);
            } else {
                out.extend_from_slice(c.to_string().as_bytes());
            }
        }
        out
    } else {
        note.as_bytes().to_vec()
    }
}

fn keys(v: &Value) -> Vec<VerifierKey> {
    v["verifier_keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .map(|k| VerifierKey::parse(k.as_str().unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Checks one vector and returns what it was checked as, so the caller can see all were covered.
fn check_vector(v: &Value) -> &'static str {
    let id = str_field(v, "id");
    let expect = str_field(v, "expect");
    let bytes = note_bytes(v);
    let keys = keys(v);
    for (key, text) in keys
        .iter()
        .zip(v["verifier_keys"].as_array().into_iter().flatten())
    {
        assert_eq!(
            key.to_string(),
            text.as_str().unwrap(),
            "{id}: key re-encodes"
        );
    }

    if id == "go-tlog-tree-format" {
        let cp = Checkpoint::parse(str_field(v, "note")).unwrap();
        assert_eq!(cp.origin, "go.sum database tree");
        assert_eq!(cp.size, 123_456_789_012);
        let leaf: [u8; 32] = Sha256::digest(b"\x00hello world").into();
        assert_eq!(cp.root, leaf);
        assert_eq!(cp.to_text(), str_field(v, "note"));
        return "checkpoint body";
    }

    if let Some(rest) = expect.strip_prefix("verified: ") {
        let names: Vec<&str> = rest.split(';').next().unwrap().split(", ").collect();
        let note = Note::parse(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            note.to_string().as_bytes(),
            bytes,
            "{id}: re-encodes exactly"
        );
        let verified = note
            .verify_any(&keys)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let verified: Vec<&str> = verified.iter().map(|k| k.name()).collect();
        let names: Vec<&str> = names
            .iter()
            .map(|n| n.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(verified, names, "{id}");
        for key in &keys {
            note.verify(key).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        if let Some(skey) = v["signer_key_TEST_ONLY"].as_str() {
            let signer = SignerKey::parse(skey).unwrap();
            assert_eq!(signer.to_string_private(), skey);
            assert_eq!(signer.verifier(), keys[0]);
            let signed = signer.sign(&note.text).unwrap();
            assert_eq!(
                signed.as_bytes(),
                bytes,
                "{id}: Sign must match Go byte for byte"
            );
            return "verified and re-signed";
        }
        return "verified";
    }

    if expect.starts_with("reject: ") {
        let result = Note::parse(&bytes).and_then(|n| n.verify_any(&keys).map(|_| ()));
        let err = result.expect_err(id);
        let ok = match id {
            "go-open-none-known" => matches!(err, NoteError::NoVerifiedSignature),
            "go-open-bad-sig-known-key" => matches!(err, NoteError::BadSignature { .. }),
            "go-open-too-many-sigs" => matches!(err, NoteError::TooManySignatures { max: 100 }),
            _ if id.starts_with("go-malformed-") => Note::parse(&bytes).is_err(),
            _ => panic!("{id}: no error class known for this reject vector"),
        };
        assert!(ok, "{id}: unexpected error {err:?}");
        // With a single key the answer is a rejection too.
        for key in &keys {
            assert!(
                Note::parse(&bytes).and_then(|n| n.verify(key)).is_err(),
                "{id}"
            );
        }
        return "rejected";
    }

    if id == "c2sp-checkpoint-example-as-printed" {
        let note = Note::parse(&bytes).unwrap();
        assert!(Checkpoint::parse(&note.text).is_ok());
        assert_err!(note.verify_any(&keys), NoteError::NoVerifiedSignature);
        for key in &keys {
            assert_err!(note.verify(key), NoteError::NoSignatureFromKey { .. });
        }
        return "rejected (no key)";
    }

    panic!("{id}: vector expectation {expect:?} is not handled by this test");
}

#[test]
fn every_vector_gives_its_expected_answer() {
    let all = vectors();
    assert_eq!(all.len(), 17, "update this test when vectors are added");
    let mut summary = Vec::new();
    for v in &all {
        summary.push((str_field(v, "id").to_owned(), check_vector(v)));
    }
    let count = |what| summary.iter().filter(|(_, k)| *k == what).count();
    assert_eq!(count("verified and re-signed"), 1, "{summary:?}");
    assert_eq!(count("verified"), 4, "{summary:?}");
    assert_eq!(count("rejected"), 10, "{summary:?}");
    assert_eq!(count("rejected (no key)"), 1, "{summary:?}");
    assert_eq!(count("checkpoint body"), 1, "{summary:?}");
}

#[test]
fn real_sumdb_checkpoint_verifies_and_parses() {
    let v = vector("sumdb-real-checkpoint-20852163");
    let key = VerifierKey::parse(SUMDB_VKEY).unwrap();
    assert_eq!(key.key_id(), 0x033de0ae);
    let note = Note::parse(&note_bytes(&v)).unwrap();
    note.verify(&key).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 20_852_163);
}

#[test]
fn spec_checkpoint_with_substituted_origin_does_not_verify_under_sumdb_key() {
    // The spec's example carries sum.golang.org's real signature over a different origin. Claim
    // it is from sum.golang.org (right name and ID): the signature must then fail, not pass.
    let v = vector("c2sp-checkpoint-example-as-printed");
    let printed = String::from_utf8(note_bytes(&v)).unwrap();
    let claimed = printed.replace(
        "\u{2014} example.com/behind-the-sofa ",
        "\u{2014} sum.golang.org ",
    );
    let note = Note::parse(claimed.as_bytes()).unwrap();
    let key = VerifierKey::parse(SUMDB_VKEY).unwrap();
    assert_err!(note.verify(&key), NoteError::BadSignature { .. });
    // Restoring the origin line makes the very same signature line verify.
    let restored = claimed.replace("example.com/behind-the-sofa\n", "go.sum database tree\n");
    Note::parse(restored.as_bytes())
        .unwrap()
        .verify(&key)
        .unwrap();
}

#[test]
fn one_of_two_signers_verifies_and_the_unknown_one_is_ignored() {
    let v = vector("go-open-one-of-two");
    let note = Note::parse(&note_bytes(&v)).unwrap();
    assert_eq!(
        note.signers(),
        vec![("PeterNeumann", 0xc74f20a3), ("EnochRoot", 0xaf0cfe78)]
    );
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    note.verify(&peter).unwrap();
    let enoch =
        VerifierKey::parse("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")
            .unwrap();
    note.verify(&enoch).unwrap();
}

fn golden() -> String {
    str_field(&vector("go-sign-golden"), "note").to_owned()
}

fn verify_bytes(bytes: &[u8]) -> Result<(), NoteError> {
    let key = VerifierKey::parse(PETER_VKEY).unwrap();
    Note::parse(bytes)?.verify(&key)
}

#[test]
fn one_changed_byte_of_text_signature_key_id_or_name_is_rejected() {
    let good = golden();
    verify_bytes(good.as_bytes()).unwrap();
    let sig_start = good.rfind("PeterNeumann ").unwrap() + "PeterNeumann ".len();

    let text = good.replacen("answer", "anSwer", 1);
    assert_err!(
        verify_bytes(text.as_bytes()),
        NoteError::BadSignature { .. }
    );

    // Base64 character 20 is well inside the Ed25519 signature (the key ID is characters 0-5).
    let mut signature = good.clone().into_bytes();
    signature[sig_start + 20] = if signature[sig_start + 20] == b'A' {
        b'B'
    } else {
        b'A'
    };
    assert_err!(verify_bytes(&signature), NoteError::BadSignature { .. });

    let mut key_id = good.clone().into_bytes();
    key_id[sig_start] = b'y';
    assert_err!(verify_bytes(&key_id), NoteError::NoSignatureFromKey { .. });

    let name = good.replace("\u{2014} PeterNeumann", "\u{2014} PeterNeumanm");
    assert_err!(
        verify_bytes(name.as_bytes()),
        NoteError::NoSignatureFromKey { .. }
    );
}

#[test]
fn signed_notes_round_trip_through_key_strings() {
    let signer = SignerKey::generate("auditlens.example/archive").unwrap();
    let reloaded = SignerKey::parse(&signer.to_string_private()).unwrap();
    let verifier = VerifierKey::parse(&format!("{}\n", signer.verifier())).unwrap();
    let cp = Checkpoint {
        origin: "auditlens.example/archive".into(),
        size: 42,
        root: [7; 32],
        extensions: vec![],
    };
    let signed = reloaded.sign(&cp.to_text()).unwrap();
    let note = Note::parse(signed.as_bytes()).unwrap();
    note.verify(&verifier).unwrap();
    assert_eq!(Checkpoint::parse(&note.text).unwrap(), cp);
    assert_eq!(note.to_string(), signed);
    // A different key with the same name has another key ID: the note is not from it.
    let other = SignerKey::generate("auditlens.example/archive").unwrap();
    assert_err!(
        note.verify(&other.verifier()),
        NoteError::NoSignatureFromKey { .. }
    );
}

#[test]
fn malformed_key_strings_are_rejected_without_panicking() {
    let long_b64 = STANDARD.encode(vec![1u8; 100_000]);
    for bad in [
        "",
        "\n",
        "+",
        "++",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann++c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+-74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\nX",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
        PETER_SKEY,
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "accepted {bad:?}");
        assert!(
            SignerKey::parse(&format!("PRIVATE+KEY+{bad}")).is_err(),
            "accepted {bad:?}"
        );
    }
    assert!(VerifierKey::parse(&format!("PeterNeumann+c74f20a3+{long_b64}")).is_err());
    assert!(SignerKey::parse(&format!("PRIVATE+KEY+PeterNeumann+c74f20a3+{long_b64}")).is_err());
    assert!(SignerKey::parse(PETER_VKEY).is_err());
    assert!(SignerKey::parse(&PETER_SKEY.replace("PRIVATE+KEY", "private+key")).is_err());
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::FlipBit(i, bit)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match *m {
        Mutation::Replace(i, b) => bytes[i % len] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
        Mutation::Delete(i) => {
            bytes.remove(i % len);
        }
        Mutation::FlipBit(i, bit) => bytes[i % len] ^= 1 << bit,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn mutated_signed_notes_never_verify_unless_unchanged(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let original = golden().into_bytes();
        let mut bytes = original.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let verified = verify_bytes(&bytes).is_ok();
        prop_assert_eq!(verified, bytes == original);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(note) = Note::parse(&bytes) {
            let encoded = note.to_string();
            prop_assert_eq!(encoded.as_bytes(), bytes.as_slice());
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_valid_text_signs_and_verifies(text in "[^\\x00-\\x09\\x0b-\\x1f]{0,60}(\n[^\\x00-\\x09\\x0b-\\x1f]{0,20}){0,3}\n") {
        let signer = SignerKey::parse(PETER_SKEY).unwrap();
        let signed = signer.sign(&text).unwrap();
        let note = Note::parse(signed.as_bytes()).unwrap();
        prop_assert_eq!(&note.text, &text);
        prop_assert!(note.verify(&signer.verifier()).is_ok());
    }
}
