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

/// One measured phase: the median of its runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    pub name: String,
    /// Median wall-clock seconds of the runs.
    pub seconds: f64,
    /// Median CPU seconds of the process (every thread, user + system) over the same runs: above `seconds` when
    /// the phase used more than one core.
    pub cpu_seconds: Option<f64>,
    /// Wall-clock seconds of each run, in the order they ran.
    pub runs: Vec<f64>,
    pub events: u64,
    pub bytes: u64,
    /// The highest peak over the runs.
    pub peak_rss_mib: Option<f64>,
}

impl Figure {
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }

    /// The median of `samples` (one per run) as a figure.
    pub fn of(name: &str, events: u64, bytes: u64, samples: &[Sample]) -> Figure {
        let median = |mut v: Vec<f64>| -> Option<f64> {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        let cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu).collect();
        Figure {
            name: name.into(),
            seconds: median(samples.iter().map(|s| s.wall).collect()).unwrap_or(0.0),
            cpu_seconds: cpu.and_then(median),
            runs: samples.iter().map(|s| s.wall).collect(),
            events,
            bytes,
            peak_rss_mib: samples
                .iter()
                .filter_map(|s| s.peak_rss_mib)
                .max_by(f64::total_cmp),
        }
    }
}

/// What one run of a phase took.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: f64,
    pub cpu: Option<f64>,
    pub peak_rss_mib: Option<f64>,
}

impl Sample {
    /// Nothing yet: what [`Sample::then`] adds up from.
    pub const ZERO: Sample = Sample {
        wall: 0.0,
        cpu: Some(0.0),
        peak_rss_mib: None,
    };

    /// This run followed by `next`: times added, the higher peak.
    pub fn then(self, next: Sample) -> Sample {
        Sample {
            wall: self.wall + next.wall,
            cpu: self.cpu.zip(next.cpu).map(|(a, b)| a + b),
            peak_rss_mib: match (self.peak_rss_mib, next.peak_rss_mib) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// Measures one run: started by [`Stopwatch::start`] (which also resets the peak-RSS counter), read with
/// [`Stopwatch::lap`] (more than once when a run has stages).
pub struct Stopwatch {
    wall: Instant,
    cpu: Option<f64>,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        reset_peak_rss();
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    pub fn lap(&self) -> Sample {
        Sample {
            wall: self.wall.elapsed().as_secs_f64(),
            cpu: cpu_seconds().zip(self.cpu).map(|(now, then)| now - then),
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

/// CPU time of this process so far, every thread, user + system (Linux: `/proc/self/stat`, in the kernel's
/// USER_HZ ticks of 10 ms).
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
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

/// Runs `f` `repeat` times (at least once) and returns the median figure and the last run's value.
pub(crate) fn measure<T>(
    name: &str,
    events: u64,
    bytes: u64,
    repeat: usize,
    mut f: impl FnMut() -> Result<T, BenchError>,
) -> Result<(Figure, T), BenchError> {
    let mut samples = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let watch = Stopwatch::start();
        last = Some(f()?);
        samples.push(watch.lap());
    }
    let value = last.ok_or_else(|| BenchError::Failed(format!("{name}: no run")))?;
    Ok((Figure::of(name, events, bytes, &samples), value))
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
pub fn archive_section(dir: &Path, n: u64, repeat: usize) -> Result<Vec<Figure>, BenchError> {
    let input = generated_k8s(dir, n)?;
    let bytes = std::fs::metadata(&input)?.len();
    // Warm the page cache so every phase reads from memory.
    auditlens::archive::sha256_file(&input)?;
    let (floor, _) = measure("sha256 (floor)", n, bytes, repeat, || {
        Ok(auditlens::archive::sha256_file(&input)?)
    })?;

    let key =
        SignerKey::from_seed("bench", &[7u8; 32]).map_err(|e| BenchError::Failed(e.to_string()))?;
    let out = dir.join(format!("k8s-{n}.zip"));
    let inputs = [input.clone()];
    let (seal_fig, _) = measure("seal", n, bytes, repeat, || {
        seal(&SealOptions {
            key: &key,
            origin: "bench.auditlens.dev/k8s",
            prev: None,
            format: None,
            mapping: None,
            out: &out,
            inputs: &inputs,
            receive: false,
        })
        .map_err(|e| BenchError::Failed(e.to_string()))
    })?;
    let trusted = [key.verifier()];
    let (verify_fig, report) = measure("verify", n, bytes, repeat, || {
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
        "{:<54} {:>9} {:>9} {:>11} {:>8} {:>12} {:>17} {:>9}",
        "phase",
        "seconds",
        "CPU s",
        "events/s",
        "MB/s",
        "vs baseline",
        "runs (min-max s)",
        "peak MiB"
    );
    let base = figures.first().map(|f| f.seconds).unwrap_or(1.0);
    for f in figures {
        let min = f.runs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = f.runs.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<54} {:>9.3} {:>9} {:>11.0} {:>8.1} {:>11.2}x {:>17} {:>9}",
            f.name,
            f.seconds,
            f.cpu_seconds
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "-".into()),
            f.events_per_sec(),
            f.mb_per_sec(),
            f.seconds / base.max(1e-9),
            format!("{} ({min:.2}-{max:.2})", f.runs.len()),
            f.peak_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "  seconds: median wall clock of the runs; CPU s: median CPU time of the process (all threads), above the \
         seconds when a phase uses more than one core"
    );
}

/// Formats a duration in milliseconds with 2 decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}
