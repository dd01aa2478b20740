//! `cargo bench`: whole-process time of a one-test run and the execute loop's overhead per
//! iteration, as medians over repeated runs of the real release binary.
//!
//! The per-iteration figure is (T(iterations=N) − T(iterations=0)) / N, so process start,
//! compilation and results-directory creation cancel out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autorun");
const ITERATIONS: u32 = 100_000;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sleeptest = root.join("scripts/sleeptest.rhai");
    let disk = tempfile::Builder::new()
        .prefix("autorun-bench-")
        .tempdir_in(root.join("target"))
        .expect("tempdir");
    println!("autorun benchmarks (medians; {BIN})");
    println!(
        "spawning /bin/true (the floor for any process):          {:>9.3} ms",
        ms(median_spawn("/bin/true", 41))
    );
    let d = median_run(disk.path(), &sleeptest, &["seconds=0"], 41);
    println!(
        "whole process, sleeptest seconds=0, results on disk:     {:>9.3} ms",
        ms(d)
    );
    if Path::new("/dev/shm").is_dir() {
        let shm = tempfile::Builder::new()
            .prefix("autorun-bench-")
            .tempdir_in("/dev/shm")
            .expect("shm tempdir");
        let d = median_run(shm.path(), &sleeptest, &["seconds=0"], 41);
        println!(
            "whole process, sleeptest seconds=0, results on /dev/shm: {:>9.3} ms",
            ms(d)
        );
    }
    for (name, label) in [
        ("empty_loop.rhai", "empty run_once"),
        ("perf_loop.rhai", "3-key write_perf_keyval"),
    ] {
        let script = root.join("benches/scripts").join(name);
        let n = format!("iterations={ITERATIONS}");
        let base = median_run(disk.path(), &script, &["iterations=0"], 11);
        let full = median_run(disk.path(), &script, &[&n], 11);
        let per = full.saturating_sub(base).as_secs_f64() / f64::from(ITERATIONS);
        println!(
            "per iteration over {ITERATIONS} iterations, {label:<24} {:>9.3} µs",
            per * 1e6
        );
    }
}

/// The median wall time of spawning `program` and waiting for it.
fn median_spawn(program: &str, runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            Command::new(program).status().expect("spawn");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs the script `runs` times, each into a fresh results directory, and returns the
/// median wall time.
fn median_run(dir: &Path, script: &PathBuf, args: &[&str], runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|i| {
            let results = dir.join(format!(
                "r-{}-{i}-{}",
                script
                    .file_stem()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default(),
                args.join("_")
            ));
            let start = Instant::now();
            let status = Command::new(BIN)
                .arg(script)
                .args(args)
                .arg("--results")
                .arg(&results)
                .arg("-q")
                .current_dir(dir)
                .status()
                .expect("run autorun");
            let took = start.elapsed();
            assert!(status.success(), "{} {:?} failed", script.display(), args);
            took
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
