//! The IPC surface, declared once: every command the window may call, with its arguments (named as in its
//! function in [`crate::ipc`]) and its result. `with_commands!` hands the list to a macro of its caller's; from it
//! come the handler list [`crate::run`] gives Tauri ([`handler`]), the command names the access-control tests
//! compare with `build.rs` and `capabilities/main.json` ([`COMMANDS`]), and the TypeScript `Commands` type the UI
//! calls them through ([`typescript`], written to `ui/src/bindings/Commands.ts` with the other bindings).
//!
//! Adding a command: a line here, its function in `ipc.rs`, and its name in `build.rs` (the test `ipc_surface`
//! names what is missing where; `capabilities/main.json` grants it with `allow-<name>`).

use std::collections::BTreeSet;
use std::marker::PhantomData;

use ts_rs::{Dependency, TS, TypeVisitor};

#[allow(unused_imports)] // the types of the list, for the expansions in this module
use {
    crate::contract::{
        ActionLog, AnalyticsExport, ArchiveDetail, ArchivesView, AuditCoverage, AuditorKey,
        CheckEvent, CloudTrailCheck, DbStatus, EngagementsView, ExportPreview, ExportResult,
        ExportSelection, FileKind, IdentitiesView, ImportEvent, JobId, OpenedBundle, ResultsExport,
        Settings, Startup, TrustOutcome, UntrustOutcome,
    },
    auditlens::keyring::TrustedKey,
    auditlens::papers::{Annotations, Change, LogCheck, PapersView},
    auditlens::store::coverage::AuditPeriod,
    auditlens::store::hints::Hint,
    auditlens::store::histogram::Histogram,
    auditlens::store::import::{CloudTrailImport, CloudTrailStep, Demotion},
    auditlens::store::incidents::Incident,
    auditlens::store::renormalize::Renormalized,
    auditlens::store::search::{EventDetail, SearchPage},
    auditlens::store::sorted::Sort,
    auditlens::store::stats::{Access, Deployments, Overview, Scope, WorkingHours},
    tauri::ipc::Channel,
};

