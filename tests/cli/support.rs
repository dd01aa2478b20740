//! Runs the real `autorun` binary on fixture scripts copied into a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A private working directory with one fixture script copied in.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) script: PathBuf,
}

impl Fixture {
    /// Copies `tests/scripts/<name>` into a new temporary directory.
    pub(crate) fn new(name: &str) -> Fixture {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scripts")
            .join(name);
        Self::from_file(&source)
    }

    /// Copies any script into a new temporary directory.
    pub(crate) fn from_file(source: &Path) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join(source.file_name().expect("file name"));
        std::fs::copy(source, &script).expect("copy fixture");
        Fixture { dir, script }
    }

    /// A fixture from inline source, saved as `name`.
    pub(crate) fn inline(name: &str, source: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join(name);
        std::fs::write(&script, source).expect("write fixture");
        Fixture { dir, script }
    }

    /// A copy of the `tests/scripts/jobs` tree (its `tests/` and `site_tests/`) with a
    /// control file `ctl.rhai` holding `source`.
    pub(crate) fn job(source: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/jobs"),
            dir.path(),
        );
        let script = dir.path().join("ctl.rhai");
        std::fs::write(&script, source).expect("write control file");
        Fixture { dir, script }
    }

    /// The results directory the `run` helpers use.
    pub(crate) fn results(&self) -> PathBuf {
        self.dir.path().join("res")
    }

    /// `autorun run <script> --results <res> <args>` in the fixture's directory.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let results = self.results();
        let mut all = vec![
            "run",
            self.script.to_str().expect("utf-8 path"),
            "--results",
            results.to_str().expect("utf-8"),
        ];
        all.extend_from_slice(args);
        autorun(self.dir.path(), &all)
    }

    /// A file under the results directory, as text ("" when missing).
    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.results().join(rel)).unwrap_or_default()
    }
}

/// Copies a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs the binary with `args` in `cwd`.
pub(crate) fn autorun(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autorun"))
        .args(args)
        .current_dir(cwd)
        .env_remove("AUTORUN_LOG")
        .output()
        .expect("run autorun")
}

/// The exit code, with stdout/stderr in the panic message when it is unexpected.
pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Asserts the exit code, showing the output when it differs.
pub(crate) fn assert_code(out: &Output, expected: i32) {
    assert_eq!(
        code(out),
        expected,
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// stdout as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// stderr as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A status log with `timestamp=` and `localtime=` values replaced by `T` and `L`.
pub(crate) fn normalize_status(log: &str) -> String {
    log.lines()
        .map(|line| {
            line.split('\t')
                .map(|f| {
                    if f.starts_with("timestamp=") {
                        "timestamp=T"
                    } else if f.starts_with("localtime=") {
                        "localtime=L"
                    } else {
                        f
                    }
                })
                .collect::<Vec<_>>()
                .join("\t")
        })
        .map(|l| l + "\n")
        .collect()
}
