//! autorun: runs system tests and benchmarks written as Rhai scripts, with the autotest
//! client lifecycle, arguments, keyvals, perf values, constraints and status log.
//!
//! `run(args) -> exit code` is the whole program: parse the command line, dispatch, and
//! turn host errors into a message on stderr and exit code 2.

pub mod args;
pub mod cli;
pub mod console;
pub mod engine;
pub mod error;
pub mod introspect;
pub mod job;
pub mod lifecycle;
pub mod lookup;
pub mod packages;
pub mod profilers;
pub mod repl;
pub mod results;
pub mod run;
pub mod setup;
pub mod status;

use std::ffi::OsString;

/// Runs autorun with the given command line and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cmdline = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    use cli::Command;
    if matches!(
        cli.command,
        Command::Check(_) | Command::List(_) | Command::Api(_)
    ) {
        die_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Run(cmd) => run::run(cmd, cmdline),
        Command::Repl(cmd) => repl::run(cmd, cmdline),
        Command::Check(cmd) => introspect::check(cmd),
        Command::List(cmd) => introspect::list(cmd),
        Command::Api(cmd) => introspect::api(cmd),
    };
    result.unwrap_or_else(|e| {
        eprintln!("autorun: {e}");
        e.exit_code()
    })
}

/// Commands that only print end quietly when their reader goes away (`autorun api | head`),
/// like any Unix filter. Running jobs keep Rust's default instead and ignore console write
/// errors, so a closed pipe never cuts a job short.
fn die_on_closed_pipe() {
    // SAFETY: restoring the default disposition of SIGPIPE has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
