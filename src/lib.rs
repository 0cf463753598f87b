//! The `auditlens` command line, minus its argument parsing: one module per subcommand ([`cmd`]) and all human
//! output ([`render`]). src/main.rs holds the clap definitions and the dispatch. It is a library (crate
//! `auditlens_cli`) so that the integration tests in tests/ can check the human rendering directly.
//!
//! Exit codes: 0 success, 1 verification failure, 2 usage or I/O error ([`cmd::Fatal`]).

pub mod cmd;
pub mod render;
