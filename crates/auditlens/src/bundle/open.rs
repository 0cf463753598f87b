//! A received bundle opened for reading (the desktop app's Received bundle screen): verified on its own from a
//! private working copy, then its events read from that same copy as text, each line checked against the leaf
//! that verified. Nothing is imported. Every string that comes from the bundle is made terminal-safe.

use std::io::{BufRead, Read};
use std::path::Path;

use serde::Serialize;

use super::verify::VerifiedEvent;
use super::{
    BundleStatus, EVENTS, ExportReport, REPORT_JSON, ReportEvent, VerifyOptions, terminal_safe,
    verify_bundle,
};
use crate::note::VerifierKey;
use crate::trust::TrustPolicy;

/// Events of a received bundle returned (a bundle holds at most [`super::MAX_EVENTS`]).
pub const MAX_SHOWN_EVENTS: usize = 10_000;

/// The verdict on a received bundle (docs/evidence-bundle.md section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum BundleVerdict {
    /// Intact, and every producer key is in the keyring.
    Verified,
    /// Intact, but a producer key is not in the keyring.
    Untrusted,
    /// Something does not verify; `failure` says what.
    Failed,
}

/// Why a bundle did not verify: the check, the entry, line and event, the expected and found values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BundleProblem {
    /// `container`, `manifest`, `auditor-signature`, `entries`, `index`, `checkpoint`, `producer-signature`,
    /// `event`, `leaf`, `proof`, `count`, `report`, `untrusted-producer` or `untrusted-auditor`.
    pub kind: String,
    pub message: String,
    pub entry: Option<String>,
    pub line: Option<u64>,
    pub event: Option<String>,
    pub expected: Option<String>,
    pub found: Option<String>,
}

/// A key named by a received bundle, and whether this app trusts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BundleKey {
    pub key: String,
    pub name: String,
    pub fingerprint: String,
    /// In the keyring (or, for the auditor, this app's own auditor key).
    pub trusted: bool,
    /// This app's own auditor key.
    pub yours: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BundleArchive {
    pub origin: String,
    pub sequence: u64,
    /// Events in the whole archive.
    pub size: u64,
    /// Merkle root, base64.
    pub root: String,
    /// The bundle's events from this archive.
    pub events: u64,
    pub signer: BundleKey,
    /// Set when the archive was sealed on receipt (docs/archive-format.md section 4.1): what its signed manifest
    /// records of the files received (names made terminal-safe). Its signer received the files; it is not their
    /// producer.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<crate::archive::Receipt>,
    /// With `received`: the label shown instead of "verified", `sealed on receipt by NAME (FINGERPRINT) at AT:
    /// proves no change since receipt, not authenticity at the source`.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
    /// Set for AWS CloudTrail evidence (docs/evidence-bundle.md section 11): `signed by AWS CloudTrail (key FP):
    /// log files verified against AWS's signed digests`.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail_label: Option<String>,
}

/// One event of a received bundle, as text only. Every string here comes from the bundle (attacker-controlled);
/// invisible and reordering characters are shown as `\u{…}` escapes (auditlens::safe_text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BundleEvent {
    pub position: u64,
    pub id: String,
    /// Leaf hash, base64, as verified.
    pub leaf: String,
    /// The exporter's reading of the event (report.json, signed by the auditor, not re-derived).
    pub time: Option<String>,
    pub source: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<String>,
    /// The event exactly as signed by its producer (one line of JSON).
    pub text: String,
    /// Set when the event's archive was sealed on receipt: that archive's label, shown instead of "verified".
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
    /// Set for AWS CloudTrail evidence (docs/evidence-bundle.md section 11): `signed by AWS CloudTrail (key FP):
    /// log files verified against AWS's signed digests`.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail_label: Option<String>,
}

