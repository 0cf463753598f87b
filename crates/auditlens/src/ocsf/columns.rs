//! The export's Arrow schema (docs/ocsf-export.md, "Columns") and the record batches built from rows.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Int64Array, ListArray, RecordBatch, StructArray, TimestampMillisecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use super::map::{Class, OCSF_VERSION, OcsfEvent, Resource, User};

/// One exported row: the OCSF event and its provenance.
#[derive(Debug, Clone)]
pub struct Row {
    /// Boxed: a row is moved through a channel and partition buffers, and an event is large.
    pub ocsf: Box<OcsfEvent>,
    /// Milliseconds since the epoch (the archive's sealing time when the event has none).
    pub time_ms: i64,
    pub time_known: bool,
    pub raw: String,
    pub event_id: String,
    pub origin: Arc<str>,
    pub sequence: i64,
    pub index: i64,
    pub leaf_hex: String,
    pub archive: Arc<ArchiveColumns>,
    /// The event's source as the store counts it (`auditlens stats` by source).
    pub source: Option<String>,
    pub category: Option<String>,
    pub outcome: Option<String>,
}

impl Row {
    /// Bytes this row holds in memory, roughly (for the writer's byte budget).
    pub fn weight(&self) -> usize {
        512 + self.raw.len()
            + self.ocsf.message.len()
            + self
                .ocsf
                .unmapped
                .iter()
                .map(|(k, _)| k.len() + 32)
                .sum::<usize>()
    }
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

/// Columns (Parquet paths) whose value differs on every row.
pub const UNIQUE_COLUMNS: &[&str] = &[
    RAW_DATA,
    "message",
    "metadata.uid",
    "api.request.uid",
    "auditlens_event_id",
    "auditlens_leaf_hash",
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
        Field::new("auditlens_event_id", DataType::Utf8, false),
        Field::new("auditlens_origin", DataType::Utf8, false),
        Field::new("auditlens_sequence", DataType::Int64, false),
        Field::new("auditlens_event_index", DataType::Int64, false),
        Field::new("auditlens_leaf_hash", DataType::Utf8, false),
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

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn i32s(values: impl Iterator<Item = i32>) -> ArrayRef {
    let mut b = Int32Builder::new();
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

fn i64s(values: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

/// A struct column from its children, null where `valid` is false (`None`: never null).
fn structure(
    fields: Fields,
    children: Vec<ArrayRef>,
    valid: Option<Vec<bool>>,
) -> Result<ArrayRef, ArrowError> {
    let nulls = valid.map(NullBuffer::from);
    Ok(Arc::new(StructArray::try_new(fields, children, nulls)?))
}

/// A `{uid}` struct, null where the uid is.
fn uid_struct(uids: &[Option<&str>]) -> Result<ArrayRef, ArrowError> {
    structure(
        Fields::from(vec![s("uid")]),
        vec![strings(uids.iter().copied())],
        Some(uids.iter().map(Option::is_some).collect()),
    )
}

fn users(list: &[Option<&User>]) -> Result<ArrayRef, ArrowError> {
    let field = |f: fn(&User) -> Option<&str>| strings(list.iter().map(|u| u.and_then(f)));
    let accounts: Vec<Option<&str>> = list
        .iter()
        .map(|u| u.and_then(|u| u.account_uid.as_deref()))
        .collect();
    structure(
        user_fields(),
        vec![
            field(|u| u.name.as_deref()),
            field(|u| u.uid.as_deref()),
            field(|u| u.kind.as_deref()),
            uid_struct(&accounts)?,
        ],
        Some(list.iter().map(Option::is_some).collect()),
    )
}

fn resources(rows: &[Row]) -> Result<ArrayRef, ArrowError> {
    let all: Vec<&Resource> = rows.iter().flat_map(|r| r.ocsf.resources.iter()).collect();
    let field = |f: fn(&Resource) -> Option<&str>| strings(all.iter().map(|r| f(r)));
    let values = StructArray::try_new(
        resource_fields(),
        vec![
            field(|r| r.name.as_deref()),
            field(|r| r.kind.as_deref()),
            field(|r| r.uid.as_deref()),
            field(|r| r.namespace.as_deref()),
        ],
        None,
    )?;
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(|r| r.ocsf.resources.len()));
    let valid: Vec<bool> = rows.iter().map(|r| !r.ocsf.resources.is_empty()).collect();
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new(
            "item",
            DataType::Struct(resource_fields()),
            true,
        )),
        offsets,
        Arc::new(values),
        Some(NullBuffer::from(valid)),
    )?))
}

