//! Signed notes, checkpoints, keys and times from anyone: parsing never panics.
#![no_main]
use auditlens::checkpoint::Checkpoint;
use auditlens::note::{Note, SignerKey, VerifierKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(note) = Note::parse(bytes) {
        let _ = note.signers();
        let key = SignerKey::from_seed("fuzz", &[7; 32]).unwrap().verifier();
        let _ = note.verify(&key);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Checkpoint::parse(text).map(|c| c.to_text());
        let _ = VerifierKey::parse(text).map(|k| k.fingerprint());
        let _ = SignerKey::parse(text);
        let _ = auditlens::time::parse_rfc3339(text);
        let _ = auditlens::time::parse_rfc3339_or_space(text);
    }
});
