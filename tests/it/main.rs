//! The integration tests, linked into one binary (`cargo test --test it`; filter by module, e.g.
//! `cargo test --test it memory::`). Shared helpers are in `common.rs`.

mod common;

mod bundle;
mod bundle_cli;
mod bundle_receipt;
mod check_hostile;
mod cli;
mod cli_contract;
mod cloudtrail_bundle;
mod cloudtrail_digest;
mod cloudtrail_import;
mod confirm;
mod coverage;
mod crash;
mod hostile_text;
mod incidents;
mod independent_verifier;
mod lookalike;
mod mapping;
mod memory;
mod merkle_vectors;
mod note_vectors;
mod papers;
mod parquet;
mod query_sql;
mod receive;
mod sorted;
mod sources;
mod stats;
mod store;
mod tamper;
mod text_index;
mod times;
mod trust;
mod trust_app;
mod whose_rules;