/// The record batch of `rows` (all of one class, or any mix: the schema is the same).
pub fn batch(rows: &[Row]) -> Result<RecordBatch, ArrowError> {
    let o = |f: fn(&OcsfEvent) -> Option<&str>| strings(rows.iter().map(|r| f(&r.ocsf)));
    let text = |f: fn(&Row) -> &str| strings(rows.iter().map(|r| Some(f(r))));
    let n = rows.len();

    let product = structure(
        Fields::from(vec![s("name"), s("vendor_name")]),
        vec![
            strings(rows.iter().map(|r| Some(r.ocsf.product_name))),
            strings(rows.iter().map(|r| Some(r.ocsf.vendor_name))),
        ],
        None,
    )?;
    let profile_values = strings((0..n).flat_map(|_| [Some("cloud"), Some("datetime")]));
    let profiles: ArrayRef = Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", DataType::Utf8, true)),
        OffsetBuffer::from_lengths(std::iter::repeat_n(2, n)),
        profile_values,
        None,
    )?);
    let metadata = structure(
        metadata_fields(),
        vec![
            strings(std::iter::repeat_n(Some(OCSF_VERSION), n)),
            text(|r| &r.event_id),
            text(|r| &r.origin),
            product,
            profiles,
        ],
        None,
    )?;
    let actor_users: Vec<Option<&User>> = rows.iter().map(|r| Some(&r.ocsf.actor)).collect();
    let actor = structure(
        Fields::from(vec![Field::new(
            "user",
            DataType::Struct(user_fields()),
            true,
        )]),
        vec![users(&actor_users)?],
        None,
    )?;
    let user_list: Vec<Option<&User>> = rows.iter().map(|r| r.ocsf.user.as_ref()).collect();
    let services: Vec<Option<&str>> = rows.iter().map(|r| r.ocsf.service.as_deref()).collect();
    let requests: Vec<Option<&str>> = rows.iter().map(|r| r.ocsf.request_uid.as_deref()).collect();
    let api = structure(
        api_fields(),
        vec![
            strings(rows.iter().map(|r| Some(r.ocsf.operation.as_str()))),
            structure(
                Fields::from(vec![s("name")]),
                vec![strings(services.iter().copied())],
                Some(services.iter().map(Option::is_some).collect()),
            )?,
            uid_struct(&requests)?,
            o(|e| e.api_version.as_deref()),
        ],
        None,
    )?;
    let no_caller: Vec<Option<&str>> = rows
        .iter()
        .map(|r| {
            (r.ocsf.src_ip.is_none() && r.ocsf.src_svc_name.is_none())
                .then_some(super::map::UNKNOWN)
        })
        .collect();
    let src_endpoint = structure(
        endpoint_fields(),
        vec![
            o(|e| e.src_ip.as_deref()),
            o(|e| e.src_svc_name.as_deref()),
            strings(no_caller.iter().copied()),
        ],
        None,
    )?;
    // Authentication's `service`: the service signed in to.
    let auth_services: Vec<Option<&str>> = rows
        .iter()
        .map(|r| {
            (r.ocsf.class == Class::Authentication)
                .then(|| r.ocsf.service.as_deref().unwrap_or(r.ocsf.product_name))
        })
        .collect();
    let service = structure(
        Fields::from(vec![s("name")]),
        vec![strings(auth_services.iter().copied())],
        Some(auth_services.iter().map(Option::is_some).collect()),
    )?;
    let unmapped = {
        let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for r in rows {
            for (k, v) in r.ocsf.unmapped_text(&r.raw) {
                b.keys().append_value(k);
                b.values().append_value(v);
            }
            b.append(!r.ocsf.unmapped.is_empty())?;
        }
        Arc::new(b.finish()) as ArrayRef
    };
    let http_request = structure(
        Fields::from(vec![s("user_agent")]),
        vec![o(|e| e.user_agent.as_deref())],
        Some(rows.iter().map(|r| r.ocsf.user_agent.is_some()).collect()),
    )?;
    let accounts: Vec<Option<&str>> = rows.iter().map(|r| r.ocsf.account.as_deref()).collect();
    let cloud = structure(
        cloud_fields(),
        vec![
            strings(rows.iter().map(|r| Some(r.ocsf.provider.as_str()))),
            o(|e| e.region.as_deref()),
            uid_struct(&accounts)?,
        ],
        None,
    )?;
    let classes: Vec<Class> = rows.iter().map(|r| r.ocsf.class).collect();
    let times: Vec<i64> = rows.iter().map(|r| r.time_ms).collect();
    let columns: Vec<ArrayRef> = vec![
        i32s(classes.iter().map(|c| c.uid())),
        strings(classes.iter().map(|c| Some(c.name()))),
        i32s(classes.iter().map(|c| c.category().0)),
        strings(classes.iter().map(|c| Some(c.category().1))),
        i32s(rows.iter().map(|r| r.ocsf.activity_id)),
        strings(rows.iter().map(|r| Some(r.ocsf.activity_name()))),
        i64s(
            rows.iter()
                .map(|r| i64::from(r.ocsf.class.uid()) * 100 + i64::from(r.ocsf.activity_id)),
        ),
        {
            let names: Vec<String> = rows
                .iter()
                .map(|r| format!("{}: {}", r.ocsf.class.name(), r.ocsf.activity_name()))
                .collect();
            strings(names.iter().map(|s| Some(s.as_str())))
        },
        i32s(std::iter::repeat_n(1, n)),
        strings(std::iter::repeat_n(Some("Informational"), n)),
        i32s(rows.iter().map(|r| r.ocsf.status_id)),
        strings(rows.iter().map(|r| Some(r.ocsf.status()))),
        o(|e| e.status_code.as_deref()),
        o(|e| e.status_detail.as_deref()),
        Arc::new(Int64Array::from(times.clone())),
        Arc::new(TimestampMillisecondArray::from(times).with_timezone("UTC")),
        strings(rows.iter().map(|r| Some(r.ocsf.message.as_str()))),
        metadata,
        actor,
        users(&user_list)?,
        api,
        resources(rows)?,
        service,
        src_endpoint,
        http_request,
        cloud,
        unmapped,
        text(|r| &r.raw),
        text(|r| &r.event_id),
        text(|r| &r.origin),
        i64s(rows.iter().map(|r| r.sequence)),
        i64s(rows.iter().map(|r| r.index)),
        text(|r| &r.leaf_hex),
        text(|r| &r.archive.root_hex),
        text(|r| &r.archive.checkpoint_sha256_hex),
        text(|r| &r.archive.signer_fingerprint),
        text(|r| r.archive.verification),
        text(|r| &r.archive.normalization),
        strings(rows.iter().map(|r| r.source.as_deref())),
        strings(rows.iter().map(|r| r.category.as_deref())),
        strings(rows.iter().map(|r| r.outcome.as_deref())),
        {
            let mut b = BooleanBuilder::new();
            for r in rows {
                b.append_value(r.time_known);
            }
            Arc::new(b.finish()) as ArrayRef
        },
    ];
    RecordBatch::try_new(schema(), columns)
}