/// Calls `$callback!` with every command as `name(arg: Type, ...) -> Result;`: the arguments as the window sends
/// them (the app state is not one), the result as it receives it (a command's `Err` is always an `AppError`).
macro_rules! with_commands {
    ($callback:ident) => {
        $callback! {
            startup() -> Startup;
            db_status() -> DbStatus;
            choose_database(path: Option<String>) -> DbStatus;
            save_settings(settings: Settings) -> Settings;
            keys() -> Vec<TrustedKey>;
            trust_key(
                key: String,
                origins: Option<String>,
                valid_after: Option<String>,
                valid_before: Option<String>
            ) -> TrustOutcome;
            trust_key_file(path: String) -> TrustOutcome;
            untrust_key(fingerprint: String) -> UntrustOutcome;
            untrust_grant(grant: TrustedKey) -> UntrustOutcome;
            demote_untrusted_archives() -> Vec<Demotion>;
            import_archives(paths: Vec<String>, on_event: Channel<ImportEvent>) -> JobId;
            receive_files(paths: Vec<String>, origin: String, on_event: Channel<ImportEvent>) -> JobId;
            check_database(on_event: Channel<CheckEvent>) -> JobId;
            cancel_job(job: JobId) -> bool;
            archives() -> ArchivesView;
            archive_detail(id: i64) -> ArchiveDetail;
            renormalize_archive(id: i64, kind: String) -> Renormalized;
            incidents(include_reviewed: bool) -> Vec<Incident>;
            review_incident(id: i64, note: String) -> Incident;
            search(query: String, limit: u32, after: Option<String>, sort: Option<Sort>, from_end: Option<bool>, offset: Option<u32>) -> SearchPage;
            count(query: String) -> u64;
            hints(query: String) -> Vec<Hint>;
            histogram(query: String, buckets: u32) -> Histogram;
            event(id: String) -> EventDetail;
            overview(scope: Scope, working_hours: WorkingHours) -> Overview;
            deployments(scope: Scope, working_hours: WorkingHours) -> Deployments;
            access(scope: Scope, working_hours: WorkingHours) -> Access;
            auditor_key() -> Option<AuditorKey>;
            create_auditor_key(name: String) -> AuditorKey;
            choose_auditor_key(path: String) -> AuditorKey;
            export_preview(selection: ExportSelection) -> ExportPreview;
            export_bundle(selection: ExportSelection, purpose: String, out: String) -> ExportResult;
            export_parquet(query: String, out: String) -> AnalyticsExport;
            export_results(query: String, out: String) -> ResultsExport;
            open_bundle(path: String) -> OpenedBundle;
            file_kinds(paths: Vec<String>) -> Vec<FileKind>;
            verify_cloudtrail(
                path: String,
                keys: Vec<String>,
                signatures: Option<String>,
                accounts: Vec<String>
            ) -> CloudTrailCheck;
            import_cloudtrail(
                path: String,
                keys: Vec<String>,
                signatures: Option<String>,
                accounts: Vec<String>,
                on_progress: Channel<CloudTrailStep>
            ) -> CloudTrailImport;
            audit_coverage() -> AuditCoverage;
            set_audit_period(period: Option<AuditPeriod>) -> AuditCoverage;
            annotations(id: String) -> Annotations;
            annotate(id: String, change: Change) -> Annotations;
            working_papers() -> PapersView;
            save_search(name: String, query: String) -> PapersView;
            delete_saved_search(name: String) -> PapersView;
            remember_query(query: String) -> PapersView;
            action_log() -> ActionLog;
            export_action_log(out: String) -> LogCheck;
            engagements() -> EngagementsView;
            open_engagement(folder: String) -> EngagementsView;
            create_engagement(
                folder: String,
                name: String,
                client: String,
                period: Option<AuditPeriod>
            ) -> EngagementsView;
            session_keys() -> Vec<TrustedKey>;
            save_session_key(fingerprint: String) -> TrustOutcome;
            identities() -> IdentitiesView;
            set_alias(actor: String, person: String) -> IdentitiesView;
            remove_alias(actor: String) -> IdentitiesView;
        }
    };
}

/// The handler of every command, for `tauri::Builder::invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    macro_rules! handlers {
        ($($name:ident($($arg:ident: $ty:ty),* $(,)?) -> $res:ty;)*) => {
            tauri::generate_handler![$(crate::ipc::$name),*]
        };
    }
    with_commands!(handlers)
}

macro_rules! names {
    ($($name:ident($($arg:ident: $ty:ty),* $(,)?) -> $res:ty;)*) => {
        &[$(stringify!($name)),*]
    };
}

/// The name of every command, in the order of the list.
pub const COMMANDS: &[&str] = with_commands!(names);

/// One argument or result of a command, in TypeScript.
struct TsType {
    ts: String,
    /// An `Option`: the window may leave the argument out (Tauri reads it as `None`).
    optional: bool,
    /// `(name, module)` of every type it names.
    imports: BTreeSet<(String, String)>,
}

/// A command's argument type, told apart at compile time (autoref specialization): a [`Channel`] is the
/// `Channel` class of `@tauri-apps/api/core`, anything else its ts-rs type.
struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    fn new() -> Self {
        Probe(PhantomData)
    }
}

trait ChannelArg {
    fn ts_type(&self, cfg: &ts_rs::Config) -> TsType;
}

impl<T: TS + 'static> ChannelArg for Probe<Channel<T>> {
    fn ts_type(&self, cfg: &ts_rs::Config) -> TsType {
        let mut t = plain::<T>(cfg);
        t.ts = format!("Channel<{}>", t.ts);
        t.imports
            .insert(("Channel".into(), "@tauri-apps/api/core".into()));
        t
    }
}

trait PlainArg {
    fn ts_type(&self, cfg: &ts_rs::Config) -> TsType;
}

impl<T: TS + 'static + ?Sized> PlainArg for &Probe<T> {
    fn ts_type(&self, cfg: &ts_rs::Config) -> TsType {
        plain::<T>(cfg)
    }
}

