//! One stored event against its own bytes: the leaf hash of the bytes, and the normalized fields, time and parse
//! error the bytes give under the archive's rules. `check` runs it over every event; the app over the rows it is
//! about to show as verified ([`crate::store::confirm`]).

use crate::json::Json;
use crate::merkle::{self, Hash, hex};
use crate::sources::{Normalized, Normalizer, ParseError};

/// The columns [`StoredEvent::read`] reads, in its order.
pub(crate) const STORED_EVENT_COLUMNS: &str = "leaf, raw, ts, id, parse_error, source, origin, actor, action, \
     resource, outcome, ip, agent, env, stage, category, privilege";

/// The normalized columns, in the order of [`STORED_EVENT_COLUMNS`] after `parse_error`.
const FIELD_NAMES: [&str; 12] = [
    "source",
    "origin",
    "actor",
    "action",
    "resource",
    "outcome",
    "ip",
    "agent",
    "env",
    "stage",
    "category",
    "privilege",
];

/// One event's row as stored.
pub(crate) struct StoredEvent {
    pub leaf: Vec<u8>,
    pub raw: Vec<u8>,
    pub ts: Option<i64>,
    pub id: i64,
    pub parse_error: Option<String>,
    fields: [Option<String>; 12],
}

/// What an event's bytes give, and where its row differs from it.
pub(crate) struct Derived {
    pub leaf: Hash,
    /// Set when the bytes do not hash to the stored leaf.
    pub leaf_finding: Option<String>,
    /// The normalized fields, or the parser's reason when the bytes do not parse.
    pub normalized: Result<Normalized, String>,
    /// Each other difference, as `check` words it (empty when the row is the bytes' own).
    pub findings: Vec<String>,
}

impl StoredEvent {
    /// Reads [`STORED_EVENT_COLUMNS`] from column `first` on.
    pub(crate) fn read(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<StoredEvent> {
        let raw = match r.get_ref(first + 1)? {
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t.to_vec(),
            _ => Vec::new(),
        };
        let mut fields: [Option<String>; 12] = Default::default();
        for (i, f) in fields.iter_mut().enumerate() {
            *f = r.get(first + 5 + i)?;
        }
        Ok(StoredEvent {
            leaf: r.get(first)?,
            raw,
            ts: r.get(first + 2)?,
            id: r.get(first + 3)?,
            parse_error: r.get(first + 4)?,
            fields,
        })
    }

    /// The event's bytes hashed and normalized with `normalizer` (events of `origin`, stored with `source_name`),
    /// against this row: the leaf, the parse error, every normalized column, the time and the time-ordered id.
    pub(crate) fn derive(
        &self,
        normalizer: &Normalizer,
        source_name: &str,
        origin: &str,
    ) -> Derived {
        let leaf = merkle::leaf_hash(&self.raw);
        let leaf_finding = (self.leaf != leaf).then(|| {
            format!(
                "event bytes do not match the stored leaf hash: expected {}, found {}",
                hex(&self.leaf),
                merkle::to_hex(&leaf)
            )
        });
        let view = StoredFields {
            ts: self.ts,
            id: self.id,
            parse_error: self.parse_error.as_deref(),
            fields: std::array::from_fn(|i| self.fields[i].as_deref()),
        };
        let (normalized, findings) = view.derive(&self.raw, normalizer, source_name, origin);
        Derived {
            leaf,
            leaf_finding,
            normalized,
            findings,
        }
    }
}

/// A stored row's columns that its bytes must give, borrowed (from a row being exported, say).
pub(crate) struct StoredFields<'a> {
    pub ts: Option<i64>,
    pub id: i64,
    pub parse_error: Option<&'a str>,
    /// The normalized columns, in the order of [`FIELD_NAMES`].
    pub fields: [Option<&'a str>; 12],
}

impl StoredFields<'_> {
    /// What `raw` gives under `normalizer` (events of `origin`, stored with `source_name`), and where these columns
    /// differ from it, as `check` words it: the parse error, every normalized column, the time and the
    /// time-ordered id. The leaf is not looked at.
    pub(crate) fn derive(
        &self,
        raw: &[u8],
        normalizer: &Normalizer,
        source_name: &str,
        origin: &str,
    ) -> (Result<Normalized, String>, Vec<String>) {
        let normalized = normalizer.normalize_event(raw);
        self.compare(normalized, source_name, origin)
    }

    /// [`StoredFields::derive`] of an event already read ([`crate::sources::read_event`]).
    pub(crate) fn derive_read(
        &self,
        event: &Result<Json<'_>, ParseError>,
        normalizer: &Normalizer,
        source_name: &str,
        origin: &str,
    ) -> (Result<Normalized, String>, Vec<String>) {
        let normalized = match event {
            Ok(event) => Ok(normalizer.normalize(event)),
            Err(why) => Err(why.clone()),
        };
        self.compare(normalized, source_name, origin)
    }

    /// Where these columns differ from what the event gives.
    fn compare(
        &self,
        normalized: Result<Normalized, ParseError>,
        source_name: &str,
        origin: &str,
    ) -> (Result<Normalized, String>, Vec<String>) {
        let mut findings = Vec::new();
        // An event that is not a JSON object the parser reads has no fields but source and origin, and the
        // parser's reason.
        let normalized = normalized.map_err(|e| e.reason().to_string());
        match (self.parse_error, &normalized) {
            (None, Err(why)) => findings.push(format!(
                "stored as parsed, but the event does not parse: {why}"
            )),
            (Some(s), Ok(_)) => findings.push(format!(
                "stored as not parsed ({s:?}), but the event parses"
            )),
            (Some(s), Err(why)) if s != why => findings.push(format!(
                "stored parse error {s:?} differs from the parser's {why:?}"
            )),
            _ => {}
        }
        let none = Normalized::default();
        let n = normalized.as_ref().unwrap_or(&none);
        let derived: [Option<&str>; 12] = [
            Some(source_name),
            Some(origin),
            n.actor.as_deref(),
            n.action.as_deref(),
            n.resource.as_deref(),
            n.outcome.as_deref(),
            n.ip.as_deref(),
            n.agent.as_deref(),
            n.env.as_deref(),
            n.stage.as_deref(),
            n.category.as_deref(),
            n.privilege.as_deref(),
        ];
        for ((name, s), d) in FIELD_NAMES.iter().zip(&self.fields).zip(derived) {
            if *s != d {
                findings.push(format!(
                    "stored {name} {} differs from the event's {}",
                    quoted(*s),
                    quoted(d)
                ));
            }
        }
        if self.ts != n.ts {
            findings.push(format!(
                "stored time {} differs from the event's {}",
                time(self.ts),
                time(n.ts)
            ));
        } else if !crate::store::rowid::id_matches_time(self.id, self.ts) {
            findings.push("event id is outside its time's range (moved in time order)".into());
        }
        (normalized, findings)
    }
}

/// A value quoted (with escapes, whatever it holds), or `none`.
fn quoted(v: Option<&str>) -> String {
    v.map_or_else(|| "none".into(), |v| format!("{v:?}"))
}

/// A time as UTC text, or `none`.
fn time(micros: Option<i64>) -> String {
    micros.map_or_else(|| "none".into(), crate::time::format_utc)
}
