//! Test statuses and their ordering: the vocabulary shared by the lifecycle, the
//! results writers and the console. Data only.

use std::fmt;

/// The outcome of one test, worst first in the original's severity order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The test does not apply here (`skip`).
    TestNa,
    /// The job must stop (`abort`, Ctrl-C).
    Abort,
    /// The test or the harness is broken (`error`, unhandled errors outside the body).
    Error,
    /// The test failed (`fail`, unhandled errors inside the body, constraints).
    Fail,
    /// The test passed with a warning (`warn`).
    Warn,
    /// The test passed.
    Good,
}

impl Status {
    /// The status word used in the status log.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::TestNa => "TEST_NA",
            Status::Abort => "ABORT",
            Status::Error => "ERROR",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Good => "GOOD",
        }
    }

    /// Whether this status counts as a failure for the exit code (FAIL or ERROR).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Error)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A log level of the test's debug logs (`debug/<tagged>.DEBUG|INFO|WARNING|ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Written to the DEBUG file only.
    Debug,
    /// Written to DEBUG and INFO.
    Info,
    /// Written to DEBUG, INFO and WARNING.
    Warning,
    /// Written to every file.
    Error,
}

impl Level {
    /// The level name as it appears in file names and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// Where the script's log output goes: the current test's debug logs.
pub trait LogSink: Send + Sync {
    /// Writes one message at `level`.
    fn log(&self, level: Level, message: &str);
}

/// Where a test's keyvals, perf values and job-level records go: the contract between the
/// test object (engine) and the results writers. Each call writes and flushes at once.
pub trait TestOutput: LogSink {
    /// Appends one block to `<outputdir>/keyval`; `entries` are rendered values.
    fn test_keyval(
        &self,
        entries: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String>;
    /// Appends one rendered iteration block (attr, perf, blank line) to `results/keyval`.
    fn iteration_keyval(&self, block: &str) -> Result<(), String>;
    /// Appends one JSON line (already rendered) to `results/perf_measurements`.
    fn perf_line(&self, line: &str) -> Result<(), String>;
    /// Records a job-level status line with no subdir (`INFO ---- ---- Run 0 failed …`).
    fn job_record(&self, code: &str, message: &str);
}

/// The job settings the lifecycle obeys.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How many times a `fail_retry` iteration is retried.
    pub test_retry: u32,
    /// Whether cleanup runs by default.
    pub run_test_cleanup: bool,
    /// `profile_only` when a test does not say.
    pub default_profile_only: bool,
    /// Drop the page cache before each iteration.
    pub drop_caches_between_iterations: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            test_retry: 0,
            run_test_cleanup: true,
            default_profile_only: false,
            drop_caches_between_iterations: false,
        }
    }
}

/// The verdict on one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The subdirectory (tagged name, nested under its parent for subtests).
    pub name: String,
    /// Its status.
    pub status: Status,
    /// The status-log message (`completed successfully` for GOOD).
    pub reason: String,
    /// How long it took.
    pub duration: std::time::Duration,
}