/// A received evidence bundle, verified on its own: it is never imported into the database.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenedBundle {
    pub path: String,
    /// SHA-256 of the file as read, lowercase hex, to compare with the one the exporter noted.
    pub sha256: String,
    pub verdict: BundleVerdict,
    pub failure: Option<BundleProblem>,
    /// Set once the auditor's signature on the manifest verified.
    pub auditor: Option<BundleKey>,
    pub exported: Option<String>,
    pub tool: Option<String>,
    pub purpose: Option<String>,
    /// The selection: the query, or the listed ids.
    pub query: Option<String>,
    pub ids: Option<Vec<String>>,
    /// The earliest and latest event time, from the report.
    pub first: Option<String>,
    pub last: Option<String>,
    pub archives: Vec<BundleArchive>,
    /// Every event of an intact bundle; empty when it failed.
    pub events: Vec<BundleEvent>,
    /// The number of events the bundle holds (when intact).
    pub events_total: u64,
    /// The exporting auditor's annotations (`annotations.json`) of an intact bundle that carries them: the
    /// auditor's statements, signed by their key, not evidence.
    pub annotations: Option<super::AnnotationsDoc>,
}

/// Who is trusted when a received bundle is opened, and where its working copy is made.
pub struct OpenOptions<'a> {
    /// The folder the private working copy is made in (created if missing).
    pub work_dir: &'a Path,
    /// The keyring's producer grants (docs/trust-policy.md): archives of other signers are untrusted.
    pub producer_policy: &'a TrustPolicy,
    /// The keyring's keys: an auditor among them is trusted.
    pub producers: &'a [VerifierKey],
    /// This reader's own auditor key, if any: trusted, and marked as yours.
    pub own_auditor: Option<&'a VerifierKey>,
    /// The AWS CloudTrail public keys this reader trusts (kept with the keyring): a CloudTrail archive's digests
    /// must be signed by them.
    pub aws_keys: Option<&'a crate::cloudtrail_digest::AwsKeys>,
}

/// Why a bundle could not be read at all (a bundle that does not verify is a [`BundleVerdict::Failed`], not an
/// error). The message names the file and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(pub String);

