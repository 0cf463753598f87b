//! `auditlens export-parquet`: the store's verified events as OCSF 1.1.0 Parquet files in Amazon Security Lake's
//! layout, with a manifest signed by the auditor (docs/ocsf-export.md; loading them: docs/scale-out.md).
//!
//! [`map`] turns one event into OCSF terms; [`columns`] holds the Arrow schema and builds record batches;
//! [`export`] selects, checks and streams the events into the partition files and signs the manifest.

pub mod columns;
pub mod export;
pub use crate::json;
pub mod map;

pub use export::{
    ExportProgress, PARQUET_MANIFEST, PARQUET_MANIFEST_HEADER, PARQUET_MANIFEST_JSON,
    ParquetExportError, ParquetExportOptions, ParquetExportSummary, export_parquet,
};
pub use map::{Class, OCSF_VERSION};
