//! A test's debug logs: `<dir>/<name>.DEBUG`, `.INFO`, `.WARNING` and `.ERROR`.
//!
//! As with Python logging's tee in the original, a message at level L goes to every file
//! whose level is at most L, so `.DEBUG` holds everything and `.ERROR` only errors. All
//! four files are created when the log is opened, as in the original, even if some stay
//! empty. Each line is the local time to the millisecond, the level name padded to seven
//! characters, `| ` and one line of the message; a multi-line message gives one such line
//! per message line:
//!
//! ```text
//! 11/27 13:03:18.042 INFO    | starting iteration 1
//! 11/27 13:03:19.517 WARNING | disk nearly full
//! 11/27 13:03:19.517 WARNING | 93% used
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Local, TimeZone};

use crate::status::{Level, LogSink};

/// The levels in file order, least severe first.
const LEVELS: [Level; 4] = [Level::Debug, Level::Info, Level::Warning, Level::Error];

struct Files {
    files: [File; 4],
    /// Whether a write error was already reported; later ones are dropped silently.
    reported: bool,
}

/// The four level files of one test (or of the job), kept open while it runs.
pub struct DebugLog {
    dir: PathBuf,
    name: String,
    files: Mutex<Files>,
}

impl DebugLog {
    /// Creates (or reopens for appending) `<dir>/<name>.DEBUG|INFO|WARNING|ERROR`.
    pub fn open(dir: &Path, name: &str) -> io::Result<Self> {
        let open = |level: Level| {
            let path = dir.join(format!("{name}.{}", level.as_str()));
            OpenOptions::new().append(true).create(true).open(path)
        };
        let files = [
            open(LEVELS[0])?,
            open(LEVELS[1])?,
            open(LEVELS[2])?,
            open(LEVELS[3])?,
        ];
        Ok(DebugLog {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            files: Mutex::new(Files {
                files,
                reported: false,
            }),
        })
    }

    /// The path of the file that collects messages of `level` and above.
    pub fn path(&self, level: Level) -> PathBuf {
        self.dir.join(format!("{}.{}", self.name, level.as_str()))
    }
}

impl std::fmt::Debug for DebugLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugLog")
            .field("dir", &self.dir)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LogSink for DebugLog {
    fn log(&self, level: Level, message: &str) {
        let text = render(level, message, &Local::now());
        // A panic elsewhere while holding the lock leaves the files usable.
        let mut guard = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let Files { files, reported } = &mut *guard;
        for (file_level, file) in LEVELS.iter().zip(files.iter_mut()) {
            if *file_level > level {
                continue;
            }
            if let Err(err) = file.write_all(text.as_bytes()).and_then(|()| file.flush()) {
                // The log must never fail the test; one warning is enough to notice.
                if !*reported {
                    *reported = true;
                    let path = self.path(*file_level);
                    tracing::warn!("cannot write debug log {}: {err}", path.display());
                }
            }
        }
    }
}

/// Renders `message` as log lines stamped with `now`.
fn render<Tz: TimeZone>(level: Level, message: &str, now: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let prefix = format!(
        "{} {:<7} | ",
        now.format("%m/%d %H:%M:%S%.3f"),
        level.as_str()
    );
    // A final newline ends the last line rather than starting an empty one.
    let body = message.strip_suffix('\n').unwrap_or(message);
    let mut out = String::with_capacity(prefix.len() + body.len() + 1);
    for line in body.split('\n') {
        out.push_str(&prefix);
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    #[test]
    fn lines_have_time_padded_level_and_bar() {
        let now = at(1795784598042);
        assert_eq!(
            render(Level::Info, "hello", &now),
            "11/27 13:03:18.042 INFO    | hello\n"
        );
        assert_eq!(
            render(Level::Warning, "w", &now),
            "11/27 13:03:18.042 WARNING | w\n"
        );
        let east = FixedOffset::east_opt(3600).expect("valid offset");
        assert_eq!(
            render(Level::Error, "e", &now.with_timezone(&east)),
            "11/27 14:03:18.042 ERROR   | e\n"
        );
    }

    #[test]
    fn every_message_line_gets_the_prefix() {
        let now = at(0);
        assert_eq!(
            render(Level::Debug, "a\r\n\tb\n", &now),
            "01/01 00:00:00.000 DEBUG   | a\n01/01 00:00:00.000 DEBUG   | \tb\n"
        );
        assert_eq!(
            render(Level::Debug, "", &now),
            "01/01 00:00:00.000 DEBUG   | \n"
        );
    }

    #[test]
    fn messages_go_to_their_level_and_below() {
        let dir = tempfile::tempdir().unwrap();
        let log = DebugLog::open(dir.path(), "t.tag").unwrap();
        log.log(Level::Debug, "d");
        log.log(Level::Info, "i");
        log.log(Level::Warning, "w");
        log.log(Level::Error, "e");
        let words = |level: Level| -> Vec<String> {
            let text = std::fs::read_to_string(log.path(level)).unwrap();
            text.lines()
                .map(|l| l.rsplit("| ").next().unwrap().to_string())
                .collect()
        };
        assert_eq!(words(Level::Debug), ["d", "i", "w", "e"]);
        assert_eq!(words(Level::Info), ["i", "w", "e"]);
        assert_eq!(words(Level::Warning), ["w", "e"]);
        assert_eq!(words(Level::Error), ["e"]);
    }

    #[test]
    fn all_four_files_exist_after_open() {
        let dir = tempfile::tempdir().unwrap();
        let log = DebugLog::open(dir.path(), "job").unwrap();
        for level in LEVELS {
            let path = dir.path().join(format!("job.{}", level.as_str()));
            assert_eq!(log.path(level), path);
            assert_eq!(std::fs::read_to_string(path).unwrap(), "");
        }
    }

    #[test]
    fn the_sink_is_shareable_across_threads() {
        fn assert_sink<T: LogSink + 'static>() {}
        assert_sink::<DebugLog>();
    }
}
