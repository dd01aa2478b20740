//! The only writer of the results directory. One job's directory looks like this:
//!
//! ```text
//! results/latest -> label-20261127-130318      relative symlink to the newest default dir
//! results/label-20261127-130318/
//!   .autorun.lock        holds the pid of the run writing here (locked while it runs)
//!   keyval               status_version=1, job_started=..., hostname=..., job_finished=...
//!   status.log           the job's status log (status.rs)
//!   <subdir>/            one per test; subtests nest inside their parent's subdir
//!     keyval  status.log  results/keyval  results/perf_measurements
//!     profiling/  debug/<tagged>.DEBUG|INFO|WARNING|ERROR
//! ```
//!
//! Results are never lost or mixed: an existing non-empty directory is only written with
//! an explicit reuse flag, and the lock keeps two runs out of one directory. Every file
//! is appended to and flushed one record at a time.

pub mod debuglog;
pub mod keyval;
pub mod perf;
pub mod status;
pub mod writer;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// The lock file inside every results directory.
const LOCK_FILE: &str = ".autorun.lock";

/// Where the job's results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A new `<base>/<label>-<YYYYmmdd-HHMMSS>` directory, with `<base>/latest` pointing to it.
    Default {
        /// The parent of all default results directories, usually `results`.
        base: PathBuf,
        /// The job label that starts the directory name.
        label: String,
    },
    /// A directory chosen by the user; it must be new or empty unless reuse is allowed.
    Explicit(PathBuf),
}

/// Why a results directory or a test's directories could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The explicit directory already holds results and reuse was not requested.
    #[error(
        "results directory {path} is not empty; choose another --results directory or pass \
         --reuse-results to add to it"
    )]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// Another run holds the directory's lock.
    #[error("results directory {path} is in use by another autorun run ({})", describe_pid(.pid))]
    Locked {
        /// The directory.
        path: PathBuf,
        /// The pid written into the lock file by the holder, if readable.
        pid: Option<u32>,
    },
    /// Two tests would write the same subdirectory.
    #[error("{subdir} already exists; multiple tests cannot run with the same subdirectory")]
    DuplicateSubdir {
        /// The subdirectory, relative to the job directory.
        subdir: String,
    },
    /// A test subdirectory that would escape the job directory.
    #[error("invalid test subdirectory {subdir:?}: use a relative path without . or .. parts")]
    InvalidSubdir {
        /// The rejected subdirectory.
        subdir: String,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done, e.g. `create directory`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn describe_pid(pid: &Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_string(),
    }
}

/// Builds the `map_err` adapter for an I/O failure on `path`.
fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ResultsError {
    let path = path.to_path_buf();
    move |source| ResultsError::Io {
        action,
        path,
        source,
    }
}

/// A job's results directory, locked against other runs for as long as this value lives.
#[derive(Debug)]
pub struct ResultsDir {
    path: PathBuf,
    shown: PathBuf,
    /// Holding the open file holds the lock; the OS releases it when the run ends.
    _lock: File,
}

impl ResultsDir {
    /// Creates (or, for an explicit directory with `reuse`, adopts) and locks the directory.
    pub fn create(location: Location, reuse: bool) -> Result<ResultsDir, ResultsError> {
        let path = match location {
            Location::Default { base, label } => {
                let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
                create_default(&base, &label, &stamp)?
            }
            Location::Explicit(path) => {
                prepare_explicit(&path, reuse)?;
                path
            }
        };
        let lock = lock(&path)?;
        // Tests run inside their own directories, so every later open must not depend on
        // the current directory; only messages show the path as the user gave it.
        let absolute = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        Ok(ResultsDir {
            path: absolute,
            shown: path,
            _lock: lock,
        })
    }

    /// The directory, absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory as the user named it (relative for the default location), for people.
    pub fn shown(&self) -> &Path {
        &self.shown
    }
}

