//! AuditLens benchmarks (`auditlens bench`, `make bench`) and the generator of realistic audit events they seal,
//! verify and import. Kept out of the `auditlens` library: nothing in the product depends on them. Tests that
//! need many events take this crate as a dev-dependency.
//!
//! - [`generate`]: deterministic Kubernetes audit events and CloudTrail records in the shapes of the real fixtures.
//! - [`bench`](mod@bench): the archive section (seal and verify against plain SHA-256 over the same bytes) and the tables.
//! - [`bench_store`]: the store section (import, queries against a raw scan, dashboards).
//! - [`bench_cloudtrail`]: an AWS CloudTrail export verified and imported, against gunzip + SHA-256 of its logs.

pub mod bench;
pub mod bench_cloudtrail;
pub mod bench_store;
pub mod generate;
