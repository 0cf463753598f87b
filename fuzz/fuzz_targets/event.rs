//! An event's bytes from anyone: every source's normalizer and the OCSF mapping read them without panicking, and
//! the OCSF row they make is appended to Arrow columns. The event read into a borrowed `Json` (what the store
//! uses) must give exactly what a `serde_json::Value` gives: the fields, whether it parses and why not, and the
//! OCSF mapping.
#![no_main]
use auditlens::ocsf::columns::{ArchiveColumns, Provenance, RowsBuilder};
use auditlens::ocsf::map::{Fields, map_raw, map_read};
use auditlens::sources::{Normalizer, SourceKind, parse_event, read_event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let archive = ArchiveColumns {
        root_hex: "00".repeat(32),
        checkpoint_sha256_hex: "00".repeat(32),
        signer_fingerprint: "fuzz".into(),
        normalization: "fuzz".into(),
        verification: "verified",
    };
    let raw = String::from_utf8_lossy(bytes);
    let mut rows = RowsBuilder::new();
    let value = parse_event(bytes);
    let json = read_event(bytes);
    // The reading that builds nothing ends as the `Value` reading does, word for word.
    assert_eq!(
        auditlens::json::value_syntax(bytes).map_err(|e| e.to_string()),
        serde_json::from_slice::<serde_json::Value>(bytes)
            .map(|v| v.is_object())
            .map_err(|e| e.to_string())
    );
    for kind in SourceKind::ALL {
        let normalizer = Normalizer::builtin(kind);
        let n = normalizer.normalize_bytes(bytes);
        for rules in [normalizer.clone(), normalizer.clone().at_version(1)] {
            let by_value = value
                .as_ref()
                .map(|v| rules.normalize(v))
                .map_err(Clone::clone);
            assert_eq!(rules.normalize_event(bytes), by_value);
            assert_eq!(
                json.as_ref()
                    .map(|j| rules.normalize(j))
                    .map_err(Clone::clone),
                by_value
            );
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let _ = normalizer.event_time(&v);
        }
        let _ = normalizer.why_untimed(bytes);
        let fields = Fields {
            ts: n.ts,
            actor: n.actor.as_deref(),
            action: n.action.as_deref(),
            resource: n.resource.as_deref(),
            outcome: n.outcome.as_deref(),
            ip: n.ip.as_deref(),
            agent: n.agent.as_deref(),
            privilege: n.privilege.as_deref(),
        };
        let event = map_raw(kind, &raw, &fields);
        if let (Ok(text), Ok(json)) = (std::str::from_utf8(bytes), &json) {
            let read = map_read(kind, text, Some(json), &fields);
            assert_eq!(
                format!("{read:?}"),
                format!("{:?}", map_raw(kind, text, &fields))
            );
        }
        let _ = event.unmapped_text(&raw).count();
        let p = Provenance {
            time_ms: n.ts.map_or(0, |t| t.div_euclid(1000)),
            time_known: n.ts.is_some(),
            raw: &raw,
            event_id: "fuzz@1#0",
            origin: "fuzz",
            sequence: 1,
            index: 0,
            leaf_hex: "00",
            archive: &archive,
            source: Some(kind.as_str()),
            category: n.category.as_deref(),
            outcome: n.outcome.as_deref(),
        };
        rows.append(&event, &p).unwrap();
    }
    rows.finish().unwrap();
});
