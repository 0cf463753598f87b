//! What the page in the window may ask of the app, read from the access control list the app runs with
//! (`auditlens_app::context()`, the very context `run` hands to Tauri) through the check Tauri makes before every
//! call from the web view (`RuntimeAuthority::resolve_access`, which refuses a call it returns `None` for).
//!
//! The page may listen to events and call the app's commands; it may never emit an event, so no page (and no script
//! injected into one) can fake the `tauri://drag-drop` event that imports the paths it names: only a real drop on
//! the window produces it (the end-to-end tests drop files for real, `tests/e2e/drag_source.py`, and check in the
//! built app that the page's emit is refused). Nothing grants more in another build: no environment variable,
//! argument or cargo feature touches the access control list, so the release build and the `.deb`, made from these
//! sources with the same features, allow exactly what this debug build allows.

use tauri::ipc::Origin;

/// Whether the page of `window` (loaded from the app's own files) may call `command`.
fn allowed(command: &str, window: &str) -> bool {
    let mut context = auditlens_app::context();
    context
        .runtime_authority_mut()
        .resolve_access(command, window, window, &Origin::Local)
        .is_some()
}

/// The check itself answers: the main window may listen to events (drops, progress) and call the app's commands.
#[test]
fn the_main_window_may_listen_to_events_and_call_the_app_commands() {
    assert!(allowed("plugin:event|listen", "main"));
    assert!(allowed("plugin:event|unlisten", "main"));
    assert!(allowed("import_archives", "main"));
    assert!(allowed("search", "main"));
    // Nothing is granted to a window the app does not have.
    assert!(!allowed("plugin:event|listen", "other"));
    assert!(!allowed("import_archives", "other"));
}

/// Refused too: emitting to one target, and anything for a page that was not loaded from the app.
#[test]
fn the_page_cannot_emit_to_a_target_and_a_remote_page_can_do_nothing() {
    assert!(!allowed("plugin:event|emit_to", "main"));
    let mut context = auditlens_app::context();
    let remote = Origin::Remote {
        url: "https://example.com/".parse().unwrap(),
    };
    for command in [
        "plugin:event|emit",
        "plugin:event|emit_to",
        "plugin:event|listen",
        "import_archives",
    ] {
        assert!(
            context
                .runtime_authority_mut()
                .resolve_access(command, "main", "main", &remote)
                .is_none(),
            "{command} allowed from a remote page"
        );
    }
}

/// `plugin:event|emit` is the call a page makes to emit `tauri://drag-drop` (`emit` of `@tauri-apps/api/event`, or
/// `window.__TAURI_INTERNALS__.invoke`): refused in the main window and in any other.
#[test]
fn the_page_cannot_emit_an_event() {
    assert!(!allowed("plugin:event|emit", "main"));
    assert!(!allowed("plugin:event|emit", "other"));
}
