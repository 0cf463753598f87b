//! `auditlens bench`: reproducible throughput figures, each printed beside a baseline measured in the same run.
//!
//! Archive section: seal and verify an archive of N generated Kubernetes audit events, against the floor of
//! plain SHA-256 over the same event bytes. Peak memory per phase comes from the kernel's high-water mark
//! (`VmHWM`, reset between phases through `/proc/self/clear_refs`).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::verify::{self, ArchiveStatus};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Failed(String),
}

/// One measured phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    pub name: String,
    pub seconds: f64,
    pub events: u64,
    pub bytes: u64,
    pub peak_rss_mib: Option<f64>,
}

impl Figure {
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }
}

/// Resets the process's peak-RSS counter (Linux); harmless elsewhere.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MiB (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn measure<T>(
    name: &str,
    events: u64,
    bytes: u64,
    f: impl FnOnce() -> Result<T, BenchError>,
) -> Result<(Figure, T), BenchError> {
    reset_peak_rss();
    let start = Instant::now();
    let value = f()?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((
        Figure {
            name: name.into(),
            seconds,
            events,
            bytes,
            peak_rss_mib: peak_rss_mib(),
        },
        value,
    ))
}

/// Generates `n` Kubernetes events into `dir/k8s.jsonl` (kept between runs with the same n).
pub fn generated_k8s(dir: &Path, n: u64) -> Result<PathBuf, BenchError> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("k8s-{n}.jsonl"));
    if !path.exists() {
        let tmp = dir.join(format!("k8s-{n}.jsonl.tmp"));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        crate::generate::write_k8s(&mut out, n, 42, 1_717_200_000)?;
        io::Write::flush(&mut out)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

/// The archive section: returns the figures (SHA-256 floor, seal, verify).
pub fn archive_section(dir: &Path, n: u64) -> Result<Vec<Figure>, BenchError> {
    let input = generated_k8s(dir, n)?;
    let bytes = std::fs::metadata(&input)?.len();
    // Warm the page cache so every phase reads from memory.
    auditlens::archive::sha256_file(&input)?;
    let (floor, _) = measure("sha256 (floor)", n, bytes, || {
        Ok(auditlens::archive::sha256_file(&input)?)
    })?;

    let key =
        SignerKey::from_seed("bench", &[7u8; 32]).map_err(|e| BenchError::Failed(e.to_string()))?;
    let out = dir.join(format!("k8s-{n}.zip"));
    let inputs = [input.clone()];
    let (seal_fig, _) = measure("seal", n, bytes, || {
        seal(&SealOptions {
            key: &key,
            origin: "bench.auditlens.dev/k8s",
            prev: None,
            format: None,
            mapping: None,
            out: &out,
            inputs: &inputs,
        })
        .map_err(|e| BenchError::Failed(e.to_string()))
    })?;
    let trusted = [key.verifier()];
    let (verify_fig, report) = measure("verify", n, bytes, || {
        Ok(verify::verify_archive(&out, &trusted, &mut verify::NoSink)?)
    })?;
    if report.status != ArchiveStatus::Verified {
        return Err(BenchError::Failed(format!(
            "benchmark archive did not verify: {:?}",
            report.failure
        )));
    }
    Ok(vec![floor, seal_fig, verify_fig])
}

/// Prints figures as a table, each with its ratio to the first (the baseline).
pub fn print_table(title: &str, figures: &[Figure]) {
    println!("\n{title}");
    println!(
        "{:<54} {:>10} {:>12} {:>10} {:>12} {:>12}",
        "phase", "seconds", "events/s", "MB/s", "vs baseline", "peak RSS MiB"
    );
    let base = figures.first().map(|f| f.seconds).unwrap_or(1.0);
    for f in figures {
        println!(
            "{:<54} {:>10.3} {:>12.0} {:>10.1} {:>11.2}x {:>12}",
            f.name,
            f.seconds,
            f.events_per_sec(),
            f.mb_per_sec(),
            f.seconds / base.max(1e-9),
            f.peak_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "-".into())
        );
    }
}

/// Formats a duration in milliseconds with 2 decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}
