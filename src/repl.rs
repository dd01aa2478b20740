//! `autorun repl`: an interactive session on a live test.

use crate::cli::ReplArgs;
use crate::error::Error;

/// Runs the REPL and returns the exit code.
pub fn run(_cmd: ReplArgs, _cmdline: String) -> Result<i32, Error> {
    Err(Error::Other("the REPL is being written".into()))
}
