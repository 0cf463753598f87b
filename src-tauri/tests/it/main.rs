//! The app's integration tests, in one test binary (one link instead of one per file).

mod acl;
mod bindings;
mod bundles;
mod cloudtrail;
mod commands;
mod dashboards;
mod ipc_surface;
mod receive;
mod support;
mod trust_grants;