/// Makes `<base>/<label>-<stamp>[.N]`, the first name not taken, and points `latest` at it.
fn create_default(base: &Path, label: &str, stamp: &str) -> Result<PathBuf, ResultsError> {
    fs::create_dir_all(base).map_err(io_err("create directory", base))?;
    for n in 1u64.. {
        let name = match n {
            1 => format!("{label}-{stamp}"),
            n => format!("{label}-{stamp}.{n}"),
        };
        let path = base.join(&name);
        // create_dir, not a prior exists() check: two runs starting in the same second
        // cannot both get the same directory.
        match fs::create_dir(&path) {
            Ok(()) => {
                if let Err(err) = point_latest(base, &name) {
                    // A convenience link; failing to update it must not stop the run.
                    tracing::warn!("cannot update {}: {err}", base.join("latest").display());
                }
                return Ok(path);
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(io_err("create directory", &path)(err)),
        }
    }
    unreachable!("u64 suffixes cannot run out")
}

/// Replaces `<base>/latest` by a relative symlink to `name`, atomically through rename.
fn point_latest(base: &Path, name: &str) -> io::Result<()> {
    let tmp = base.join(format!(".latest.{}.tmp", std::process::id()));
    if let Err(err) = std::os::unix::fs::symlink(name, &tmp) {
        if err.kind() != io::ErrorKind::AlreadyExists {
            return Err(err);
        }
        // Left over by a killed run that had our pid.
        fs::remove_file(&tmp)?;
        std::os::unix::fs::symlink(name, &tmp)?;
    }
    fs::rename(&tmp, base.join("latest")).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Creates a missing explicit directory, or refuses a non-empty one without `reuse`.
fn prepare_explicit(path: &Path, reuse: bool) -> Result<(), ResultsError> {
    match fs::read_dir(path) {
        Ok(mut entries) => {
            // An unreadable entry counts as content: refusing is the safe side.
            let occupied = entries.any(|e| e.map_or(true, |e| e.file_name() != LOCK_FILE));
            if occupied && !reuse {
                return Err(ResultsError::NotEmpty {
                    path: path.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(path).map_err(io_err("create directory", path))
        }
        Err(err) => Err(io_err("read directory", path)(err)),
    }
}

/// Takes the directory's exclusive lock and writes our pid into the lock file.
fn lock(dir: &Path) -> Result<File, ResultsError> {
    let path = dir.join(LOCK_FILE);
    // No truncation before the lock is ours: the holder's pid must stay readable.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err("open lock file", &path))?;
    if let Err(err) = fs2::FileExt::try_lock_exclusive(&file) {
        if err.kind() != fs2::lock_contended_error().kind() {
            return Err(io_err("lock", &path)(err));
        }
        let pid = fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        return Err(ResultsError::Locked {
            path: dir.to_path_buf(),
            pid,
        });
    }
    file.set_len(0)
        .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
        .map_err(io_err("write lock file", &path))?;
    Ok(file)
}

/// Appends one untagged keyval block to `<dir>/keyval` (job start and job end).
pub fn write_job_keyval(dir: &Path, entries: &BTreeMap<String, String>) -> io::Result<()> {
    let block = keyval::format_block(entries, None)
        .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    keyval::KeyvalFile::open(&dir.join("keyval"))?.append(&block)
}

/// The directories of one test, all inside the job directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDirs {
    /// `<job>/<subdir>`: the test's keyval, status.log and everything below.
    pub outputdir: PathBuf,
    /// `<job>/<subdir>/results`: iteration keyvals and perf measurements.
    pub resultsdir: PathBuf,
    /// `<job>/<subdir>/profiling`: profiler output.
    pub profdir: PathBuf,
    /// `<job>/<subdir>/debug`: the test's debug logs.
    pub debugdir: PathBuf,
}

/// Creates `<job>/<subdir>` with `results/`, `profiling/` and `debug/`; the subdir must be new.
pub fn create_test_dirs(job_dir: &Path, subdir: &str) -> Result<TestDirs, ResultsError> {
    let relative = Path::new(subdir);
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if subdir.is_empty() || !inside {
        return Err(ResultsError::InvalidSubdir {
            subdir: subdir.to_string(),
        });
    }
    let outputdir = job_dir.join(relative);
    if let Some(parent) = outputdir.parent().filter(|_| subdir.contains('/')) {
        fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
    }
    // create_dir itself is the existence check, so two tests cannot both claim it.
    match fs::create_dir(&outputdir) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            return Err(ResultsError::DuplicateSubdir {
                subdir: subdir.to_string(),
            })
        }
        Err(err) => return Err(io_err("create directory", &outputdir)(err)),
    }
    let dirs = TestDirs {
        resultsdir: outputdir.join("results"),
        profdir: outputdir.join("profiling"),
        debugdir: outputdir.join("debug"),
        outputdir,
    };
    for dir in [&dirs.resultsdir, &dirs.profdir, &dirs.debugdir] {
        fs::create_dir(dir).map_err(io_err("create directory", dir))?;
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn default_dirs_get_a_suffix_and_latest_follows() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("results");
        for suffix in ["", ".2", ".3"] {
            let dir = create_default(&base, "job", "20261127-130318").unwrap();
            assert_eq!(dir, base.join(format!("job-20261127-130318{suffix}")));
        }
        let link = fs::read_link(base.join("latest")).unwrap();
        assert_eq!(link, Path::new("job-20261127-130318.3"));
        assert_eq!(names(&base).len(), 4, "no temporary link is left behind");
    }

    #[test]
    fn create_default_locks_a_fresh_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("results");
        let label = "l".to_string();
        let dir = ResultsDir::create(Location::Default { base, label }, false).unwrap();
        let name = dir.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), "l-YYYYmmdd-HHMMSS".len(), "{name}");
        assert_eq!(names(dir.path()), [LOCK_FILE]);
    }

    #[test]
    fn explicit_dirs_are_created_and_locked_with_our_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b");
        let dir = ResultsDir::create(Location::Explicit(path.clone()), false).unwrap();
        assert_eq!(dir.path(), path);
        let pid = fs::read_to_string(path.join(LOCK_FILE)).unwrap();
        assert_eq!(pid, format!("{}\n", std::process::id()));
        let err = ResultsDir::create(Location::Explicit(path.clone()), true).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "results directory {} is in use by another autorun run (pid {})",
                path.display(),
                std::process::id()
            )
        );
        drop(dir);
        ResultsDir::create(Location::Explicit(path), false).expect("only the lock file: empty");
    }

    #[test]
    fn non_empty_explicit_dirs_need_reuse() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("status.log"), "old\n").unwrap();
        let err = ResultsDir::create(Location::Explicit(tmp.path().into()), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "results directory {} is not empty; choose another --results directory or \
                 pass --reuse-results to add to it",
                tmp.path().display()
            )
        );
        assert_eq!(names(tmp.path()), ["status.log"]); // refusing creates nothing
        let dir = ResultsDir::create(Location::Explicit(tmp.path().into()), true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("status.log")).unwrap(),
            "old\n"
        );
    }

    #[test]
    fn job_keyval_blocks_append() {
        let tmp = tempfile::tempdir().unwrap();
        let block = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let start = block(&[("status_version", "1"), ("label", "x")]);
        write_job_keyval(tmp.path(), &start).unwrap();
        write_job_keyval(tmp.path(), &block(&[("job_finished", "1795784599")])).unwrap();
        assert_eq!(
            fs::read_to_string(tmp.path().join("keyval")).unwrap(),
            "label=x\nstatus_version=1\njob_finished=1795784599\n"
        );
        let err = write_job_keyval(tmp.path(), &block(&[("a b", "1")])).unwrap_err();
        assert_eq!(err.to_string(), "Invalid key: a b");
    }

    #[test]
    fn test_dirs_are_created_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = create_test_dirs(tmp.path(), "sleeptest").unwrap();
        assert_eq!(dirs.outputdir, tmp.path().join("sleeptest"));
        assert_eq!(names(&dirs.outputdir), ["debug", "profiling", "results"]);
        let err = create_test_dirs(tmp.path(), "sleeptest").unwrap_err();
        assert_eq!(
            err.to_string(),
            "sleeptest already exists; multiple tests cannot run with the same subdirectory"
        );
        let nested = create_test_dirs(tmp.path(), "sleeptest/child.tag").unwrap();
        let expected = tmp.path().join("sleeptest/child.tag/debug");
        assert_eq!(nested.debugdir, expected);
        for bad in ["", "/etc", "../x", "a/../b", "./a"] {
            let err = create_test_dirs(tmp.path(), bad).unwrap_err();
            assert!(matches!(err, ResultsError::InvalidSubdir { .. }), "{bad}");
        }
    }
}
