//! `update_version` (behaviour §5): a test's `setup` runs once per `VERSION`. The version
//! is stamped in `<srcdir>/.version` (as text) only when setup left a `srcdir`; without
//! `PRESERVE_SRCDIR` an out-of-date srcdir is removed first. The whole check-run-stamp
//! sequence holds an exclusive lock shared by every process on the machine, so two
//! autorun processes starting the same test set it up once.

use std::hash::{Hash, Hasher};
use std::path::Path;

use fs2::FileExt;

/// What `update_version` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Updated {
    /// The stamp matched: setup did not run.
    UpToDate,
    /// Setup ran (and stamped srcdir if it created one).
    Ran,
}

/// Why `update_version` failed.
#[derive(Debug)]
pub enum UpdateError<E> {
    /// Setup itself failed; no stamp was written, so the next run retries it.
    Setup(E),
    /// The lock, the old srcdir or the stamp could not be handled.
    Io(String),
}

/// Runs `setup` unless `<srcdir>/.version` already holds `version`.
pub fn update_version<E>(
    srcdir: &Path,
    version: i64,
    preserve_srcdir: bool,
    setup: impl FnOnce() -> Result<(), E>,
) -> Result<Updated, UpdateError<E>> {
    let _lock = lock(srcdir).map_err(UpdateError::Io)?;
    let stamp = srcdir.join(".version");
    let wanted = version.to_string();
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wanted) {
        return Ok(Updated::UpToDate);
    }
    if !preserve_srcdir && srcdir.exists() {
        std::fs::remove_dir_all(srcdir).map_err(|e| {
            UpdateError::Io(format!(
                "cannot remove {} before setup: {e}",
                srcdir.display()
            ))
        })?;
    }
    setup().map_err(UpdateError::Setup)?;
    if srcdir.is_dir() {
        std::fs::write(&stamp, format!("{wanted}\n"))
            .map_err(|e| UpdateError::Io(format!("cannot write {}: {e}", stamp.display())))?;
    }
    Ok(Updated::Ran)
}

/// An exclusive lock for setting up `srcdir`. It lives in the temp directory, keyed by
/// the absolute srcdir, so that tests' folders stay clean.
fn lock(srcdir: &Path) -> Result<std::fs::File, String> {
    let abs = std::path::absolute(srcdir).unwrap_or_else(|_| srcdir.to_path_buf());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    abs.hash(&mut h);
    let path = std::env::temp_dir().join(format!("autorun-setup-{:016x}.lock", h.finish()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open setup lock {}: {e}", path.display()))?;
    file.lock_exclusive()
        .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn build(srcdir: &Path, runs: &Cell<u32>) -> Result<(), String> {
        runs.set(runs.get() + 1);
        std::fs::create_dir_all(srcdir).map_err(|e| e.to_string())?;
        std::fs::write(srcdir.join("built"), "1").map_err(|e| e.to_string())
    }

    #[test]
    fn setup_runs_once_per_version() {
        let d = tempfile::tempdir().expect("tempdir");
        let src = d.path().join("src");
        let runs = Cell::new(0);
        assert!(matches!(
            update_version(&src, 1, false, || build(&src, &runs)),
            Ok(Updated::Ran)
        ));
        assert!(matches!(
            update_version(&src, 1, false, || build(&src, &runs)),
            Ok(Updated::UpToDate)
        ));
        assert_eq!(runs.get(), 1);
        assert_eq!(
            std::fs::read_to_string(src.join(".version")).expect("stamp"),
            "1\n"
        );
        assert!(matches!(
            update_version(&src, 2, false, || build(&src, &runs)),
            Ok(Updated::Ran)
        ));
        assert_eq!(runs.get(), 2);
    }

    #[test]
    fn no_srcdir_means_no_stamp_and_setup_runs_every_time() {
        let d = tempfile::tempdir().expect("tempdir");
        let src = d.path().join("src");
        let runs = Cell::new(0);
        for _ in 0..2 {
            let r: Result<_, UpdateError<String>> = update_version(&src, 1, false, || {
                runs.set(runs.get() + 1);
                Ok(())
            });
            assert!(matches!(r, Ok(Updated::Ran)));
        }
        assert_eq!(runs.get(), 2);
    }

    #[test]
    fn an_outdated_srcdir_is_removed_unless_preserved() {
        let d = tempfile::tempdir().expect("tempdir");
        let src = d.path().join("src");
        std::fs::create_dir_all(&src).expect("mkdir");
        std::fs::write(src.join("shipped"), "x").expect("write");
        let keep: Result<_, UpdateError<String>> = update_version(&src, 1, true, || Ok(()));
        assert!(matches!(keep, Ok(Updated::Ran)));
        assert!(src.join("shipped").exists(), "PRESERVE_SRCDIR keeps it");
        let wipe: Result<_, UpdateError<String>> = update_version(&src, 2, false, || Ok(()));
        assert!(matches!(wipe, Ok(Updated::Ran)));
        assert!(
            !src.exists(),
            "without PRESERVE_SRCDIR an outdated srcdir goes"
        );
    }

    #[test]
    fn a_failed_setup_writes_no_stamp() {
        let d = tempfile::tempdir().expect("tempdir");
        let src = d.path().join("src");
        let r = update_version(&src, 1, false, || {
            std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
            Err("boom".to_string())
        });
        assert!(matches!(r, Err(UpdateError::Setup(m)) if m == "boom"));
        assert!(!src.join(".version").exists());
    }
}
