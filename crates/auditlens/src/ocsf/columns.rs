//! The export's Arrow schema (docs/ocsf-export.md, "Columns") and the record batches built from rows.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Int32Array, ListArray, RecordBatch, StructArray, TimestampMillisecondArray,
};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use super::map::{Class, OCSF_VERSION, OcsfEvent, Text, User};

/// What the exporter adds to an event's OCSF attributes: its provenance and the store's counts of it, borrowed
/// from the row being read.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    /// Milliseconds since the epoch (the archive's sealing time when the event has none).
    pub time_ms: i64,
    pub time_known: bool,
    pub raw: &'a str,
    pub event_id: &'a str,
    pub origin: &'a str,
    pub sequence: i64,
    pub index: i64,
    /// The leaf the store holds, in hex: the encoder checks it against `raw` before the row is written.
    pub leaf_hex: &'a str,
    pub archive: &'a ArchiveColumns,
    /// The event's source as the store counts it (`auditlens stats` by source).
    pub source: Option<&'a str>,
    pub category: Option<&'a str>,
    pub outcome: Option<&'a str>,
}

/// What every row of one archive shares.
#[derive(Debug, Clone)]
pub struct ArchiveColumns {
    pub root_hex: String,
    pub checkpoint_sha256_hex: String,
    pub signer_fingerprint: String,
    pub normalization: String,
    /// `auditlens_verification`: `verified`, or `sealed-on-receipt` for an archive the auditor sealed on receipt
    /// (its signature proves no change since receipt, not authenticity at the source).
    pub verification: &'static str,
}

/// The column holding each event's exact bytes.
pub const RAW_DATA: &str = "raw_data";
/// The column holding each event's leaf hash, in hex.
pub const LEAF_HASH: &str = "auditlens_leaf_hash";
/// The column holding each event's id.
pub const EVENT_ID: &str = "auditlens_event_id";

/// Columns (Parquet paths) whose value differs on every row.
pub const UNIQUE_COLUMNS: &[&str] = &[
    RAW_DATA,
    "message",
    "metadata.uid",
    "api.request.uid",
    EVENT_ID,
    LEAF_HASH,
    // The JSON texts of what no column took: mostly each request's own parameters and response.
    "unmapped.entries.value",
];

fn s(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn user_fields() -> Fields {
    Fields::from(vec![
        s("name"),
        s("uid"),
        s("type"),
        Field::new(
            "account",
            DataType::Struct(Fields::from(vec![s("uid")])),
            true,
        ),
    ])
}

fn resource_fields() -> Fields {
    Fields::from(vec![s("name"), s("type"), s("uid"), s("namespace")])
}

fn metadata_fields() -> Fields {
    Fields::from(vec![
        s("version"),
        s("uid"),
        s("log_name"),
        Field::new(
            "product",
            DataType::Struct(Fields::from(vec![s("name"), s("vendor_name")])),
            true,
        ),
        Field::new(
            "profiles",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ])
}

fn api_fields() -> Fields {
    Fields::from(vec![
        s("operation"),
        Field::new(
            "service",
            DataType::Struct(Fields::from(vec![s("name")])),
            true,
        ),
        Field::new(
            "request",
            DataType::Struct(Fields::from(vec![s("uid")])),
            true,
        ),
        s("version"),
    ])
}

fn cloud_fields() -> Fields {
    Fields::from(vec![
        s("provider"),
        s("region"),
        Field::new(
            "account",
            DataType::Struct(Fields::from(vec![s("uid")])),
            true,
        ),
    ])
}

fn endpoint_fields() -> Fields {
    Fields::from(vec![s("ip"), s("svc_name"), s("name")])
}

/// `unmapped`: member name to the JSON text of its value.
fn unmapped_type() -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ])),
            false,
        )),
        false,
    )
}

