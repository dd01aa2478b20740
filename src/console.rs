//! What a person sees on stdout: one line per finished test and where the results went.
//! `-q` prints nothing but errors; `-v` also echoes the tests' log lines to stderr.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::status::Status;

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
        println!("{}", result_line(name, status, duration, reason));
    }

    /// Prints where the job's results are.
    pub fn results_dir(&self, path: &Path) {
        if self.verbosity != Verbosity::Quiet {
            println!("results: {}", path.display());
        }
    }

    /// Echoes a test log line when verbose.
    pub fn log_line(&self, level: &str, message: &str) {
        if self.verbosity == Verbosity::Verbose {
            let _ = writeln!(std::io::stderr(), "{level:<7}| {message}");
        }
    }
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
}
