//! One test's writer: its test keyval, iteration keyvals, perf measurements and debug
//! logs, plus job-level status records made during the test. Every record is one write,
//! flushed at once, to a file that stays open. `results/keyval` and
//! `results/perf_measurements` are created on first use, as in the original.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::debuglog::DebugLog;
use super::keyval::{self, KeyvalFile};
use super::status::StatusLog;
use crate::status::{Level, LogSink, TestOutput};

/// Echoes log lines somewhere besides the files (the console with `-v`).
pub type Echo = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// Writes one test's results; shared by the test object and the lifecycle.
pub struct TestWriter {
    test_keyval: Mutex<KeyvalFile>,
    iteration: Mutex<Lazy>,
    perf: Mutex<Lazy>,
    logs: Logs,
    status: Arc<Mutex<StatusLog>>,
}

/// A set of debug logs (`<name>.DEBUG|INFO|WARNING|ERROR`) and, with `-v`, an echo of
/// every line: a test's logs, or the job's own between tests.
pub struct Logs {
    debug: DebugLog,
    echo: Option<Echo>,
}

impl Logs {
    /// Opens `<dir>/<name>.DEBUG` … and echoes lines through `echo` when given.
    pub fn open(dir: &Path, name: &str, echo: Option<Echo>) -> std::io::Result<Self> {
        Ok(Logs {
            debug: DebugLog::open(dir, name)?,
            echo,
        })
    }
}

impl LogSink for Logs {
    fn log(&self, level: Level, message: &str) {
        self.debug.log(level, message);
        if let Some(echo) = &self.echo {
            echo(level, message);
        }
    }
}

/// A file opened on its first record.
struct Lazy {
    path: PathBuf,
    file: Option<KeyvalFile>,
}

impl Lazy {
    fn append(&mut self, text: &str) -> Result<(), String> {
        if self.file.is_none() {
            let f = KeyvalFile::open(&self.path)
                .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?;
            self.file = Some(f);
        }
        let file = self.file.as_mut().expect("opened above");
        file.append(text)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

impl TestWriter {
    /// Opens the writer for a test whose directory is `outputdir`; `log_name` is its
    /// tagged name (`debug/<log_name>.DEBUG` …).
    pub fn open(
        outputdir: &Path,
        log_name: &str,
        status: Arc<Mutex<StatusLog>>,
        echo: Option<Echo>,
    ) -> std::io::Result<Self> {
        let resultsdir = outputdir.join("results");
        Ok(TestWriter {
            test_keyval: Mutex::new(KeyvalFile::open(&outputdir.join("keyval"))?),
            iteration: Mutex::new(Lazy {
                path: resultsdir.join("keyval"),
                file: None,
            }),
            perf: Mutex::new(Lazy {
                path: resultsdir.join("perf_measurements"),
                file: None,
            }),
            logs: Logs::open(&outputdir.join("debug"), log_name, echo)?,
            status,
        })
    }
}

impl LogSink for TestWriter {
    fn log(&self, level: Level, message: &str) {
        self.logs.log(level, message);
    }
}

impl TestOutput for TestWriter {
    fn test_keyval(&self, entries: &BTreeMap<String, String>) -> Result<(), String> {
        let text = keyval::format_block(entries, None)?;
        let mut file = self.test_keyval.lock().expect("keyval lock poisoned");
        let path = file.path().display().to_string();
        file.append(&text)
            .map_err(|e| format!("cannot write {path}: {e}"))
    }

    fn iteration_keyval(&self, block: &str) -> Result<(), String> {
        self.iteration
            .lock()
            .expect("keyval lock poisoned")
            .append(block)
    }

    fn perf_line(&self, line: &str) -> Result<(), String> {
        self.perf.lock().expect("perf lock poisoned").append(line)
    }

    fn job_record(&self, code: &str, message: &str) {
        let result = self.status.lock().expect("status lock poisoned").record(
            code,
            None,
            None,
            message,
            &[],
        );
        if let Err(e) = result {
            self.logs.debug.log(
                Level::Error,
                &format!("cannot record {code} in the status log: {e}"),
            );
        }
        self.log(Level::Info, &format!("{code}: {message}"));
    }
}