/// The one schema of every file.
pub fn schema() -> SchemaRef {
    let i32f = |n: &str| Field::new(n, DataType::Int32, false);
    Arc::new(Schema::new(vec![
        i32f("class_uid"),
        Field::new("class_name", DataType::Utf8, false),
        i32f("category_uid"),
        Field::new("category_name", DataType::Utf8, false),
        i32f("activity_id"),
        Field::new("activity_name", DataType::Utf8, false),
        Field::new("type_uid", DataType::Int64, false),
        Field::new("type_name", DataType::Utf8, false),
        i32f("severity_id"),
        Field::new("severity", DataType::Utf8, false),
        i32f("status_id"),
        Field::new("status", DataType::Utf8, false),
        s("status_code"),
        s("status_detail"),
        Field::new("time", DataType::Int64, false),
        Field::new(
            "time_dt",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("message", DataType::Utf8, false),
        Field::new("metadata", DataType::Struct(metadata_fields()), false),
        Field::new(
            "actor",
            DataType::Struct(Fields::from(vec![Field::new(
                "user",
                DataType::Struct(user_fields()),
                true,
            )])),
            false,
        ),
        Field::new("user", DataType::Struct(user_fields()), true),
        Field::new("api", DataType::Struct(api_fields()), false),
        Field::new(
            "resources",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(resource_fields()),
                true,
            ))),
            true,
        ),
        Field::new(
            "service",
            DataType::Struct(Fields::from(vec![s("name")])),
            true,
        ),
        Field::new("src_endpoint", DataType::Struct(endpoint_fields()), false),
        Field::new(
            "http_request",
            DataType::Struct(Fields::from(vec![s("user_agent")])),
            true,
        ),
        Field::new("cloud", DataType::Struct(cloud_fields()), false),
        Field::new("unmapped", unmapped_type(), true),
        Field::new(RAW_DATA, DataType::Utf8, false),
        Field::new(EVENT_ID, DataType::Utf8, false),
        Field::new("auditlens_origin", DataType::Utf8, false),
        Field::new("auditlens_sequence", DataType::Int64, false),
        Field::new("auditlens_event_index", DataType::Int64, false),
        Field::new(LEAF_HASH, DataType::Utf8, false),
        Field::new("auditlens_archive_root", DataType::Utf8, false),
        Field::new("auditlens_checkpoint_sha256", DataType::Utf8, false),
        Field::new("auditlens_signer_fingerprint", DataType::Utf8, false),
        Field::new("auditlens_verification", DataType::Utf8, false),
        Field::new("auditlens_normalization", DataType::Utf8, false),
        s("auditlens_source"),
        s("auditlens_category"),
        s("auditlens_outcome"),
        Field::new("auditlens_time_known", DataType::Boolean, false),
    ]))
}

fn done(mut b: StringBuilder) -> ArrayRef {
    Arc::new(b.finish())
}

/// A struct column from its children, null where `valid` is false (`None`: never null).
fn structure(
    fields: Fields,
    children: Vec<ArrayRef>,
    valid: Option<NullBuffer>,
) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(StructArray::try_new(fields, children, valid)?))
}

/// A `{name}`-like struct of one string child, null where the child is.
fn single(name: &str, mut b: StringBuilder) -> Result<ArrayRef, ArrowError> {
    let child = b.finish();
    let nulls = child.nulls().cloned();
    structure(Fields::from(vec![s(name)]), vec![Arc::new(child)], nulls)
}

/// The columns of an OCSF `user` object.
struct UserColumns {
    name: StringBuilder,
    uid: StringBuilder,
    kind: StringBuilder,
    account_uid: StringBuilder,
    valid: BooleanBufferBuilder,
}

impl UserColumns {
    fn new() -> UserColumns {
        UserColumns {
            name: StringBuilder::with_capacity(0, 0),
            uid: StringBuilder::with_capacity(0, 0),
            kind: StringBuilder::with_capacity(0, 0),
            account_uid: StringBuilder::with_capacity(0, 0),
            valid: BooleanBufferBuilder::new(0),
        }
    }

    fn append<'a>(&mut self, user: Option<&User<'a>>) {
        let field = |f: for<'u> fn(&'u User<'a>) -> &'u Option<Text<'a>>| {
            user.and_then(|u| f(u).as_deref())
        };
        self.name.append_option(field(|u| &u.name));
        self.uid.append_option(field(|u| &u.uid));
        self.kind.append_option(field(|u| &u.kind));
        self.account_uid.append_option(field(|u| &u.account_uid));
        self.valid.append(user.is_some());
    }

    fn finish(mut self) -> Result<ArrayRef, ArrowError> {
        structure(
            user_fields(),
            vec![
                done(self.name),
                done(self.uid),
                done(self.kind),
                single("uid", self.account_uid)?,
            ],
            Some(NullBuffer::new(self.valid.finish())),
        )
    }
}

