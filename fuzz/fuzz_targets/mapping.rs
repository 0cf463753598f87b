//! A producer's mapping file (sealed into its archive) and an event, both from anyone: the mapping is refused
//! with an error or compiled, and then normalizes the event without a panic. Input: the mapping's bytes, a NUL,
//! the event's bytes.
#![no_main]
use auditlens::sources::{Normalizer, SourceKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let (mapping, event) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &b"{}"[..]),
    };
    if let Ok(normalizer) = Normalizer::new(SourceKind::Mapping, Some(mapping)) {
        let _ = normalizer.normalize_bytes(event);
        // The borrowed reading (the store's) gives what a `Value` gives.
        let by_value = auditlens::sources::parse_event(event).map(|v| normalizer.normalize(&v));
        assert_eq!(normalizer.normalize_event(event), by_value);
        let _ = normalizer.source_name();
        let _ = normalizer.time_rule();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(event) {
            let _ = normalizer.event_time(&v);
        }
        let _ = normalizer.why_untimed(event);
    }
});
