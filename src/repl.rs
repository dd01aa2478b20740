//! `autorun repl [SCRIPT] [KEY=VALUE]...` and `autorun run --repl-on-fail`: an
//! interactive session on a live test. This module owns the loop (lines in, results and
//! errors out, `:commands` before evaluation), how a session starts and ends inside a
//! job (so the status log is complete), and the post-mortem hook. Evaluation itself is
//! `engine::session`; the live test is `live`; input is `input`.
//!
//! The loop is a function over any line source and any `Write`, so sessions can be
//! piped through stdin (no prompts, plain output) and tested.

mod commands;
mod complete;
mod input;
mod live;
mod show;

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::ReplArgs;
use crate::console::Verbosity;
use crate::engine::ctx::HostCtx;
use crate::engine::script::TestScript;
use crate::engine::session::EvalError;
use crate::engine::Host;
use crate::error::Error;
use crate::job::{Job, OpenTest, TestSpec};
use crate::lifecycle::{OnFail, Raised};
use crate::run::{checked_args, interruptible_host, job_config, load_script};
use crate::status::{Level, LogSink, TestOutput};

use commands::{failure_text, raised_text, Flow};
use input::{LineSource, Piped, Read, Terminal};
use live::{Cleanup, Kind, Live};

/// How the user left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// `:quit`, or the end of input (Ctrl-D): cleanup runs if a phase has run.
    Quit,
    /// `:quit!`: no cleanup.
    SkipCleanup,
}

const PROMPT: &str = "autorun> ";
const CONTINUE: &str = "   ...> ";

/// Runs the REPL and returns the exit code of its job.
pub fn run(cmd: ReplArgs, cmdline: String) -> Result<i32, Error> {
    let host = interruptible_host();
    let engine = host.engine();
    let (script, kind) = match &cmd.script {
        Some(path) => {
            let script = load_script(engine, path)?;
            let kind = if script.is_test() {
                Kind::Test
            } else {
                Kind::Control
            };
            (Arc::new(script), kind)
        }
        None => (scratch(engine)?, Kind::Scratch),
    };
    let args = checked_args(&script, &cmd.words)?;
    let label_from = cmd.script.as_deref().unwrap_or(Path::new("repl"));
    let job = Job::start(
        host.ctx().clone(),
        job_config(&cmd.job, label_from, cmdline),
    )?;
    // A control file's top level must not run here: a scratch test stands in for it.
    let spec = TestSpec::for_script(match kind {
        Kind::Control => scratch(engine)?,
        Kind::Test | Kind::Scratch => script.clone(),
    });
    let open = match job.open_test(&spec, args, None)? {
        Ok(open) => open,
        Err(_) => return Ok(job.finish()),
    };
    let prepared = match kind {
        Kind::Test => job.prepare(&open),
        Kind::Control | Kind::Scratch => Ok(()),
    };
    let verdict = match prepared {
        Ok(()) => {
            // Before `enter` moves the working directory into the test's output directory.
            let file = cmd
                .script
                .as_ref()
                .and_then(|p| std::path::absolute(p).ok());
            let entered = job.enter(&open);
            let verdict = attend(&host, &job, &open, spec, script, file, kind, &cmd);
            job.leave(entered);
            verdict
        }
        Err(raised) => {
            eprintln!("autorun: {}", raised_text(&raised));
            Err(raised)
        }
    };
    job.close_test(open, verdict);
    Ok(job.finish())
}

/// The session on the entered test: the loop, then cleanup; returns the verdict.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of an opened test, named once"
)]
fn attend(
    host: &Host,
    job: &Arc<Job>,
    open: &OpenTest,
    spec: TestSpec,
    script: Arc<TestScript>,
    file: Option<PathBuf>,
    kind: Kind,
    cmd: &ReplArgs,
) -> Result<(), Raised> {
    let ctx = host.ctx().clone();
    ctx.set_sink(Some(echoing(
        open.test.output().clone(),
        cmd.job.verbosity(),
    )));
    // Each evaluation gets the test's time budget instead (see `Live::guarded`).
    ctx.set_timeout(None);
    let opened = Live::opened(
        host.engine(),
        ctx,
        job,
        spec,
        open.test.clone(),
        script,
        file,
        kind,
        open.timeout,
    );
    match opened {
        Ok(mut live) => {
            let mut out = io::stdout();
            let leave = converse(&mut live, &mut out);
            finish(&mut live, leave, &mut out)
        }
        Err(failure) => {
            eprintln!(
                "autorun: the script's top level failed in the session: {}",
                failure.message
            );
            Ok(())
        }
    }
}

/// The empty script of a session without a test.
fn scratch(engine: &crate::engine::Engine) -> Result<Arc<TestScript>, Error> {
    let script =
        TestScript::compile(engine, Path::new("repl"), "").map_err(|e| Error::Compile {
            rendered: e.rendered,
        })?;
    Ok(Arc::new(script))
}