/// The columns of rows being gathered for one record batch: each row is appended as it is read, so that no row
/// is kept as owned values of its own (docs/benchmarks.md, "Export").
pub struct RowsBuilder {
    rows: usize,
    /// Bytes appended, about (the writer's byte budget).
    bytes: usize,
    class_uid: Int32Builder,
    class_name: StringBuilder,
    category_uid: Int32Builder,
    category_name: StringBuilder,
    activity_id: Int32Builder,
    activity_name: StringBuilder,
    type_uid: Int64Builder,
    type_name: StringBuilder,
    status_id: Int32Builder,
    status: StringBuilder,
    status_code: StringBuilder,
    status_detail: StringBuilder,
    time: Int64Builder,
    message: StringBuilder,
    metadata_uid: StringBuilder,
    log_name: StringBuilder,
    product_name: StringBuilder,
    vendor_name: StringBuilder,
    actor: UserColumns,
    user: UserColumns,
    operation: StringBuilder,
    api_service: StringBuilder,
    request_uid: StringBuilder,
    api_version: StringBuilder,
    resource_name: StringBuilder,
    resource_type: StringBuilder,
    resource_uid: StringBuilder,
    resource_namespace: StringBuilder,
    resource_counts: Vec<usize>,
    auth_service: StringBuilder,
    src_ip: StringBuilder,
    src_svc_name: StringBuilder,
    src_name: StringBuilder,
    user_agent: StringBuilder,
    provider: StringBuilder,
    region: StringBuilder,
    account: StringBuilder,
    unmapped: MapBuilder<StringBuilder, StringBuilder>,
    raw: StringBuilder,
    event_id: StringBuilder,
    origin: StringBuilder,
    sequence: Int64Builder,
    index: Int64Builder,
    leaf: StringBuilder,
    root: StringBuilder,
    checkpoint: StringBuilder,
    signer: StringBuilder,
    verification: StringBuilder,
    normalization: StringBuilder,
    source: StringBuilder,
    category: StringBuilder,
    outcome: StringBuilder,
    time_known: BooleanBuilder,
}

impl Default for RowsBuilder {
    fn default() -> Self {
        RowsBuilder::new()
    }
}

impl RowsBuilder {
    pub fn new() -> RowsBuilder {
        RowsBuilder {
            rows: 0,
            bytes: 0,
            class_uid: Int32Builder::with_capacity(0),
            class_name: StringBuilder::with_capacity(0, 0),
            category_uid: Int32Builder::with_capacity(0),
            category_name: StringBuilder::with_capacity(0, 0),
            activity_id: Int32Builder::with_capacity(0),
            activity_name: StringBuilder::with_capacity(0, 0),
            type_uid: Int64Builder::with_capacity(0),
            type_name: StringBuilder::with_capacity(0, 0),
            status_id: Int32Builder::with_capacity(0),
            status: StringBuilder::with_capacity(0, 0),
            status_code: StringBuilder::with_capacity(0, 0),
            status_detail: StringBuilder::with_capacity(0, 0),
            time: Int64Builder::with_capacity(0),
            message: StringBuilder::with_capacity(0, 0),
            metadata_uid: StringBuilder::with_capacity(0, 0),
            log_name: StringBuilder::with_capacity(0, 0),
            product_name: StringBuilder::with_capacity(0, 0),
            vendor_name: StringBuilder::with_capacity(0, 0),
            actor: UserColumns::new(),
            user: UserColumns::new(),
            operation: StringBuilder::with_capacity(0, 0),
            api_service: StringBuilder::with_capacity(0, 0),
            request_uid: StringBuilder::with_capacity(0, 0),
            api_version: StringBuilder::with_capacity(0, 0),
            resource_name: StringBuilder::with_capacity(0, 0),
            resource_type: StringBuilder::with_capacity(0, 0),
            resource_uid: StringBuilder::with_capacity(0, 0),
            resource_namespace: StringBuilder::with_capacity(0, 0),
            resource_counts: Vec::new(),
            auth_service: StringBuilder::with_capacity(0, 0),
            src_ip: StringBuilder::with_capacity(0, 0),
            src_svc_name: StringBuilder::with_capacity(0, 0),
            src_name: StringBuilder::with_capacity(0, 0),
            user_agent: StringBuilder::with_capacity(0, 0),
            provider: StringBuilder::with_capacity(0, 0),
            region: StringBuilder::with_capacity(0, 0),
            account: StringBuilder::with_capacity(0, 0),
            unmapped: MapBuilder::with_capacity(
                None,
                StringBuilder::with_capacity(0, 0),
                StringBuilder::with_capacity(0, 0),
                0,
            ),
            raw: StringBuilder::with_capacity(0, 0),
            event_id: StringBuilder::with_capacity(0, 0),
            origin: StringBuilder::with_capacity(0, 0),
            sequence: Int64Builder::with_capacity(0),
            index: Int64Builder::with_capacity(0),
            leaf: StringBuilder::with_capacity(0, 0),
            root: StringBuilder::with_capacity(0, 0),
            checkpoint: StringBuilder::with_capacity(0, 0),
            signer: StringBuilder::with_capacity(0, 0),
            verification: StringBuilder::with_capacity(0, 0),
            normalization: StringBuilder::with_capacity(0, 0),
            source: StringBuilder::with_capacity(0, 0),
            category: StringBuilder::with_capacity(0, 0),
            outcome: StringBuilder::with_capacity(0, 0),
            time_known: BooleanBuilder::with_capacity(0),
        }
    }