/// Verifies the received bundle at `path` on its own, against `opts`' producer grants, and reads its events (at
/// most [`MAX_SHOWN_EVENTS`]) for showing as text. The bundle is first copied into `opts.work_dir`, so what is
/// returned is exactly what was verified even if the file changes meanwhile; the copy is removed afterwards.
pub fn open_verified(path: &Path, opts: &OpenOptions<'_>) -> Result<OpenedBundle, OpenError> {
    let shown = path.display();
    std::fs::create_dir_all(opts.work_dir)
        .map_err(|e| OpenError(format!("cannot create {}: {e}", opts.work_dir.display())))?;
    let copy = tempfile::Builder::new()
        .prefix("received-bundle-")
        .suffix(".zip")
        .tempfile_in(opts.work_dir)
        .map_err(|e| OpenError(format!("cannot make a working copy: {e}")))?;
    {
        let mut input = std::fs::File::open(path).map_err(|e| {
            OpenError(format!(
                "cannot open {shown}: {e}. Check that the file exists and is readable."
            ))
        })?;
        let mut output = copy.as_file();
        std::io::copy(&mut input, &mut output)
            .map_err(|e| OpenError(format!("cannot read {shown}: {e}")))?;
    }
    let sha256 = crate::archive::sha256_file(copy.path())
        .map(|h| crate::merkle::to_hex(&h))
        .map_err(|e| OpenError(format!("cannot read {}: {e}", copy.path().display())))?;
    let v = verify_bundle(
        copy.path(),
        &VerifyOptions {
            trusted_producers: &[],
            trusted_auditors: &[],
            producer_policy: Some(opts.producer_policy),
            aws_keys: opts.aws_keys,
        },
    )
    .map_err(|e| OpenError(format!("cannot read {shown}: {e}")))?;
    let key_of = |key: &str, name: &str, fingerprint: &str, trusted: bool| {
        let yours = opts.own_auditor.is_some_and(|o| o.to_string() == key);
        BundleKey {
            key: key.to_string(),
            name: terminal_safe(name),
            fingerprint: fingerprint.to_string(),
            trusted: trusted || yours,
            yours,
        }
    };
    let auditor = v.auditor.as_ref().map(|a| {
        let in_keyring = opts.producers.iter().any(|p| p.to_string() == a.key);
        key_of(&a.key, &a.name, &a.fingerprint, in_keyring)
    });
    let archives = v
        .archives
        .iter()
        .map(|a| BundleArchive {
            origin: terminal_safe(&a.origin),
            sequence: a.sequence,
            size: a.size,
            root: a.root.clone(),
            events: a.events,
            signer: key_of(
                &a.signer.key,
                &a.signer.name,
                &a.signer.fingerprint,
                a.signer.trusted,
            ),
            received: a.received.as_ref().map(|r| crate::archive::Receipt {
                at: terminal_safe(&r.at),
                files: r
                    .files
                    .iter()
                    .map(|f| crate::archive::ReceivedFile {
                        name: terminal_safe(&f.name),
                        sha256: terminal_safe(&f.sha256),
                        bytes: f.bytes,
                        entry: f.entry.as_deref().map(terminal_safe),
                    })
                    .collect(),
            }),
            received_label: a.received_label.as_deref().map(terminal_safe),
            cloudtrail_label: a.cloudtrail_label.as_deref().map(terminal_safe),
        })
        .collect();
    let mut failure = v.failure.as_ref().map(|f| BundleProblem {
        kind: serde_json::to_value(f.kind)
            .ok()
            .and_then(|k| k.as_str().map(String::from))
            .unwrap_or_default(),
        message: terminal_safe(&f.message),
        entry: f.entry.as_deref().map(terminal_safe),
        line: f.line,
        event: f.event.as_deref().map(terminal_safe),
        expected: f.expected.as_deref().map(terminal_safe),
        found: f.found.as_deref().map(terminal_safe),
    });
    let mut verdict = match v.status {
        BundleStatus::Verified => BundleVerdict::Verified,
        BundleStatus::Untrusted => BundleVerdict::Untrusted,
        BundleStatus::Failed => BundleVerdict::Failed,
    };
    let (mut events, mut first, mut last) = (Vec::new(), None, None);
    if verdict != BundleVerdict::Failed {
        match read_bundle_events(copy.path(), &v.events) {
            Ok((e, f, l)) => (events, first, last) = (e, f, l),
            Err(message) => {
                verdict = BundleVerdict::Failed;
                failure = Some(BundleProblem {
                    kind: "container".into(),
                    message,
                    entry: None,
                    line: None,
                    event: None,
                    expected: None,
                    found: None,
                });
            }
        }
    }
    let events_total = if verdict == BundleVerdict::Failed {
        0
    } else {
        v.events.len() as u64
    };
    let (query, ids) = match &v.selection {
        Some(s) => (
            s.query.as_deref().map(terminal_safe),
            s.ids
                .as_ref()
                .map(|ids| ids.iter().map(|i| terminal_safe(i)).collect()),
        ),
        None => (None, None),
    };
    Ok(OpenedBundle {
        path: shown.to_string(),
        sha256,
        verdict,
        failure,
        auditor,
        exported: v.exported.as_deref().map(terminal_safe),
        tool: v.tool.as_deref().map(terminal_safe),
        purpose: v.purpose.as_deref().map(terminal_safe),
        query,
        ids,
        first,
        last,
        archives,
        events,
        events_total,
        annotations: if verdict == BundleVerdict::Failed {
            None
        } else {
            v.annotations.clone()
        },
    })
}

type BundleEvents = (Vec<BundleEvent>, Option<String>, Option<String>);

