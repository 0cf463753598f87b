//! The TypeScript types in ui/src/bindings are generated from the Rust types (ts-rs), never written by hand. This
//! test regenerates them into a temporary directory and fails when the committed files differ; run it with
//! `AUDITLENS_UPDATE_BINDINGS=1` to write them after changing a type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "ts") {
                out.insert(
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn typescript_bindings_match_the_rust_types() {
    let committed_dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
    let tmp = tempfile::tempdir().unwrap();
    // serde_json writes 64-bit integers as JSON numbers: they are `number` on the TypeScript side.
    let cfg = ts_rs::Config::new()
        .with_large_int("number")
        .with_out_dir(tmp.path());
    auditlens_app::contract::export_all(&cfg).unwrap();
    let generated = read_dir(tmp.path());
    assert!(
        generated.contains_key("ImportEvent.ts"),
        "{:?}",
        generated.keys()
    );
    if std::env::var("AUDITLENS_UPDATE_BINDINGS").as_deref() == Ok("1") {
        if committed_dir.exists() {
            for name in read_dir(&committed_dir).keys() {
                std::fs::remove_file(committed_dir.join(name)).unwrap();
            }
        }
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
        return;
    }
    let committed = read_dir(&committed_dir);
    assert!(
        committed == generated,
        "ui/src/bindings is out of date with the Rust types; regenerate it with \
         `AUDITLENS_UPDATE_BINDINGS=1 cargo test -p auditlens-app --features custom-protocol --test it bindings`"
    );
}
