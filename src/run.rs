//! `autorun run SCRIPT [KEY=VALUE]...`: load and check the script and its arguments before
//! anything touches the disk, then run it as a one-test job, or run a control file's top
//! level with `job` and `args` in scope.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::args;
use crate::cli::{JobArgs, RunArgs};
use crate::console::Console;
use crate::engine::ctx::HostCtx;
use crate::engine::failure::Failure;
use crate::engine::script::TestScript;
use crate::engine::value::from_arg;
use crate::engine::{Engine, Host, Map};
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
pub fn load_script(engine: &Engine, path: &Path) -> Result<TestScript, Error> {
    let mut script = compile_script(engine, path)?;
    if script.is_test() {
        script.load_constants(engine).map_err(|f| Error::Load {
            path: path.to_path_buf(),
            message: f.message,
        })?;
    }
    Ok(script)
}

/// Reads and compiles a script without running any of it.
pub fn compile_script(engine: &Engine, path: &Path) -> Result<TestScript, Error> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::ReadScript {
        path: path.to_path_buf(),
        source,
    })?;
    TestScript::compile(engine, path, &source).map_err(|e| Error::Compile {
        rendered: e.rendered,
    })
}

/// Types the `key=value` words and, for a test, checks them against what it accepts.
pub fn checked_args(script: &TestScript, words: &[String]) -> Result<Map, Error> {
    let arg_error = |message| Error::Argument {
        path: script.path().to_path_buf(),
        message,
    };
    let pairs = args::parse_pairs(words).map_err(arg_error)?;
    if script.is_test() {
        let (params, open) = script.accepted_params();
        args::validate(pairs.iter().map(|(k, _)| k.as_str()), &params, open).map_err(arg_error)?;
    }
    Ok(pairs
        .iter()
        .map(|(k, v)| (k.as_str().into(), from_arg(v)))
        .collect())
}

/// The job configuration the options ask for; `label` defaults to the script's name.
pub fn job_config(opts: &JobArgs, script: &Path, cmdline: String) -> JobConfig {
    let name = script
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "autorun".into());
    let label = opts.label.clone().unwrap_or(name);
    let location = match &opts.results {
        Some(dir) => Location::Explicit(dir.clone()),
        None => Location::Default {
            base: "results".into(),
            label: label.clone(),
        },
    };
    let absolute = std::path::absolute(script).unwrap_or_else(|_| script.to_path_buf());
    let base = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    let testdirs = if opts.testdir.is_empty() {
        crate::lookup::default_testdirs(&base)
    } else {
        opts.testdir
            .iter()
            .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()))
            .collect()
    };
    JobConfig {
        location,
        reuse: opts.reuse_results,
        label,
        settings: Settings {
            test_retry: opts.retry,
            ..Settings::default()
        },
        timeout: opts.timeout,
        console: Console {
            verbosity: opts.verbosity(),
        },
        cmdline,
        base,
        testdirs,
        on_fail: None,
    }
}

/// Runs the `run` subcommand and returns the exit code.
pub fn run(cmd: RunArgs, cmdline: String) -> Result<i32, Error> {
    let host = interruptible_host();
    let script = Arc::new(load_script(host.engine(), &cmd.script)?);
    let args = checked_args(&script, &cmd.words)?;
    let mut config = job_config(&cmd.job, &cmd.script, cmdline);
    if cmd.repl_on_fail {
        config.on_fail = Some(crate::repl::post_mortem(
            host.ctx().clone(),
            cmd.job.verbosity(),
        ));
    }
    let job = Job::start(host.ctx().clone(), config)?;
    if script.is_test() {
        job.run_test(host.engine(), &TestSpec::for_script(script), args, None)?;
    } else {
        run_control(&host, &job, &script, args);
    }
    Ok(job.finish())
}

/// Runs a control file's top level with `job` and `args` in scope.
fn run_control(host: &Host, job: &Job, script: &TestScript, args: Map) {
    let mut scope = crate::engine::Scope::new();
    scope.push("job", job.handle());
    scope.push("args", args);
    if let Err(e) = host.engine().run_ast_with_scope(&mut scope, script.ast()) {
        job.control_failed(
            script.path(),
            &Failure::from_rhai(&e, &script.source_name()),
        );
    }
}
