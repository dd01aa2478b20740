//! Failures of the host itself (bad command line, unreadable script, results directory
//! in use). A test that does not pass is a `Status`, not an `Error`. The exit-code table
//! lives here and in the README.

use std::path::PathBuf;

use crate::results::ResultsError;

/// Exit code: every test GOOD, WARN or TEST_NA.
pub const EXIT_OK: i32 = 0;
/// Exit code: at least one test FAIL or ERROR.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: nothing ran (bad command line, unknown parameter, compile error).
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the job aborted.
pub const EXIT_ABORT: i32 = 3;
/// Exit code: interrupted by Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Why autorun could not run anything.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The script file could not be read.
    #[error("cannot read test script {path}: {source}")]
    ReadScript {
        /// The script path as given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The script does not compile; the message carries the caret rendering.
    #[error("{rendered}")]
    Compile {
        /// The rendered error with source line and caret.
        rendered: String,
    },
    /// The script's top level failed while loading its constants.
    #[error("{path}: the top level failed while loading: {message}")]
    Load {
        /// The script path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A `key=value` argument is malformed or not accepted by the script.
    #[error("{path}: {message}")]
    Argument {
        /// The script the argument was for.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The results directory cannot be used.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// Anything else that stops autorun before a test runs.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        EXIT_USAGE
    }
}
