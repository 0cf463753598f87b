//! `auditlens keygen`: an Ed25519 signing key, DIR/NAME.key (private, mode 0600) and DIR/NAME.pub.

use std::path::Path;
use std::process::ExitCode;

use auditlens::note::SignerKey;

use super::Fatal;
use crate::render;

pub fn run(name: &str, out: &Path) -> Result<ExitCode, Fatal> {
    let key = SignerKey::generate(name)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let key_path = out.join(format!("{name}.key"));
    let pub_path = out.join(format!("{name}.pub"));
    for p in [&key_path, &pub_path] {
        if p.exists() {
            return Err(Fatal(format!(
                "{} already exists; not overwriting a key",
                p.display()
            )));
        }
    }
    write_private(
        &key_path,
        format!("{}\n", key.to_string_private()).as_bytes(),
    )?;
    std::fs::write(&pub_path, format!("{}\n", key.verifier()))
        .map_err(|e| format!("{}: {e}", pub_path.display()))?;
    render::keygen(&key_path, &pub_path, &key);
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Fatal> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}
