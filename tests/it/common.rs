//! Shared test support: keys, sealing fixture logs with the real `seal`, and rewriting archives entry by entry
//! (with or without re-signing) to build tampered and malformed archives; running the real binary.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use auditlens::archive::{self, ChainLines, Manifest};
use auditlens::checkpoint::Checkpoint;
use auditlens::merkle::{self, RootBuilder};
use auditlens::note::{Note, SignerKey, VerifierKey};
use auditlens::seal::{SealOptions, chain_step, seal};
use auditlens::verify::{self, ArchiveReport, NoSink};
use sha2::{Digest, Sha256};

/// Runs the real `auditlens` binary with `args` and waits for it.
pub fn auditlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditlens"))
        .args(args)
        .output()
        .unwrap()
}

/// The exit code; a child killed by a signal (a crash) fails the test.
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited by a signal (a crash)")
}

/// The standard output of a run that must exit 0 (a test failure showing both outputs otherwise).
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert_eq!(
        code(o),
        0,
        "stdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `auditlens` with `args` and returns its output with the peak resident memory of that one process, in
/// bytes. A child spawned by this test binary starts from the binary's own memory (posix_spawn shares it until
/// exec, and Linux keeps the larger high-water mark across exec), so every test's memory would count. The
/// child is therefore started by a small Python process with fork and exec, and reaped by it with `os.wait4`,
/// whose `ru_maxrss` (KiB on Linux) is written to a file: that is at least Python's own few MB, never this
/// binary's.
pub fn auditlens_peak_rss(args: &[&str]) -> (Output, u64) {
    const WRAPPER: &str = "import os, sys\n\
        pid = os.fork()\n\
        if pid == 0:\n    os.execv(sys.argv[2], sys.argv[2:])\n\
        _, status, usage = os.wait4(pid, 0)\n\
        open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n\
        if os.WIFSIGNALED(status):\n    os.kill(os.getpid(), os.WTERMSIG(status))\n\
        sys.exit(os.WEXITSTATUS(status))\n";
    let report = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new("python3")
        .arg("-c")
        .arg(WRAPPER)
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_auditlens"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 must be installed to measure peak memory");
    let kib: u64 = std::fs::read_to_string(report.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output, kib * 1024)
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub const K8S_LOG: &str = "logs/k8s_audit/audit2rbac/demo.log";
pub const CLOUDTRAIL_LOG: &str = "logs/aws_cloudtrail/awsdocs/awsdocs_examples_Records.json";

pub fn key(name: &str) -> SignerKey {
    SignerKey::generate(name).unwrap()
}

/// Seals `inputs` (fixture-relative or absolute) into `dir/out`.
pub fn seal_to(
    dir: &Path,
    out: &str,
    key: &SignerKey,
    origin: &str,
    prev: Option<&Path>,
    inputs: &[PathBuf],
) -> PathBuf {
    let out = dir.join(out);
    seal(&SealOptions {
        key,
        origin,
        prev,
        format: None,
        mapping: None,
        out: &out,
        inputs,
        receive: false,
    })
    .unwrap();
    out
}

/// Writes JSON Lines to a file and returns its path.
pub fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    p
}

/// Runs the independent verifier (`tests/independent/verify_archive.py`, Python standard library only) over
/// `archives` with `trusted` passed as key strings. Exit 0: every archive verified under a trusted key and the
/// set continuous; 1: not; 2: usage.
pub fn independent_verify(trusted: &[VerifierKey], archives: &[&Path]) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_archive.py"));
    for k in trusted {
        cmd.arg("--trust").arg(k.to_string());
    }
    cmd.arg("--")
        .args(archives)
        .output()
        .expect("python3 must be installed to run the independent verifier")
}

pub fn verify_with(path: &Path, trusted: &[VerifierKey]) -> ArchiveReport {
    verify::verify_archive(path, trusted, &mut NoSink).unwrap()
}

/// All entries of a ZIP, in central-directory order.
pub fn read_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

pub fn write_entries(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(name.as_str(), opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

pub fn entry<'a>(entries: &'a mut [(String, Vec<u8>)], name: &str) -> &'a mut Vec<u8> {
    &mut entries.iter_mut().find(|(n, _)| n == name).unwrap().1
}