/// The `--repl-on-fail` hook: a post-mortem REPL on the failed test, before cleanup.
/// The runner records the original outcome afterwards; leaving only gives the test back.
pub fn post_mortem(ctx: Arc<HostCtx>, verbosity: Verbosity) -> OnFail {
    Arc::new(move |engine, script, test, raised| {
        let saved = ctx.save();
        ctx.set_sink(Some(echoing(test.output().clone(), verbosity)));
        ctx.set_timeout(None);
        let mut out = io::stdout();
        match Live::post_mortem(engine, ctx.clone(), script, test, raised) {
            Ok(mut live) => {
                let _ = writeln!(
                    out,
                    "post-mortem: {} {}\n`error` holds the failure; :quit lets cleanup run and records {}",
                    test.info().tagged_testname,
                    raised_text(raised),
                    raised.status
                );
                if converse(&mut live, &mut out) == Leave::SkipCleanup {
                    let _ = writeln!(out, "(cleanup still runs after a post-mortem)");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "autorun: cannot open the post-mortem REPL: {e}");
            }
        }
        // Processes started at the prompt die here; the REPL may have outlived the
        // test's deadline, so cleanup is not cut short by it.
        ctx.restore(saved);
        ctx.set_timeout(None);
    })
}

/// Runs the loop on the terminal (rustyline) or, when stdin is not one, on its lines.
fn converse(live: &mut Live<'_>, out: &mut dyn Write) -> Leave {
    let stdin = io::stdin();
    let result = if stdin.is_terminal() {
        match Terminal::new() {
            Ok(mut terminal) => {
                let _ = writeln!(
                    out,
                    "autorun repl: {}  (:help lists the commands, Ctrl-D leaves)",
                    live.test().info().outputdir.display()
                );
                interact(live, &mut terminal, out)
            }
            Err(e) => {
                eprintln!("autorun: {e}; reading plain lines instead");
                interact_piped(live, stdin.lock(), out)
            }
        }
    } else {
        interact_piped(live, stdin.lock(), out)
    };
    result.unwrap_or_else(|e| {
        eprintln!("autorun: cannot write the REPL's output: {e}");
        Leave::Quit
    })
}

/// The REPL over any reader and writer: what a piped session and the tests use.
pub(crate) fn interact_piped(
    live: &mut Live<'_>,
    reader: impl BufRead,
    out: &mut dyn Write,
) -> io::Result<Leave> {
    interact(live, &mut Piped::new(reader), out)
}

/// The loop: a `:command`, or Rhai input read until it is complete, then evaluated.
/// Two empty lines give up on incomplete input and show why it does not compile.
fn interact(
    live: &mut Live<'_>,
    input: &mut dyn LineSource,
    out: &mut dyn Write,
) -> io::Result<Leave> {
    let mut pending = String::new();
    let mut blanks = 0;
    loop {
        out.flush()?;
        if input.completes() {
            input.set_words(live.words());
        }
        let prompt = if pending.is_empty() { PROMPT } else { CONTINUE };
        let line = match input.read(prompt) {
            Read::Line(line) => line,
            Read::Interrupted => {
                pending.clear();
                continue;
            }
            Read::Eof => {
                if !pending.trim().is_empty() {
                    writeln!(out, "(incomplete input dropped at the end of input)")?;
                }
                return Ok(Leave::Quit);
            }
        };
        if pending.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with(':') {
                input.remember(trimmed);
                match commands::run(live, trimmed, out)? {
                    Flow::Continue => continue,
                    Flow::Leave(leave) => return Ok(leave),
                }
            }
        } else {
            pending.push('\n');
        }
        pending.push_str(&line);
        blanks = if line.trim().is_empty() {
            blanks + 1
        } else {
            0
        };
        match live.eval(&pending) {
            Err(EvalError::Incomplete(_)) if blanks < 2 => continue,
            Err(EvalError::Incomplete(rendered) | EvalError::Compile(rendered)) => {
                writeln!(out, "{rendered}")?
            }
            Err(EvalError::Runtime(failure)) => writeln!(out, "{}", failure_text(&failure))?,
            Ok(Some(value)) => writeln!(out, "=> {value}")?,
            Ok(None) => {}
        }
        input.remember(&pending);
        pending.clear();
        blanks = 0;
    }
}

/// Leaving a session the REPL opened: cleanup, and the verdict the test is recorded with.
fn finish(live: &mut Live<'_>, leave: Leave, out: &mut dyn Write) -> Result<(), Raised> {
    if live.cleanup_pending() && leave == Leave::Quit {
        let _ = writeln!(out, "running cleanup (leave with :quit! to skip it)");
    }
    let (verdict, cleanup) = live.finish(leave == Leave::SkipCleanup);
    let _ = match cleanup {
        Some(Cleanup::Ran) => writeln!(out, "cleanup: ok"),
        Some(Cleanup::Failed(r)) => writeln!(out, "{}", raised_text(&r)),
        Some(Cleanup::Ignored(r)) => writeln!(
            out,
            "{} (ignored: the test had already failed)",
            raised_text(&r)
        ),
        None => Ok(()),
    };
    verdict
}

/// The test's log sink, also echoing the script's output to the REPL (`print` lines as
/// they are, warnings and errors named; DEBUG lines, which include every command's
/// output, only go to the log), unless `-v` already echoes every log line.
fn echoing(inner: Arc<dyn TestOutput>, verbosity: Verbosity) -> Arc<dyn LogSink> {
    Arc::new(Echoing {
        inner,
        echo: verbosity != Verbosity::Verbose,
    })
}

struct Echoing {
    inner: Arc<dyn TestOutput>,
    echo: bool,
}

impl LogSink for Echoing {
    fn log(&self, level: Level, message: &str) {
        self.inner.log(level, message);
        if !self.echo {
            return;
        }
        let mut out = io::stdout().lock();
        let _ = match level {
            Level::Debug => Ok(()),
            Level::Info => writeln!(out, "{message}"),
            _ => writeln!(out, "{}: {message}", level.as_str().to_lowercase()),
        };
    }
}

#[cfg(test)]
mod tests;
