//! The REPL's `:commands`, handled before anything is evaluated: parsing their words and
//! printing what they do to the live test.

use std::io::{self, Write};

use crate::engine::failure::{Failure, FailureKind};
use crate::engine::script::LIFECYCLE;
use crate::lifecycle::Raised;

use super::live::{typed_words, CallError, Called, Kind, Live};
use super::show;
use super::Leave;

/// Every command, its arguments and what it does (`:help` prints this table).
pub(crate) const COMMANDS: &[(&str, &str, &str)] = &[
    (":help", "", "this list"),
    (
        ":fns",
        "",
        "the script's functions: lifecycle first, parameters, doc comments",
    ),
    (
        ":call",
        "FN [key=value...]",
        "call FN with the arguments it declares (phases as the runner would)",
    ),
    (
        ":iterate",
        "[N]",
        "N more iterations (default 1): hooks, retries, constraints, keyvals",
    ),
    (
        ":run",
        "[key=value...]",
        "the whole lifecycle as `autorun run` would, as test <name>.replN",
    ),
    (
        ":args",
        "[key=value...]",
        "show the arguments, or set some for what runs next",
    ),
    (
        ":keyvals",
        "",
        "the test keyval and the iteration keyvals written so far",
    ),
    (
        ":perf",
        "",
        "perf keyvals per block with min/mean/max, and perf_measurements",
    ),
    (":status", "", "the job's status log so far"),
    (
        ":logs",
        "[N]",
        "the last N lines (default 20) of the test's DEBUG log",
    ),
    (
        ":results",
        "",
        "the results directory and the test's output directory",
    ),
    (
        ":reload",
        "",
        "recompile the script from disk; state, variables and prompt functions stay",
    ),
    (
        ":quit",
        "",
        "leave (Ctrl-D too); runs cleanup if a phase has run",
    ),
    (":quit!", "", "leave without cleanup"),
];

/// What the loop does after a command.
pub(crate) enum Flow {
    /// Read the next line.
    Continue,
    /// Leave the REPL.
    Leave(Leave),
}

/// Runs one `:command` line.
pub(crate) fn run(live: &mut Live<'_>, line: &str, out: &mut dyn Write) -> io::Result<Flow> {
    let words = split_words(line.trim());
    let (name, rest) = words
        .split_first()
        .map_or(("", &[][..]), |(n, r)| (n.as_str(), r));
    match name {
        ":help" | ":h" | ":?" => help(out)?,
        ":fns" => fns(live, out)?,
        ":call" => call(live, rest, out)?,
        ":iterate" => iterate(live, rest, out)?,
        ":run" => run_whole(live, rest, out)?,
        ":args" => args(live, rest, out)?,
        ":keyvals" => write!(out, "{}", show::keyvals(&live.test().info().outputdir))?,
        ":perf" => write!(out, "{}", show::perf(&live.test().info().outputdir))?,
        ":status" => write!(out, "{}", show::status(&live.results_dir()))?,
        ":logs" => {
            let n = match rest.first().map(|n| n.parse::<usize>()) {
                None => 20,
                Some(Ok(n)) => n,
                Some(Err(_)) => return usage(out, ":logs takes a number of lines, e.g. :logs 50"),
            };
            let info = live.test().info();
            write!(
                out,
                "{}",
                show::logs(&info.debugdir, &info.tagged_testname, n)
            )?
        }
        ":results" => {
            writeln!(out, "job:  {}", live.results_dir().display())?;
            writeln!(out, "test: {}", live.test().info().outputdir.display())?
        }
        ":reload" => match live.reload() {
            Ok(path) => writeln!(out, "reloaded {path}")?,
            Err(e) => writeln!(out, "{e}\n(the old code stays)")?,
        },
        ":quit" | ":q" | ":exit" => return Ok(Flow::Leave(Leave::Quit)),
        ":quit!" | ":q!" => return Ok(Flow::Leave(Leave::SkipCleanup)),
        _ => {
            return usage(
                out,
                &format!("unknown command '{name}'; :help lists the commands"),
            )
        }
    }
    Ok(Flow::Continue)
}

