//! What a person sees on stdout: one line per finished test and where the results went.
//! `-q` prints nothing but errors; `-v` also echoes the tests' log lines to stderr.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::status::{Status, TestOutcome};

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Nothing on stdout.
    Quiet,
    /// One line per test and the results directory.
    #[default]
    Normal,
    /// Also the tests' log lines, on stderr.
    Verbose,
}

/// The human reporter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// How much to print.
    pub verbosity: Verbosity,
}

impl Console {
    /// Prints the one-line result of a test: status, name, duration, reason.
    pub fn test_finished(&self, name: &str, status: Status, duration: Duration, reason: &str) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        out(&format!(
            "{}\n",
            result_line(name, status, duration, reason)
        ));
    }

    /// Prints where the job's results are.
    pub fn results_dir(&self, path: &Path) {
        if self.verbosity != Verbosity::Quiet {
            out(&format!("results: {}\n", path.display()));
        }
    }

    /// Prints the table of a multi-test job: test, status, duration, reason.
    pub fn summary(&self, outcomes: &[TestOutcome]) {
        if self.verbosity != Verbosity::Quiet {
            out(&summary_table(outcomes));
        }
    }

    /// Echoes a test log line when verbose.
    pub fn log_line(&self, level: &str, message: &str) {
        if self.verbosity == Verbosity::Verbose {
            let _ = writeln!(std::io::stderr(), "{level:<7}| {message}");
        }
    }
}

/// Writes to stdout, ignoring errors: a closed or full stdout must not stop a job whose
/// results are on disk.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// `GOOD    sleeptest  1.00s  completed successfully` (the reason's first line only).
pub fn result_line(name: &str, status: Status, duration: Duration, reason: &str) -> String {
    let reason = reason.lines().next().unwrap_or("").trim_end();
    let line = format!(
        "{:<7} {name}  {:.2}s  {reason}",
        status.as_str(),
        duration.as_secs_f64()
    );
    line.trim_end().to_string()
}

/// The job summary: one aligned row per test, reasons cut to their first line.
pub fn summary_table(outcomes: &[TestOutcome]) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(0)
        .max("test".len());
    let mut out = format!(
        "\n{:<width$}  {:<7}  {:>9}  reason\n",
        "test", "status", "duration"
    );
    for o in outcomes {
        let reason = o.reason.lines().next().unwrap_or("");
        let line = format!(
            "{:<width$}  {:<7}  {:>8.2}s  {reason}",
            o.name,
            o.status.as_str(),
            o.duration.as_secs_f64()
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_show_status_name_duration_and_first_reason_line() {
        let line = result_line(
            "sleeptest",
            Status::Fail,
            Duration::from_millis(1234),
            "boom\nmore",
        );
        assert_eq!(line, "FAIL    sleeptest  1.23s  boom");
        assert_eq!(
            result_line("t", Status::Good, Duration::ZERO, ""),
            "GOOD    t  0.00s"
        );
    }

    #[test]
    fn the_summary_aligns_one_row_per_test() {
        let o = |name: &str, status, reason: &str| TestOutcome {
            name: name.into(),
            status,
            reason: reason.into(),
            duration: Duration::from_millis(1500),
        };
        let table = summary_table(&[
            o("sleeptest.quick", Status::Good, "completed successfully"),
            o("x", Status::Fail, "boom\nmore"),
        ]);
        assert_eq!(
            table,
            "\ntest             status    duration  reason\n\
             sleeptest.quick  GOOD         1.50s  completed successfully\n\
             x                FAIL         1.50s  boom\n"
        );
    }
}