    /// Rows appended.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Bytes the rows hold, about (a row's event text twice at most: in `raw_data`, and in `unmapped` in part).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one row: the event `e` mapped from `p.raw`.
    pub fn append(&mut self, e: &OcsfEvent, p: &Provenance<'_>) -> Result<(), ArrowError> {
        use std::fmt::Write as _;
        let class = e.class;
        self.class_uid.append_value(class.uid());
        self.class_name.append_value(class.name());
        self.category_uid.append_value(class.category().0);
        self.category_name.append_value(class.category().1);
        self.activity_id.append_value(e.activity_id);
        self.activity_name.append_value(e.activity_name());
        self.type_uid
            .append_value(i64::from(class.uid()) * 100 + i64::from(e.activity_id));
        // The caption of `type_uid`: for 99 "Other" (activity_name is then the source's own name of it).
        write!(
            self.type_name,
            "{}: {}",
            class.name(),
            class.activity_name(e.activity_id)
        )
        .map_err(|_| ArrowError::ComputeError("type_name".into()))?;
        self.type_name.append_value("");
        self.status_id.append_value(e.status_id);
        self.status.append_value(e.status());
        self.status_code.append_option(e.status_code.as_deref());
        self.status_detail.append_option(e.status_detail.as_deref());
        self.time.append_value(p.time_ms);
        self.message.append_value(&e.message);
        self.metadata_uid.append_value(p.event_id);
        self.log_name.append_value(p.origin);
        self.product_name.append_value(e.product_name);
        self.vendor_name.append_value(e.vendor_name);
        self.actor.append(Some(&e.actor));
        self.user.append(e.user.as_ref());
        self.operation.append_value(&e.operation);
        self.api_service.append_option(e.service.as_deref());
        self.request_uid.append_option(e.request_uid.as_deref());
        self.api_version.append_option(e.api_version.as_deref());
        for r in &e.resources {
            self.resource_name.append_option(r.name.as_deref());
            self.resource_type.append_option(r.kind.as_deref());
            self.resource_uid.append_option(r.uid.as_deref());
            self.resource_namespace
                .append_option(r.namespace.as_deref());
        }
        self.resource_counts.push(e.resources.len());
        // Authentication's `service`: the service signed in to.
        self.auth_service.append_option(
            (class == Class::Authentication)
                .then(|| e.service.as_deref().unwrap_or(e.product_name)),
        );
        self.src_ip.append_option(e.src_ip.as_deref());
        self.src_svc_name.append_option(e.src_svc_name.as_deref());
        self.src_name.append_option(e.src_name.as_deref().or(
            (e.src_ip.is_none() && e.src_svc_name.is_none()).then_some(super::map::UNKNOWN),
        ));
        self.user_agent.append_option(e.user_agent.as_deref());
        self.provider.append_value(e.provider);
        self.region.append_option(e.region.as_deref());
        self.account.append_option(e.account.as_deref());
        for (k, v) in e.unmapped_text(p.raw) {
            self.unmapped.keys().append_value(k);
            self.unmapped.values().append_value(v);
        }
        self.unmapped.append(!e.unmapped.is_empty())?;
        self.raw.append_value(p.raw);
        self.event_id.append_value(p.event_id);
        self.origin.append_value(p.origin);
        self.sequence.append_value(p.sequence);
        self.index.append_value(p.index);
        self.leaf.append_value(p.leaf_hex);
        self.root.append_value(&p.archive.root_hex);
        self.checkpoint
            .append_value(&p.archive.checkpoint_sha256_hex);
        self.signer.append_value(&p.archive.signer_fingerprint);
        self.verification.append_value(p.archive.verification);
        self.normalization.append_value(&p.archive.normalization);
        self.source.append_option(p.source);
        self.category.append_option(p.category);
        self.outcome.append_option(p.outcome);
        self.time_known.append_value(p.time_known);
        self.rows += 1;
        self.bytes += 512 + 2 * p.raw.len() + e.message.len();
        Ok(())
    }