fn usage(out: &mut dyn Write, message: &str) -> io::Result<Flow> {
    writeln!(out, "{message}")?;
    Ok(Flow::Continue)
}

fn help(out: &mut dyn Write) -> io::Result<()> {
    for (name, params, what) in COMMANDS {
        let usage = format!("{name} {params}");
        writeln!(out, "  {usage:<28} {what}")?;
    }
    writeln!(
        out,
        "Anything else is Rhai. `test` is the test object: test.run_once(1) calls a phase\n\
         with `this` bound, test.count reads its state; `job` and `args` are there too.\n\
         Input goes on over lines while a brace, bracket or backtick string is open or an\n\
         operator trails; two empty lines give up on it."
    )
}

fn fns(live: &Live<'_>, out: &mut dyn Write) -> io::Result<()> {
    let script = live.script();
    let mut names: Vec<&String> = script.functions().keys().collect();
    // Lifecycle functions first, in the runner's order, then the others by name.
    names.sort_by_key(|n| {
        (
            LIFECYCLE.iter().position(|p| p == n).unwrap_or(usize::MAX),
            *n,
        )
    });
    if names.is_empty() {
        writeln!(out, "{} defines no functions", script.source_name())?;
    }
    for name in names {
        let f = &script.functions()[name];
        let tag = if LIFECYCLE.contains(&name.as_str()) {
            ""
        } else {
            "  (helper)"
        };
        writeln!(out, "{name}({}){tag}", f.params.join(", "))?;
        for line in f.doc.lines().filter(|l| !l.trim().is_empty()) {
            writeln!(out, "    {line}")?;
        }
    }
    let prompt = live.session().prompt_functions();
    if !prompt.is_empty() {
        writeln!(out, "defined at the prompt:")?;
        for (name, params) in prompt {
            writeln!(out, "  {name}({})", params.join(", "))?;
        }
    }
    Ok(())
}

fn call(live: &mut Live<'_>, rest: &[String], out: &mut dyn Write) -> io::Result<()> {
    let Some((name, words)) = rest.split_first() else {
        writeln!(
            out,
            "usage: :call FN [key=value...], e.g. :call run_once seconds=0"
        )?;
        return Ok(());
    };
    let extra = match typed_words(words) {
        Ok(extra) => extra,
        Err(e) => return writeln!(out, "{e}"),
    };
    if let Some(f) = live.script().functions().get(name.as_str()) {
        let unknown: Vec<&str> = extra
            .keys()
            .map(|k| k.as_str())
            .filter(|k| !f.params.iter().any(|p| p == k || p == "args"))
            .collect();
        if !unknown.is_empty() {
            writeln!(
                out,
                "note: {name} does not declare {}; its parameters: {}",
                unknown.join(", "),
                if f.params.is_empty() {
                    "none".into()
                } else {
                    f.params.join(", ")
                }
            )?;
        }
    }
    match live.call(name, extra) {
        Ok(Called::Phase) => writeln!(out, "{name}: ok"),
        Ok(Called::Undefined) => writeln!(
            out,
            "{name}: {} does not define it; nothing to run",
            live.script().source_name()
        ),
        Ok(Called::Value(Some(v))) => writeln!(out, "=> {v}"),
        Ok(Called::Value(None)) => Ok(()),
        Err(e) => call_error(&e, out),
    }
}

fn iterate(live: &mut Live<'_>, rest: &[String], out: &mut dyn Write) -> io::Result<()> {
    let n = match rest.first().map(|n| n.parse::<i64>()) {
        None => 1,
        Some(Ok(n)) if n >= 0 => n,
        _ => {
            return writeln!(
                out,
                ":iterate takes a number of iterations, e.g. :iterate 3"
            )
        }
    };
    let first = live.test().iteration() + 1;
    match live.iterate(n) {
        Ok(last) if n == 0 => writeln!(out, "no iterations run (this.iteration = {last})"),
        Ok(last) => writeln!(out, "iterations {first}..{last}: ok"),
        Err(e) => call_error(&e, out),
    }
}

