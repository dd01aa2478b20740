//! The status-log writer. Every entry goes to `<job>/status.log`; an entry with a subdir
//! also goes, identically indented, to `<job>/<subdir>/status.log`, so a test's own file
//! holds its lines and nothing of its siblings (`\t` stands for a tab, `…` for the
//! `timestamp=…\tlocaltime=…` fields):
//!
//! ```text
//! <job>/status.log:
//! START\t----\t----\t…\t
//! \tSTART\tt\tt\t…\t
//! \t\tGOOD\tt\tt\t…\tcompleted successfully
//! \tEND GOOD\tt\tt\t…\t
//! END GOOD\t----\t----\t…\t
//!
//! <job>/t/status.log:
//! \tSTART\tt\tt\t…\t
//! \t\tGOOD\tt\tt\t…\tcompleted successfully
//! \tEND GOOD\tt\tt\t…\t
//! ```
//!
//! START raises the nesting level after it is written, END lowers it before (so it lines
//! up with its START). Each entry is one write and one flush per file, so a killed run
//! leaves whole lines only.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::{render, Entry};

/// Why an entry could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The entry breaks the format (bad code, tab or newline in a field, ...).
    #[error("{0}")]
    Invalid(String),
    /// A status file could not be opened or written.
    #[error("cannot write status log {path}")]
    Io {
        /// The status file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn now() -> i64 {
    Utc::now().timestamp()
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

fn write(file: &mut File, text: &str) -> io::Result<()> {
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The job's status-log writer: keeps the nesting level and the open status files.
#[derive(Debug)]
pub struct StatusLog {
    job_dir: PathBuf,
    job_file: File,
    test_files: HashMap<String, File>,
    indent: usize,
    clock: fn() -> i64,
}

impl StatusLog {
    /// Opens `<job_dir>/status.log` for appending, creating it if needed.
    pub fn create(job_dir: &Path) -> io::Result<Self> {
        Ok(StatusLog {
            job_dir: job_dir.to_path_buf(),
            job_file: open(&job_dir.join("status.log"))?,
            test_files: HashMap::new(),
            indent: 0,
            clock: now,
        })
    }

    /// Replaces the clock that timestamps entries (epoch seconds), for tests.
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The current nesting level: open STARTs not yet ENDed.
    pub fn indent(&self) -> usize {
        self.indent
    }

    /// Writes one entry to the job's file and, with a subdir, to that test's file too.
    pub fn record(
        &mut self,
        code: &str,
        subdir: Option<&str>,
        operation: Option<&str>,
        message: &str,
        fields: &[(String, String)],
    ) -> Result<(), StatusError> {
        let is_end = code.starts_with("END ");
        let entry = Entry {
            code: code.to_string(),
            subdir: subdir.map(str::to_string),
            operation: operation.map(str::to_string),
            fields: fields.to_vec(),
            message: message.to_string(),
            timestamp: (self.clock)(),
        };
        let indent = self.indent.saturating_sub(usize::from(is_end));
        let text = render(&entry, indent).map_err(StatusError::Invalid)?;
        let job_result = write(&mut self.job_file, &text).map_err(|source| StatusError::Io {
            path: self.job_dir.join("status.log"),
            source,
        });
        let test_result = match subdir.filter(|s| !s.is_empty()) {
            Some(subdir) => self.append_to_test(subdir, &text, is_end),
            None => Ok(()),
        };
        // The caller's nesting changed even if a write failed; following it keeps the
        // lines that do get written aligned with their START.
        if code == "START" {
            self.indent += 1;
        } else if is_end {
            self.indent = self.indent.saturating_sub(1);
        }
        job_result.and(test_result)
    }

    fn append_to_test(
        &mut self,
        subdir: &str,
        text: &str,
        is_end: bool,
    ) -> Result<(), StatusError> {
        let path = self.job_dir.join(subdir).join("status.log");
        let io = |source| StatusError::Io {
            path: path.clone(),
            source,
        };
        let mut file = match self.test_files.remove(subdir) {
            Some(file) => file,
            None => open(&path).map_err(io)?,
        };
        let result = write(&mut file, text).map_err(io);
        // A test's END is its last line; closing its file there bounds the open files by
        // the nesting depth instead of the number of tests in the job.
        if !is_end {
            self.test_files.insert(subdir.to_string(), file);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::super::localtime;
    use super::*;

    const TS: i64 = 1795784598;
    fn fixed_clock() -> i64 {
        TS
    }

    #[test]
    fn status_log_nests_and_tees_into_the_test_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p/c")).unwrap();
        let mut log = StatusLog::create(dir.path())
            .unwrap()
            .with_clock(fixed_clock);
        let lt = localtime(TS);
        let tail = format!("timestamp={TS}\tlocaltime={lt}\t");
        log.record("START", None, None, "", &[]).unwrap();
        log.record("START", Some("p"), Some("p"), "", &[]).unwrap();
        log.record("START", Some("p/c"), Some("c"), "", &[])
            .unwrap();
        assert_eq!(log.indent(), 3);
        log.record("GOOD", Some("p/c"), Some("c"), "ok", &[])
            .unwrap();
        log.record("END GOOD", Some("p/c"), Some("c"), "", &[])
            .unwrap();
        log.record("INFO", None, None, "note", &[]).unwrap();
        log.record("END GOOD", Some("p"), Some("p"), "", &[])
            .unwrap();
        log.record("END GOOD", None, None, "", &[]).unwrap();
        log.record("END GOOD", None, None, "", &[]).unwrap();
        assert_eq!(log.indent(), 0);
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        let child = format!(
            "\t\tSTART\tp/c\tc\t{tail}\n\t\t\tGOOD\tp/c\tc\t{tail}ok\n\t\tEND GOOD\tp/c\tc\t{tail}\n"
        );
        assert_eq!(read("p/c/status.log"), child);
        assert_eq!(
            read("p/status.log"),
            format!("\tSTART\tp\tp\t{tail}\n\tEND GOOD\tp\tp\t{tail}\n")
        );
        assert_eq!(
            read("status.log"),
            format!(
                "START\t----\t----\t{tail}\n\tSTART\tp\tp\t{tail}\n{child}\
                 \t\tINFO\t----\t----\t{tail}note\n\tEND GOOD\tp\tp\t{tail}\n\
                 END GOOD\t----\t----\t{tail}\nEND GOOD\t----\t----\t{tail}\n"
            )
        );
    }

    #[test]
    fn invalid_entries_write_nothing_and_keep_the_indent() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = StatusLog::create(dir.path()).unwrap();
        let err = log.record("START GOOD", None, None, "", &[]).unwrap_err();
        assert_eq!(err.to_string(), "invalid status code: \"START GOOD\"");
        assert_eq!(log.indent(), 0);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("status.log")).unwrap(),
            ""
        );
    }

    #[test]
    fn a_missing_test_dir_is_an_io_error_but_the_job_line_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = StatusLog::create(dir.path())
            .unwrap()
            .with_clock(fixed_clock);
        let err = log
            .record("START", Some("gone"), Some("t"), "", &[])
            .unwrap_err();
        assert!(matches!(err, StatusError::Io { .. }), "{err:?}");
        assert_eq!(log.indent(), 1);
        let job = std::fs::read_to_string(dir.path().join("status.log")).unwrap();
        assert!(job.starts_with("START\tgone\tt\t"), "{job:?}");
    }
}
