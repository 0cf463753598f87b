//! Crash safety of import: a child `auditlens import` of a large archive is killed with SIGKILL at 20 random
//! points after its first batch of events is in; after each kill the database passes `PRAGMA integrity_check`
//! and `check`, holds no partial archive, and in the end the import completes.
//!
//! The child's stderr is a pseudo-terminal, so the CLI prints its progress line (it does only to a terminal):
//! the importer reports every 65,536 events, and the archive is larger, so the first line with events done is
//! read while those events are inserted and not yet committed. Each kill comes after that line.

use std::io::{BufWriter, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;
use auditlens::store::Store;
use auditlens_bench::generate::{Rng, write_k8s};
use rusqlite::Connection;

const BIG_EVENTS: u64 = 100_000;

fn import_cmd(db: &std::path::Path, trust: &std::path::Path, archive: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditlens"));
    c.arg("import")
        .arg("--db")
        .arg(db)
        .arg("--trust")
        .arg(trust)
        .arg(archive);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

/// Events done in the first progress line that reports some but not all of them (`NAME:  65.5%  65536/100000
/// events ...`), or `None` for text that holds none.
fn first_batch(text: &str) -> Option<u64> {
    text.split(['\r', '\n']).find_map(|line| {
        let (done, rest) = line
            .split_once(" events")?
            .0
            .rsplit_once(' ')?
            .1
            .split_once('/')?;
        let (done, total) = (done.parse::<u64>().ok()?, rest.parse::<u64>().ok()?);
        (done > 0 && done < total).then_some(done)
    })
}

/// Starts the import with its stderr on a pseudo-terminal and returns once it has printed the progress line of
/// its first batch (with the events done then). The pty is drained until the child exits.
#[allow(unsafe_code)] // openpty(3): std has no pseudo-terminal; the workspace denies unsafe code elsewhere
fn spawn_after_first_batch(
    db: &std::path::Path,
    trust: &std::path::Path,
    archive: &std::path::Path,
) -> (Child, u64) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new file descriptors into the pointers; name, termios and winsize may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = import_cmd(db, trust, archive);
    cmd.stderr(Stdio::from(slave));
    let child = cmd.spawn().unwrap();
    drop(cmd); // closes our copy of the pty's terminal side, so reads end when the child does
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut master = std::fs::File::from(master);
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut sent = false;
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            if !sent {
                seen.extend_from_slice(&buf[..n]);
                if let Some(done) = first_batch(&String::from_utf8_lossy(&seen)) {
                    tx.send(done).ok();
                    sent = true;
                }
            }
        }
    });
    let done = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("no progress line with a first batch on the import's terminal");
    (child, done)
}

fn counts(db: &std::path::Path) -> (i64, i64) {
    let c = Connection::open(db).unwrap();
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let a = c
        .query_row("SELECT count(*) FROM archives", [], |r| r.get(0))
        .unwrap();
    let e = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    (a, e)
}

#[test]
fn import_killed_at_random_points_leaves_no_partial_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k = key("ops");
    let trust = dir.join("ops.pub");
    std::fs::write(&trust, format!("{}\n", k.verifier())).unwrap();

    let small = seal_to(
        dir,
        "small.zip",
        &k,
        "example.com/small",
        None,
        &[fixture(K8S_LOG)],
    );
    let big_input = dir.join("big.jsonl");
    {
        let mut out = BufWriter::new(std::fs::File::create(&big_input).unwrap());
        write_k8s(&mut out, BIG_EVENTS, 3, 1_700_000_000).unwrap();
    }
    let big = seal_to(dir, "big.zip", &k, "example.com/big", None, &[big_input]);

    // How long a whole import takes here, measured on a scratch database.
    let scratch = dir.join("scratch.db");
    let start = Instant::now();
    assert!(
        import_cmd(&scratch, &trust, &big)
            .status()
            .unwrap()
            .success()
    );
    let full = start.elapsed();

    let db = dir.join("store.db");
    assert!(import_cmd(&db, &trust, &small).status().unwrap().success());
    let baseline = counts(&db);
    assert_eq!(baseline, (1, 37));
    // A pristine copy of the baseline, to start again from when a kill came after the commit.
    Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let pristine = dir.join("pristine.db");
    std::fs::copy(&db, &pristine).unwrap();

    let mut rng = Rng::new(2026);
    let mut killed_mid_import = 0;
    // Kills are drawn over the rest of the import after its first batch (about a third of a whole import).
    // When one lands after the commit (the machine ran the import faster than when it was timed), the database
    // is put back to the baseline and the window shrinks, so that 20 kills do land during an import.
    let mut window = full.as_micros() as u64 * 4 / 10 + 1;
    let mut round = 0;
    while killed_mid_import < 20 {
        assert!(
            round < 100,
            "only {killed_mid_import} of {round} kills landed during an import"
        );
        let delay = Duration::from_micros(rng.below(window));
        let (mut child, done) = spawn_after_first_batch(&db, &trust, &big);
        assert_eq!(done, 65_536, "round {round}: the first batch line");
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        let now = counts(&db);
        if now == baseline {
            assert!(
                !finished,
                "round {round}: the import ended without its archive"
            );
            killed_mid_import += 1;
        } else {
            // The kill came after the commit: the archive is wholly in, never partly.
            assert_eq!(
                now,
                (2, 37 + BIG_EVENTS as i64),
                "round {round}: partial archive after kill at {delay:?}"
            );
        }
        let store = Store::open(&db).unwrap();
        let report = store.check(&[k.verifier()], &mut |_| true).unwrap();
        assert!(report.ok, "round {round}: {:?}", report.problems);
        drop(store);
        if now != baseline {
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            std::fs::copy(&pristine, &db).unwrap();
            assert_eq!(counts(&db), baseline);
            window = window * 7 / 10 + 1;
        }
        round += 1;
    }

    let status = import_cmd(&db, &trust, &big).status().unwrap();
    assert!(status.success());
    assert_eq!(counts(&db), (2, 37 + BIG_EVENTS as i64));
    let report = Store::open(&db)
        .unwrap()
        .check(&[k.verifier()], &mut |_| true)
        .unwrap();
    assert!(report.ok, "{:?}", report.problems);
}
