//! Whose rules made an archive's normalized fields (docs/sources.md, "Whose rules"): the built-in mapper its
//! signed source kind names (name and version, e.g. `k8s/1`), the producer's own mapping file carried in the
//! signed archive (named by its SHA-256), or a built-in mapper the auditor chose instead (`import --as KIND`).
//! Pure: the store keeps the choice in `archives.normalization` as a short text ([`Normalization::column`]) and
//! re-reads it with the archive's signed kind and mapping file ([`Normalization::from_column`]).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::SourceKind;

/// Who chose the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NormalizedBy {
    /// The built-in mapper of the archive's signed source kind (our rules; the producer chose the kind).
    Builtin,
    /// The producer's mapping file (the producer's rules).
    ProducerMapping,
    /// A built-in mapper the auditor chose, overriding the archive's signed kind or mapping file.
    Auditor,
}

/// Which normalization made an archive's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Normalization {
    pub by: NormalizedBy,
    /// The built-in mapper, name and version (`k8s/1`), for `builtin` and `auditor`.
    pub mapper: Option<String>,
    /// SHA-256 of the producer's mapping file, base64 as in the manifest, for `producer_mapping`.
    pub mapping_sha256: Option<String>,
    /// For `auditor`: what the auditor's choice overrides, the producer's source kind (`jsonl`) or
    /// `mapping file sha256 <base64>`.
    pub overrides: Option<String>,
    /// The whole of it in words, as `verify`, the app and bundles show it.
    pub text: String,
}

impl Normalization {
    /// The normalization an archive's own signed kind (and mapping file, for kind `mapping`) selects. `None` for
    /// kind `mapping` without a file.
    pub fn producer(kind: SourceKind, mapping: Option<&[u8]>) -> Option<Normalization> {
        match (kind.mapper(), mapping) {
            (_, Some(bytes)) if kind == SourceKind::Mapping => {
                Some(Normalization::producer_mapping(mapping_sha256(bytes)))
            }
            (Some(mapper), None) => Some(Normalization::builtin_named(kind, mapper)),
            _ => None,
        }
    }

    /// The producer's mapping file, by its SHA-256 (base64).
    pub fn producer_mapping(sha256: String) -> Normalization {
        Normalization {
            by: NormalizedBy::ProducerMapping,
            mapper: None,
            text: format!("producer's mapping file sha256 {sha256} (producer rules)"),
            mapping_sha256: Some(sha256),
            overrides: None,
        }
    }

    /// The built-in mapper of the archive's signed `kind`, at version `mapper` (`k8s/1`; a bundle may name a
    /// version other than this build's).
    pub fn builtin_named(kind: SourceKind, mapper: &str) -> Normalization {
        Normalization {
            by: NormalizedBy::Builtin,
            mapper: Some(mapper.to_owned()),
            mapping_sha256: None,
            overrides: None,
            text: format!("built-in {kind} mapper ({mapper})"),
        }
    }

    /// The auditor's choice of the built-in mapper of `kind` for an archive whose own rules are `producer`.
    /// `None` for kind `mapping` (not built in).
    pub fn auditor(kind: SourceKind, producer: &Normalization) -> Option<Normalization> {
        Some(Normalization::auditor_named(kind, kind.mapper()?, producer))
    }

    /// [`Normalization::auditor`] at version `mapper` of the kind's mapper.
    pub fn auditor_named(
        kind: SourceKind,
        mapper: &str,
        producer: &Normalization,
    ) -> Normalization {
        let overrides = producer.short();
        Normalization {
            by: NormalizedBy::Auditor,
            mapper: Some(mapper.to_owned()),
            mapping_sha256: None,
            text: format!(
                "auditor's choice: built-in {kind} mapper ({mapper}) (overrides the producer's {overrides})"
            ),
            overrides: Some(overrides),
        }
    }

    /// The built-in kind a mapper name (`k8s/1`: a built-in kind, `/`, a version of ASCII digits without a
    /// leading zero) is of, whatever its version.
    pub fn kind_of_mapper(mapper: &str) -> Option<SourceKind> {
        let (kind, version) = mapper.split_once('/')?;
        let numeric = !version.is_empty()
            && version.len() <= 9
            && !version.starts_with('0')
            && version.bytes().all(|b| b.is_ascii_digit());
        let kind: SourceKind = kind.parse().ok()?;
        (numeric && kind.mapper().is_some()).then_some(kind)
    }

    /// The producer's rules in a few words: the kind (`jsonl`) or `mapping file sha256 <base64>`.
    fn short(&self) -> String {
        match (&self.mapping_sha256, &self.mapper) {
            (Some(sha), _) => format!("mapping file sha256 {sha}"),
            (None, Some(m)) => m.split('/').next().unwrap_or(m).to_owned(),
            (None, None) => "rules".to_owned(),
        }
    }

    /// Whether the fields come from the producer's mapping file.
    pub fn is_producer_rules(&self) -> bool {
        self.by == NormalizedBy::ProducerMapping
    }

    /// The built-in kind whose mapper made the fields (`builtin` and `auditor`).
    pub fn builtin_kind(&self) -> Option<SourceKind> {
        Normalization::kind_of_mapper(self.mapper.as_deref()?)
    }