fn run_whole(live: &mut Live<'_>, rest: &[String], out: &mut dyn Write) -> io::Result<()> {
    let extra = match live.kind() {
        Kind::Test => crate::run::checked_args(live.script(), rest).map_err(|e| e.to_string()),
        _ => typed_words(rest),
    };
    let extra = match extra {
        Ok(extra) => extra,
        Err(e) => return writeln!(out, "{e}"),
    };
    out.flush()?;
    match live.run_whole(extra) {
        Ok(outcome) => writeln!(
            out,
            "{}: {} (results in {}/{})",
            outcome.name,
            outcome.status,
            live.results_dir().display(),
            outcome.name
        ),
        Err(e) => call_error(&e, out),
    }
}

fn args(live: &mut Live<'_>, rest: &[String], out: &mut dyn Write) -> io::Result<()> {
    if !rest.is_empty() {
        if let Err(e) = live.set_args(rest) {
            return call_error(&e, out);
        }
    }
    if live.args().is_empty() {
        return writeln!(out, "(no arguments)");
    }
    let mut keys: Vec<_> = live.args().keys().cloned().collect();
    keys.sort();
    for key in keys {
        let value = live.args().get(&key).cloned().unwrap_or_default();
        writeln!(out, "{key}={}", live.display(value))?;
    }
    Ok(())
}

fn call_error(e: &CallError, out: &mut dyn Write) -> io::Result<()> {
    match e {
        CallError::Raised(r) => writeln!(out, "{}", raised_text(r)),
        CallError::Failed(f) => writeln!(out, "{}", failure_text(f)),
        CallError::Usage(m) => writeln!(out, "{m}"),
    }
}

/// `FAIL in run_once: boom`; an interrupt says only that.
pub(crate) fn raised_text(r: &Raised) -> String {
    match r.failure.kind {
        FailureKind::Interrupted => format!("interrupted (Ctrl-C) in {}", r.phase),
        _ => format!("{} in {}: {}", r.status, r.phase, r.failure.message),
    }
}

/// How a failure raised at the prompt reads: outcomes with their status, other errors
/// with their class and position.
pub(crate) fn failure_text(f: &Failure) -> String {
    match &f.kind {
        FailureKind::Outcome(status) => format!("{status}: {}", f.message),
        FailureKind::FailRetry => format!("FAIL (fail_retry): {}", f.message),
        FailureKind::Abort => format!("ABORT: {}", f.message),
        FailureKind::Interrupted => "interrupted (Ctrl-C)".into(),
        FailureKind::Timeout(_) | FailureKind::Unhandled => format!("error: {}", f.message),
    }
}

/// Splits a command line on whitespace, keeping brackets, braces and quotes together
/// (`sizes=[1, 2]`, `name="a b"`).
pub(crate) fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0_usize;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && !quoted && depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_json_values_together() {
        assert_eq!(
            split_words(":call run_once sizes=[1, 2] name=\"a b\"  x=1"),
            vec![":call", "run_once", "sizes=[1, 2]", "name=\"a b\"", "x=1"]
        );
    }

    #[test]
    fn failures_read_with_their_status() {
        let f = Failure::new(FailureKind::Outcome(crate::status::Status::Fail), "boom");
        assert_eq!(failure_text(&f), "FAIL: boom");
        let r = Raised {
            status: crate::status::Status::Error,
            failure: Failure::new(FailureKind::Unhandled, "Unhandled X: y"),
            phase: "initialize",
        };
        assert_eq!(raised_text(&r), "ERROR in initialize: Unhandled X: y");
    }
}
