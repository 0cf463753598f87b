//! The commands the app declares (`auditlens_app::api::COMMANDS`, the list its handlers and the TypeScript
//! `Commands` type come from) are exactly the commands `build.rs` gives a permission (`COMMANDS`, read from its text:
//! the build script cannot use the crate) and exactly the ones `capabilities/main.json` allows the window
//! (`allow-<command>`). A command missing from either would be refused at run time, an extra one is a permission
//! for nothing.

use std::collections::BTreeSet;
use std::path::Path;

fn declared() -> BTreeSet<String> {
    auditlens_app::api::COMMANDS
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// The strings of `const COMMANDS: &[&str] = &[ ... ];` in build.rs.
fn build_rs_commands() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find("const COMMANDS: &[&str] = &[")
        .expect("build.rs declares `const COMMANDS: &[&str] = &[...]`");
    let list = &text[start..];
    let list = &list[list.find('[').unwrap() + 1..];
    let list = &list[list.find('[').unwrap() + 1..list.find("];").unwrap()];
    list.split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The app's own commands the capability allows: `allow-db-status` is `db_status` (plugin permissions, with a
/// `:`, are not the app's).
fn capability_commands() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/main.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["permissions"]
        .as_array()
        .expect("capabilities/main.json has a permissions list")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .map(|p| {
            p.strip_prefix("allow-")
                .unwrap_or_else(|| panic!("{p}: only allow-<command> permissions are expected"))
                .replace('-', "_")
        })
        .collect()
}

/// Fails naming each command missing from, or extra in, `place`, as `place` spells it.
fn assert_same(place: &str, found: &BTreeSet<String>, spell: fn(&str) -> String) {
    let declared = declared();
    let missing: Vec<_> = declared.difference(found).map(|c| spell(c)).collect();
    let extra: Vec<_> = found.difference(&declared).map(|c| spell(c)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{place} does not match the command list of src-tauri/src/api.rs:\n  \
         missing from {place} (add them): {missing:?}\n  \
         extra in {place} (no such command in api.rs): {extra:?}"
    );
}

#[test]
fn build_rs_gives_a_permission_to_exactly_the_declared_commands() {
    assert_same("build.rs COMMANDS", &build_rs_commands(), |c| c.to_string());
}

#[test]
fn the_capability_allows_exactly_the_declared_commands() {
    assert_same("capabilities/main.json", &capability_commands(), |c| {
        format!("allow-{}", c.replace('_', "-"))
    });
}

#[test]
fn the_main_window_may_call_every_declared_command() {
    let mut context = auditlens_app::context();
    for command in auditlens_app::api::COMMANDS {
        assert!(
            context
                .runtime_authority_mut()
                .resolve_access(command, "main", "main", &tauri::ipc::Origin::Local)
                .is_some(),
            "{command} is declared in api.rs but the main window may not call it"
        );
    }
}