/// Copies `src` to `dst` with `f` applied to its entries (no re-signing).
pub fn rewrite(src: &Path, dst: &Path, f: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> PathBuf {
    let mut entries = read_entries(src);
    f(&mut entries);
    write_entries(dst, &entries);
    dst.to_path_buf()
}

/// Rebuilds leaves, manifest counts/sizes, checkpoint and signature from the (edited) event entries, signing
/// with `key`: an archive whose signature is valid over whatever the events now are. Used to reach the checks
/// behind the signature (byte rules, sizes) and to make "re-signed by another key" archives.
pub fn reseal_entries(entries: &mut [(String, Vec<u8>)], key: &SignerKey) {
    let mut manifest: Manifest = serde_json::from_slice(entry(entries, archive::MANIFEST)).unwrap();
    let note = Note::parse(entry(entries, archive::CHECKPOINT)).unwrap();
    let old_cp = Checkpoint::parse(&note.text).unwrap();
    let old_chain = ChainLines::from_checkpoint(&old_cp).unwrap();
    let mut leaves = Vec::new();
    let mut root = RootBuilder::new();
    let mut chain = old_chain.chain_start;
    let mut total = 0;
    for m in manifest.entries.iter_mut() {
        let data = entries
            .iter()
            .find(|(n, _)| *n == m.name)
            .unwrap()
            .1
            .clone();
        let mut count = 0;
        for line in data.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let leaf = merkle::leaf_hash(line);
            leaves.extend_from_slice(&leaf);
            root.push(leaf);
            chain = chain_step(&chain, &leaf);
            count += 1;
        }
        m.events = count;
        m.bytes = data.len() as u64;
        total += count;
    }
    manifest.events = total;
    manifest.signer = key.verifier().to_string();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let chain_lines = ChainLines {
        sequence: old_chain.sequence,
        chain_start: old_chain.chain_start,
        chain_end: chain,
        manifest_sha256: Sha256::digest(&manifest_bytes).into(),
    };
    let cp = Checkpoint {
        origin: old_cp.origin,
        size: total,
        root: root.root(),
        extensions: chain_lines.to_extensions(),
    };
    *entry(entries, archive::LEAVES) = leaves;
    *entry(entries, archive::MANIFEST) = manifest_bytes;
    *entry(entries, archive::CHECKPOINT) = key.sign(&cp.to_text()).unwrap().into_bytes();
}

/// Events of the first entry as lines (without newlines).
pub fn event_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\n").unwrap_or(l).to_vec())
        .collect()
}

pub fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

pub fn first_events_entry() -> String {
    archive::events_entry_name(1)
}

pub fn kind_of(report: &ArchiveReport) -> Option<verify::FailureKind> {
    report.failure.as_ref().map(|f| f.kind)
}

/// A bundle's manifest recomputed over its (edited) entries and signed by `auditor`: what a dishonest auditor, or
/// anyone holding the auditor's key, can do. Reaches the checks behind the manifest.
pub fn resign_bundle(entries: &mut Vec<(String, Vec<u8>)>, auditor: &SignerKey) {
    use auditlens::bundle::{BundleManifest, MANIFEST, ManifestLine};
    entries.retain(|(n, _)| n != MANIFEST);
    let manifest = BundleManifest {
        auditor: auditor.verifier().to_string(),
        entries: entries
            .iter()
            .map(|(name, data)| ManifestLine {
                sha256: Sha256::digest(data).into(),
                size: data.len() as u64,
                name: name.clone(),
            })
            .collect(),
    };
    let signed = auditor.sign(&manifest.to_text()).unwrap();
    entries.push((MANIFEST.into(), signed.into_bytes()));
}

/// `good`, then a ZIP of a forged `report.html` whose end record claims a comment longer than the rest of the file
/// (the zip crate skips that end record; `unzip` and Python's zipfile take it).
pub fn append_second_zip(good: &Path, path: &Path) {
    let mut bytes = std::fs::read(good).unwrap();
    let mut second = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut second);
        w.start_file("report.html", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"<h1>VERIFIED</h1><script>alert(1)</script>")
            .unwrap();
        w.finish().unwrap();
    }
    let mut second = second.into_inner();
    let n = second.len();
    second[n - 2..].copy_from_slice(&0xffffu16.to_le_bytes());
    bytes.extend_from_slice(&second);
    std::fs::write(path, bytes).unwrap();
}

/// `good` with a stored `events.jsonl` entry (local header and data) put where its central directory started,
/// the end record's directory offset moved past it: the directory still lists the genuine entries only (a reader
/// that walks the local headers sees the forged entry).
pub fn put_entry_outside_directory(good: &Path, path: &Path) {
    let bytes = std::fs::read(good).unwrap();
    let eocd = bytes.len() - 22;
    assert_eq!(
        &bytes[eocd..eocd + 4],
        b"PK\x05\x06",
        "a bundle without a comment"
    );
    let cd = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    let (name, data) = (b"events.jsonl", b"{\"forged\":\"event\"}\n");
    let crc = {
        let mut c = 0xffff_ffffu32;
        for &b in data.iter() {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xedb8_8320
                } else {
                    c >> 1
                };
            }
        }
        !c
    };
    let mut entry = b"PK\x03\x04".to_vec();
    entry.extend_from_slice(&20u16.to_le_bytes());
    entry.extend_from_slice(&[0; 8]); // flags, method (stored), time, date
    entry.extend_from_slice(&crc.to_le_bytes());
    entry.extend_from_slice(&(data.len() as u32).to_le_bytes());
    entry.extend_from_slice(&(data.len() as u32).to_le_bytes());
    entry.extend_from_slice(&(name.len() as u16).to_le_bytes());
    entry.extend_from_slice(&0u16.to_le_bytes());
    entry.extend_from_slice(name);
    entry.extend_from_slice(data);
    let mut out = bytes[..cd].to_vec();
    out.extend_from_slice(&entry);
    out.extend_from_slice(&bytes[cd..]);
    let at = out.len() - 22 + 16;
    out[at..at + 4].copy_from_slice(&((cd + entry.len()) as u32).to_le_bytes());
    std::fs::write(path, out).unwrap();
}