    /// The store's `archives.normalization` text: `k8s/1` (the signed kind's built-in mapper), `mapping` (the
    /// producer's mapping file, stored in `archives.mapping`), `auditor:k8s/1` (the auditor's choice).
    pub fn column(&self) -> String {
        match self.by {
            NormalizedBy::Builtin => self.mapper.clone().unwrap_or_default(),
            NormalizedBy::ProducerMapping => "mapping".to_owned(),
            NormalizedBy::Auditor => format!("auditor:{}", self.mapper.as_deref().unwrap_or("")),
        }
    }

    /// Reads a stored `archives.normalization` text with the archive's signed kind and mapping file. `Err` says
    /// why the text does not name a normalization this AuditLens has (an unknown or older mapper version, or a
    /// text that does not fit the archive's signed kind).
    pub fn from_column(
        column: &str,
        kind: SourceKind,
        mapping: Option<&[u8]>,
    ) -> Result<Normalization, String> {
        let producer = Normalization::producer(kind, mapping)
            .ok_or_else(|| format!("source kind {kind} without its mapping file"))?;
        if let Some(mapper) = column.strip_prefix("auditor:") {
            let chosen = Normalization::kind_of_mapper(mapper)
                .filter(|_| super::times::version_of(mapper).is_some())
                .ok_or_else(|| format!("the auditor's choice names no built-in mapper of this AuditLens: {mapper:?}"))?;
            return Ok(Normalization::auditor_named(chosen, mapper, &producer));
        }
        if column == producer.column() {
            return Ok(producer);
        }
        // The same built-in mapper at an older version this AuditLens still has (docs/sources.md section 2).
        if let (NormalizedBy::Builtin, Some(kind_now)) = (producer.by, producer.builtin_kind())
            && Normalization::kind_of_mapper(column) == Some(kind_now)
            && super::times::version_of(column).is_some()
        {
            return Ok(Normalization::builtin_named(kind, column));
        }
        Err(format!(
            "normalization {column:?} is not what the archive's signed rules give ({})",
            producer.column()
        ))
    }
}

/// SHA-256 of a mapping file, base64 as the manifest's `mapping_sha256`.
pub fn mapping_sha256(bytes: &[u8]) -> String {
    crate::archive::encode_hash(&Sha256::digest(bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_mapping_and_auditor_choices_read_back_from_their_column() {
        let k8s = Normalization::producer(SourceKind::K8s, None).unwrap();
        assert_eq!(k8s.text, "built-in k8s mapper (k8s/2)");
        assert_eq!(k8s.column(), "k8s/2");
        assert_eq!(
            Normalization::from_column("k8s/2", SourceKind::K8s, None).unwrap(),
            k8s
        );
        // Stores written before version 2 of the mappers name version 1, which this AuditLens still has.
        let v1 = Normalization::from_column("k8s/1", SourceKind::K8s, None).unwrap();
        assert_eq!(v1.text, "built-in k8s mapper (k8s/1)");
        assert_eq!(v1.column(), "k8s/1");
        assert_eq!(v1.builtin_kind(), Some(SourceKind::K8s));
        let a1 = Normalization::from_column("auditor:okta/1", SourceKind::K8s, None).unwrap();
        assert_eq!(a1.column(), "auditor:okta/1");
        assert_eq!(a1.builtin_kind(), Some(SourceKind::Okta));
        let file = b"name = \"x\"\n";
        let m = Normalization::producer(SourceKind::Mapping, Some(file)).unwrap();
        let sha = mapping_sha256(file);
        assert_eq!(
            m.text,
            format!("producer's mapping file sha256 {sha} (producer rules)")
        );
        assert!(m.is_producer_rules());
        let a = Normalization::auditor(SourceKind::K8s, &m).unwrap();
        assert_eq!(
            a.text,
            format!(
                "auditor's choice: built-in k8s mapper (k8s/2) (overrides the producer's mapping file sha256 {sha})"
            )
        );
        assert_eq!(a.column(), "auditor:k8s/2");
        assert_eq!(
            Normalization::from_column("auditor:k8s/2", SourceKind::Mapping, Some(file)).unwrap(),
            a
        );
        let j = Normalization::producer(SourceKind::Jsonl, None).unwrap();
        assert_eq!(
            Normalization::auditor(SourceKind::K8s, &j).unwrap().text,
            "auditor's choice: built-in k8s mapper (k8s/2) (overrides the producer's jsonl)"
        );
    }

    #[test]
    fn a_column_that_does_not_fit_the_signed_rules_is_refused() {
        assert!(Normalization::from_column("k8s/1", SourceKind::Jsonl, None).is_err());
        assert!(Normalization::from_column("k8s/0", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("k8s/3", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("k8s/01", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("jsonl/1", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("auditor:k8s/3", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("auditor:k8s/0", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("auditor:mapping", SourceKind::K8s, None).is_err());
        assert!(Normalization::from_column("mapping", SourceKind::K8s, None).is_err());
        assert!(Normalization::producer(SourceKind::Mapping, None).is_none());
    }
}
