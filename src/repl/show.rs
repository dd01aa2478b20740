//! What `:keyvals`, `:perf`, `:status` and `:logs` show: the files the test has written
//! so far, read back from the results directory (so what you see is what is on disk).

use std::collections::BTreeMap;
use std::path::Path;

use crate::results::keyval::format_float;

/// A file's text, or why there is none.
fn read(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("(not written yet)".into()),
        Err(e) => Err(format!("(cannot read it: {e})")),
    }
}

/// A titled section holding a file's lines, indented.
fn section(out: &mut String, title: &str, body: Result<String, String>) {
    out.push_str(title);
    out.push('\n');
    match body {
        Ok(text) if text.trim().is_empty() => out.push_str("  (empty)\n"),
        Ok(text) => {
            for line in text.lines() {
                out.push_str(&format!("  {line}\n").replace("  \n", "\n"));
            }
        }
        Err(why) => out.push_str(&format!("  {why}\n")),
    }
}

/// `:keyvals`: the test keyval (`<outputdir>/keyval`) and the iteration keyvals
/// (`results/keyval`), as written.
pub(crate) fn keyvals(outputdir: &Path) -> String {
    let mut out = String::new();
    section(&mut out, "keyval:", read(&outputdir.join("keyval")));
    section(
        &mut out,
        "results/keyval:",
        read(&outputdir.join("results/keyval")),
    );
    out
}

/// `:perf`: each block of `results/keyval` that holds perf keyvals, numbered, then per
/// key the count, minimum, mean and maximum, then `results/perf_measurements`.
pub(crate) fn perf(outputdir: &Path) -> String {
    let mut out = String::new();
    let blocks = match read(&outputdir.join("results/keyval")) {
        Ok(text) => perf_blocks(&text),
        Err(_) => Vec::new(),
    };
    if blocks.is_empty() {
        out.push_str("perf keyvals: none yet\n");
    } else {
        out.push_str(&format!("perf keyvals ({} blocks):\n", blocks.len()));
        for (i, block) in blocks.iter().enumerate() {
            let pairs: Vec<String> = block.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("  {:>3}  {}\n", i + 1, pairs.join("  ")));
        }
        for line in summary(&blocks) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    match read(&outputdir.join("results/perf_measurements")) {
        Ok(text) if !text.trim().is_empty() => section(&mut out, "perf_measurements:", Ok(text)),
        _ => out.push_str("perf_measurements: none yet\n"),
    }
    out
}

/// The `{perf}` entries of each keyval block (blocks end at a blank line).
fn perf_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter_map(|line| {
                    let (key, value) = line.split_once('=')?;
                    let key = key.strip_suffix("{perf}")?;
                    Some((key.to_string(), value.to_string()))
                })
                .collect::<Vec<_>>()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// One line per numeric perf key: `key  n=3  min=…  mean=…  max=…`.
fn summary(blocks: &[Vec<(String, String)>]) -> Vec<String> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (key, value) in blocks.iter().flatten() {
        if let Ok(v) = value.parse::<f64>() {
            values.entry(key).or_default().push(v);
        }
    }
    let width = values.keys().map(|k| k.len()).max().unwrap_or(0);
    values
        .iter()
        .map(|(key, xs)| {
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            format!(
                "{key:<width$}  n={}  min={}  mean={}  max={}",
                xs.len(),
                format_float(min),
                format_float(mean),
                format_float(max)
            )
        })
        .collect()
}

/// `:status`: the job's status log so far.
pub(crate) fn status(results_dir: &Path) -> String {
    let mut out = String::new();
    section(
        &mut out,
        "status.log:",
        read(&results_dir.join("status.log")),
    );
    out
}

/// `:logs [N]`: the last `n` lines of the test's DEBUG log (which holds every level).
pub(crate) fn logs(debugdir: &Path, tagged: &str, n: usize) -> String {
    let path = debugdir.join(format!("{tagged}.DEBUG"));
    let body = read(&path).map(|text| {
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(n);
        lines[from..].join("\n")
    });
    let mut out = String::new();
    section(
        &mut out,
        &format!("debug/{tagged}.DEBUG (last {n} lines):"),
        body,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_blocks_are_numbered_and_summarised() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("results")).expect("mkdir");
        std::fs::write(
            dir.path().join("results/keyval"),
            "mode{attr}=x\n\nms{perf}=1\nops{perf}=10\n\nms{perf}=3\nops{perf}=x\n\n",
        )
        .expect("write");
        assert_eq!(
            perf(dir.path()),
            "perf keyvals (2 blocks):\n    1  ms=1  ops=10\n    2  ms=3  ops=x\n  \
             ms   n=2  min=1.0  mean=2.0  max=3.0\n  ops  n=1  min=10.0  mean=10.0  max=10.0\n\
             perf_measurements: none yet\n"
        );
    }

    #[test]
    fn missing_files_say_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            keyvals(dir.path()),
            "keyval:\n  (not written yet)\nresults/keyval:\n  (not written yet)\n"
        );
    }
}
