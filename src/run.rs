//! `autorun run SCRIPT [KEY=VALUE]...`: load and check the script and its arguments before
//! anything touches the disk, then run it as a one-test job.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::args;
use crate::cli::RunArgs;
use crate::console::Console;
use crate::engine::ctx::HostCtx;
use crate::engine::script::TestScript;
use crate::engine::value::from_arg;
use crate::engine::{Host, Map};
use crate::error::Error;
use crate::job::{Job, JobConfig, TestSpec};
use crate::lifecycle::Settings;
use crate::results::Location;

/// A host whose cancellation flag is set by Ctrl-C.
pub fn interruptible_host() -> Host {
    let flag = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGINT, flag.clone()) {
        tracing::warn!("cannot catch Ctrl-C: {e}");
    }
    Host::new(HostCtx::new(flag))
}

/// Reads and compiles a script; a test's top level runs once to read its constants.
pub fn load_script(host: &Host, path: &Path) -> Result<TestScript, Error> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::ReadScript {
        path: path.to_path_buf(),
        source,
    })?;
    let mut script =
        TestScript::compile(host.engine(), path, &source).map_err(|e| Error::Compile {
            rendered: e.rendered,
        })?;
    if script.is_test() {
        script
            .load_constants(host.engine())
            .map_err(|f| Error::Load {
                path: path.to_path_buf(),
                message: f.message,
            })?;
    }
    Ok(script)
}

/// Types the `key=value` words and checks them against what the script accepts.
pub fn checked_args(script: &TestScript, words: &[String]) -> Result<Map, Error> {
    let arg_error = |message| Error::Argument {
        path: script.path().to_path_buf(),
        message,
    };
    let pairs = args::parse_pairs(words).map_err(arg_error)?;
    let (params, open) = script.accepted_params();
    args::validate(pairs.iter().map(|(k, _)| k.as_str()), &params, open).map_err(arg_error)?;
    Ok(pairs
        .iter()
        .map(|(k, v)| (k.as_str().into(), from_arg(v)))
        .collect())
}

/// Runs the `run` subcommand and returns the exit code.
pub fn run(cmd: RunArgs, cmdline: String) -> Result<i32, Error> {
    let host = interruptible_host();
    let script = load_script(&host, &cmd.script)?;
    if !script.is_test() {
        return Err(Error::Other(format!(
            "{} defines neither run_once nor execute, so it is not a test; add `fn run_once() {{ … }}`",
            cmd.script.display()
        )));
    }
    let args = checked_args(&script, &cmd.words)?;
    let spec = TestSpec::for_script(&script);
    let label = cmd.label.clone().unwrap_or_else(|| spec.name.clone());
    let location = match &cmd.results {
        Some(dir) => Location::Explicit(dir.clone()),
        None => Location::Default {
            base: "results".into(),
            label: label.clone(),
        },
    };
    let cfg = JobConfig {
        location,
        reuse: cmd.reuse_results,
        label,
        settings: Settings {
            test_retry: cmd.retry,
            ..Settings::default()
        },
        timeout: cmd.timeout,
        console: Console {
            verbosity: cmd.verbosity(),
        },
        cmdline,
    };
    let mut job = Job::start(host.ctx().clone(), cfg)?;
    job.run_test(host.engine(), &spec, args)?;
    Ok(job.finish())
}