/// Reads the events of a bundle that verified (the same copy), checking that each line is the verified leaf.
fn read_bundle_events(path: &Path, verified: &[VerifiedEvent]) -> Result<BundleEvents, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let report: ExportReport = {
        let entry = zip.by_name(REPORT_JSON).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        entry
            .take(super::MAX_REPORT_JSON_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{REPORT_JSON}: {e}"))?
    };
    let entry = zip.by_name(EVENTS).map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(entry.take(super::MAX_EVENTS_BYTES));
    let mut events = Vec::new();
    let mut line = Vec::new();
    for (i, want) in verified.iter().enumerate() {
        line.clear();
        reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let leaf = crate::archive::encode_hash(&crate::merkle::leaf_hash(text));
        if leaf != want.leaf {
            return Err(format!(
                "{EVENTS} line {} changed after it was verified",
                i + 1
            ));
        }
        if i >= MAX_SHOWN_EVENTS {
            continue;
        }
        let r = report.events.get(i).filter(|r| r.id == want.id);
        let field = |f: fn(&ReportEvent) -> &Option<String>| {
            r.and_then(|r| f(r).as_deref()).map(terminal_safe)
        };
        events.push(BundleEvent {
            position: i as u64 + 1,
            id: terminal_safe(&want.id),
            leaf: want.leaf.clone(),
            time: field(|r| &r.time),
            source: field(|r| &r.source),
            actor: field(|r| &r.actor),
            action: field(|r| &r.action),
            resource: field(|r| &r.resource),
            outcome: field(|r| &r.outcome),
            text: terminal_safe(&String::from_utf8_lossy(text)),
            received_label: want.received_label.as_deref().map(terminal_safe),
            cloudtrail_label: want.cloudtrail_label.as_deref().map(terminal_safe),
        });
    }
    let range = report.time_range;
    Ok((
        events,
        range.as_ref().map(|r| terminal_safe(&r.first)),
        range.as_ref().map(|r| terminal_safe(&r.last)),
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::bundle::{ExportOptions, SelectionInput, export};
    use crate::note::SignerKey;
    use crate::seal::{SealOptions, seal};
    use crate::store::Store;
    use crate::store::import::ImportOptions;

    const ORIGIN: &str = "example.com/prod/k8s";

    pub(in crate::bundle) struct Lab {
        _tmp: tempfile::TempDir,
        pub dir: PathBuf,
        producer: SignerKey,
        auditor: SignerKey,
        bundle: PathBuf,
    }

    /// demo.log sealed, imported as verified (`dir/store.db`), and alice's events exported to a bundle.
    pub(in crate::bundle) fn lab() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let producer = SignerKey::generate("ops-prod").unwrap();
        let auditor = SignerKey::generate("auditor-jane").unwrap();
        let archive = dir.join("k8s.zip");
        let log = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/logs/k8s_audit/audit2rbac/demo.log");
        seal(&SealOptions {
            key: &producer,
            origin: ORIGIN,
            prev: None,
            format: None,
            mapping: None,
            out: &archive,
            inputs: &[log],
            receive: false,
        })
        .unwrap();
        let mut store = Store::open(&dir.join("store.db")).unwrap();
        store
            .import_archive(
                &archive,
                &ImportOptions {
                    trust: &TrustPolicy::from_keys(&[producer.verifier()]),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        let bundle = dir.join("bundle.zip");
        export(
            &store,
            &ExportOptions {
                selection: SelectionInput::Query("alice".into()),
                purpose: "INC-1: alice's requests",
                auditor: &auditor,
                out: &bundle,
                now_micros: 1_700_000_000_000_000,
                aws_keys: None,
            },
        )
        .unwrap();
        Lab {
            _tmp: tmp,
            dir,
            producer,
            auditor,
            bundle,
        }
    }

    fn open(lab: &Lab, producers: &[VerifierKey], own: Option<&VerifierKey>) -> OpenedBundle {
        open_verified(
            &lab.bundle,
            &OpenOptions {
                work_dir: &lab.dir.join("work"),
                producer_policy: &TrustPolicy::from_keys(producers),
                producers,
                own_auditor: own,
                aws_keys: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_bundle_of_trusted_producers_opens_verified_with_each_event_as_its_verified_leaf() {
        let lab = lab();
        let o = open(&lab, &[lab.producer.verifier()], None);
        assert_eq!(o.verdict, BundleVerdict::Verified, "{:?}", o.failure);
        assert_eq!(o.path, lab.bundle.display().to_string());
        assert_eq!(o.purpose.as_deref(), Some("INC-1: alice's requests"));
        assert_eq!(o.query.as_deref(), Some("alice"));
        assert!(!o.events.is_empty());
        assert_eq!(o.events_total, o.events.len() as u64);
        for (i, e) in o.events.iter().enumerate() {
            assert_eq!(e.position, i as u64 + 1);
            let leaf = crate::archive::encode_hash(&crate::merkle::leaf_hash(e.text.as_bytes()));
            assert_eq!(leaf, e.leaf, "event {}", e.id);
        }
        assert!(o.first.is_some() && o.last.is_some());
        let sha = crate::merkle::to_hex(&crate::archive::sha256_file(&lab.bundle).unwrap());
        assert_eq!(o.sha256, sha);
        assert!(
            o.archives
                .iter()
                .all(|a| a.origin == ORIGIN && a.signer.trusted)
        );
        // The auditor is not in the keyring and not this reader's own key.
        let auditor = o.auditor.unwrap();
        assert!(!auditor.trusted && !auditor.yours);
        // The working copy is gone.
        assert_eq!(std::fs::read_dir(lab.dir.join("work")).unwrap().count(), 0);
    }

    #[test]
    fn the_readers_own_auditor_key_is_marked_yours_and_trusted() {
        let lab = lab();
        let own = lab.auditor.verifier();
        let auditor = open(&lab, &[lab.producer.verifier()], Some(&own))
            .auditor
            .unwrap();
        assert!(auditor.trusted && auditor.yours);
        // An auditor key in the keyring is trusted, not yours.
        let keyring = [lab.producer.verifier(), lab.auditor.verifier()];
        let auditor = open(&lab, &keyring, None).auditor.unwrap();
        assert!(auditor.trusted && !auditor.yours);
    }

    #[test]
    fn a_producer_not_in_the_keyring_leaves_the_bundle_intact_but_untrusted() {
        let lab = lab();
        let o = open(&lab, &[], None);
        assert_eq!(o.verdict, BundleVerdict::Untrusted);
        assert!(!o.events.is_empty());
        assert!(o.archives.iter().all(|a| !a.signer.trusted));
    }

    #[test]
    fn an_event_line_that_is_not_its_verified_leaf_is_refused() {
        let lab = lab();
        let opts = VerifyOptions {
            trusted_producers: &[lab.producer.verifier()],
            trusted_auditors: &[],
            producer_policy: None,
            aws_keys: None,
        };
        let mut verified = verify_bundle(&lab.bundle, &opts).unwrap().events;
        assert!(read_bundle_events(&lab.bundle, &verified).is_ok());
        verified[1].leaf = verified[0].leaf.clone();
        assert_eq!(
            read_bundle_events(&lab.bundle, &verified).unwrap_err(),
            format!("{EVENTS} line 2 changed after it was verified")
        );
    }

    #[test]
    fn a_missing_file_is_an_error_that_names_it() {
        let lab = lab();
        let missing = lab.dir.join("missing.zip");
        let err = open_verified(
            &missing,
            &OpenOptions {
                work_dir: &lab.dir.join("work"),
                producer_policy: &TrustPolicy::from_keys(&[]),
                producers: &[],
                own_auditor: None,
                aws_keys: None,
            },
        )
        .unwrap_err();
        assert!(
            err.0
                .starts_with(&format!("cannot open {}", missing.display())),
            "{err}"
        );
    }
}
