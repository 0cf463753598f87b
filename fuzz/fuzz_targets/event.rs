//! An event's bytes from anyone: every source's normalizer and the OCSF mapping read them without panicking, and
//! the OCSF row they make is appended to Arrow columns.
#![no_main]
use auditlens::ocsf::columns::{ArchiveColumns, Provenance, RowsBuilder};
use auditlens::ocsf::map::{Fields, map_raw};
use auditlens::sources::{Normalizer, SourceKind};
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
    for kind in SourceKind::ALL {
        let normalizer = Normalizer::builtin(kind);
        let n = normalizer.normalize_bytes(bytes);
        let _ = normalizer.normalize_event(bytes);
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let _ = normalizer.event_time(&v);
            let _ = normalizer.why_untimed(&v);
        }
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