fn plain<T: TS + 'static + ?Sized>(cfg: &ts_rs::Config) -> TsType {
    struct Imports<'a>(&'a ts_rs::Config, BTreeSet<(String, String)>);
    impl TypeVisitor for Imports<'_> {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            if let Some(d) = Dependency::from_ty::<T>(self.0) {
                let module = d.output_path.with_extension("");
                let module = format!("./{}", module.display());
                let ext = self.0.import_extension().map(|e| format!(".{e}"));
                self.1
                    .insert((d.ts_name, module + ext.as_deref().unwrap_or("")));
            }
            T::visit_generics(self);
        }
    }
    let mut imports = Imports(cfg, BTreeSet::new());
    imports.visit::<T>();
    TsType {
        ts: T::name(cfg),
        optional: T::IS_OPTION,
        imports: imports.1,
    }
}

/// A command's argument name as the window sends it: Tauri's default, lower camel case (`on_event` → `onEvent`).
fn camel_case(name: &str) -> String {
    let mut out = String::new();
    for (i, part) in name.split('_').enumerate() {
        let mut chars = part.chars();
        match chars.next() {
            Some(c) if i > 0 => out.extend(c.to_uppercase().chain(chars)),
            Some(c) => out.extend(std::iter::once(c).chain(chars)),
            None => {}
        }
    }
    out
}

struct CommandTs {
    name: &'static str,
    args: Vec<(&'static str, TsType)>,
    result: TsType,
}

macro_rules! command_types {
    ($($name:ident($($arg:ident: $ty:ty),* $(,)?) -> $res:ty;)*) => {
        |cfg: &ts_rs::Config| -> Vec<CommandTs> {
            vec![$(CommandTs {
                name: stringify!($name),
                args: vec![$((stringify!($arg), (&Probe::<$ty>::new()).ts_type(cfg))),*],
                result: plain::<$res>(cfg),
            }),*]
        }
    };
}

/// `Commands.ts`: the TypeScript type `Commands`, each command's name to `[arguments, result]`, as ts-rs writes the
/// types it names (`cfg` as for the other bindings).
pub fn typescript(cfg: &ts_rs::Config) -> String {
    let commands = with_commands!(command_types)(cfg);
    let mut imports = BTreeSet::new();
    let mut body = String::new();
    for c in &commands {
        imports.extend(c.result.imports.iter().cloned());
        let args = if c.args.is_empty() {
            "Record<string, never>".to_string()
        } else {
            let fields: Vec<String> = c
                .args
                .iter()
                .map(|(name, t)| {
                    imports.extend(t.imports.iter().cloned());
                    let optional = if t.optional { "?" } else { "" };
                    format!("{}{optional}: {}", camel_case(name), t.ts)
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        };
        body.push_str(&format!("  {}: [{args}, {}],\n", c.name, c.result.ts));
    }
    let mut out = String::from(
        "// This file was generated by [ts-rs](https://github.com/Aleph-Alpha/ts-rs). Do not edit this file manually.\n",
    );
    // External modules first, then ours, each sorted.
    let mut imports: Vec<_> = imports.into_iter().collect();
    imports.sort_by_key(|(name, module)| (!module.starts_with('@'), module.clone(), name.clone()));
    for (name, module) in imports {
        out.push_str(&format!("import type {{ {name} }} from \"{module}\";\n"));
    }
    out.push_str(
        "\n/**\n * Every command of the app (src-tauri/src/api.rs): its arguments, as `invoke` takes them, and its result.\n */\n",
    );
    out.push_str("export type Commands = {\n");
    out.push_str(&body);
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_names_are_lower_camel_case_as_tauri_reads_them() {
        assert_eq!(camel_case("on_event"), "onEvent");
        assert_eq!(camel_case("valid_after"), "validAfter");
        assert_eq!(camel_case("path"), "path");
    }

    #[test]
    fn every_command_is_listed_once() {
        let unique: BTreeSet<_> = COMMANDS.iter().collect();
        assert_eq!(unique.len(), COMMANDS.len(), "{COMMANDS:?}");
    }
}