    /// The record batch of the rows appended (any mix of classes: the schema is the same).
    pub fn finish(self) -> Result<RecordBatch, ArrowError> {
        let n = self.rows;
        let constant = |v: &str| {
            let mut b = StringBuilder::with_capacity(n, v.len() * n);
            b.append_value_n(v, n);
            Arc::new(b.finish()) as ArrayRef
        };
        let product = structure(
            Fields::from(vec![s("name"), s("vendor_name")]),
            vec![done(self.product_name), done(self.vendor_name)],
            None,
        )?;
        let profile_values = {
            let mut b = StringBuilder::with_capacity(2 * n, 13 * n);
            for _ in 0..n {
                b.append_value("cloud");
                b.append_value("datetime");
            }
            Arc::new(b.finish()) as ArrayRef
        };
        let profiles: ArrayRef = Arc::new(ListArray::try_new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            OffsetBuffer::from_lengths(std::iter::repeat_n(2, n)),
            profile_values,
            None,
        )?);
        let metadata = structure(
            metadata_fields(),
            vec![
                constant(OCSF_VERSION),
                done(self.metadata_uid),
                done(self.log_name),
                product,
                profiles,
            ],
            None,
        )?;
        let actor = structure(
            Fields::from(vec![Field::new(
                "user",
                DataType::Struct(user_fields()),
                true,
            )]),
            vec![self.actor.finish()?],
            None,
        )?;
        let api = structure(
            api_fields(),
            vec![
                done(self.operation),
                single("name", self.api_service)?,
                single("uid", self.request_uid)?,
                done(self.api_version),
            ],
            None,
        )?;
        let resources = {
            let values = StructArray::try_new(
                resource_fields(),
                vec![
                    done(self.resource_name),
                    done(self.resource_type),
                    done(self.resource_uid),
                    done(self.resource_namespace),
                ],
                None,
            )?;
            let valid: Vec<bool> = self.resource_counts.iter().map(|c| *c > 0).collect();
            Arc::new(ListArray::try_new(
                Arc::new(Field::new(
                    "item",
                    DataType::Struct(resource_fields()),
                    true,
                )),
                OffsetBuffer::from_lengths(self.resource_counts.iter().copied()),
                Arc::new(values),
                Some(NullBuffer::from(valid)),
            )?) as ArrayRef
        };
        let src_endpoint = structure(
            endpoint_fields(),
            vec![
                done(self.src_ip),
                done(self.src_svc_name),
                done(self.src_name),
            ],
            None,
        )?;
        let cloud = structure(
            cloud_fields(),
            vec![
                done(self.provider),
                done(self.region),
                single("uid", self.account)?,
            ],
            None,
        )?;
        let mut unmapped = self.unmapped;
        let mut time = self.time;
        let times = time.finish();
        let mut time_known = self.time_known;
        let columns: Vec<ArrayRef> = vec![
            Arc::new({ self.class_uid }.finish()),
            done(self.class_name),
            Arc::new({ self.category_uid }.finish()),
            done(self.category_name),
            Arc::new({ self.activity_id }.finish()),
            done(self.activity_name),
            Arc::new({ self.type_uid }.finish()),
            done(self.type_name),
            Arc::new(Int32Array::from(vec![1; n])),
            constant("Informational"),
            Arc::new({ self.status_id }.finish()),
            done(self.status),
            done(self.status_code),
            done(self.status_detail),
            Arc::new(times.clone()),
            Arc::new(
                TimestampMillisecondArray::new(times.values().clone(), None).with_timezone("UTC"),
            ),
            done(self.message),
            metadata,
            actor,
            self.user.finish()?,
            api,
            resources,
            single("name", self.auth_service)?,
            src_endpoint,
            single("user_agent", self.user_agent)?,
            cloud,
            Arc::new(unmapped.finish()),
            done(self.raw),
            done(self.event_id),
            done(self.origin),
            Arc::new({ self.sequence }.finish()),
            Arc::new({ self.index }.finish()),
            done(self.leaf),
            done(self.root),
            done(self.checkpoint),
            done(self.signer),
            done(self.verification),
            done(self.normalization),
            done(self.source),
            done(self.category),
            done(self.outcome),
            Arc::new(time_known.finish()),
        ];
        RecordBatch::try_new(schema(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's settings name columns by their Parquet path and ignore a path that names none: each of these
    /// must be a column of the files.
    #[test]
    fn every_unique_column_is_a_parquet_column() {
        let parquet = parquet::arrow::ArrowSchemaConverter::new()
            .convert(&schema())
            .unwrap();
        let paths: Vec<String> = parquet
            .columns()
            .iter()
            .map(|c| c.path().string())
            .collect();
        for column in UNIQUE_COLUMNS {
            assert!(paths.iter().any(|p| p == column), "{column} in {paths:?}");
        }
    }
}
