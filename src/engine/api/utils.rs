//! The `utils` module: shell commands (`system`, `system_output`, `run`, `start`). Facts
//! about the host, the environment, the clock and keyval files are in `facts.rs`; the
//! process plumbing lives in `process.rs`. This file turns script arguments into process
//! specs and results into script values and outcomes.

use std::fs::File;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Module};

use super::facts;
use super::process::{self, Failure, Output, Process, Spec};
use super::register::func;
use crate::engine::ctx::HostCtx;
use crate::engine::failure::outcome_error;
use crate::status::Level;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Registers the `utils` module and the `Process` type of `utils::start`.
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<HostCtx>) {
    let mut module = Module::new();
    register_commands(&mut module, ctx);
    facts::register_host(&mut module, ctx);
    facts::register_keyval(&mut module);
    engine.register_static_module("utils", module.into());
    process::register_type(engine, ctx);
}

/// Options `run` accepts, and `start` accepts.
const RUN_OPTS: &[&str] = &["timeout", "ignore_status", "stdin", "env", "cwd"];
const START_OPTS: &[&str] = &["stdin", "env", "cwd", "stdout", "stderr"];

/// `run`'s options, checked.
struct RunOpts {
    spec: Spec,
    timeout: Option<f64>,
    ignore_status: bool,
}

fn check_keys(func: &str, opts: &Map, accepted: &[&str]) -> Res<()> {
    match opts.keys().find(|k| !accepted.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{func}: unknown option '{key}'; accepted options: {}",
            accepted.join(", ")
        )
        .into()),
        None => Ok(()),
    }
}

/// The option `key`, absent or `()` being `None`.
fn opt<'a>(opts: &'a Map, key: &str) -> Option<&'a Dynamic> {
    opts.get(key).filter(|v| !v.is_unit())
}

fn opt_string(func: &str, opts: &Map, key: &str) -> Res<Option<String>> {
    opt(opts, key)
        .map(|v| {
            v.clone()
                .into_string()
                .map_err(|t| format!("{func}: option '{key}' must be a string, got {t}").into())
        })
        .transpose()
}

/// Builds the process spec from `cmd` and the options shared by `run` and `start`.
fn spec_from(func: &str, cmd: &str, opts: &Map) -> Res<Spec> {
    let env = match opt(opts, "env") {
        None => Vec::new(),
        Some(v) => v
            .read_lock::<Map>()
            .ok_or_else(|| format!("{func}: option 'env' must be a map, got {}", v.type_name()))?
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    Ok(Spec {
        cmd: cmd.to_string(),
        stdin: opt_string(func, opts, "stdin")?,
        env,
        cwd: opt_string(func, opts, "cwd")?,
    })
}

fn run_opts(cmd: &str, opts: &Map) -> Res<RunOpts> {
    const FUNC: &str = "utils::run";
    check_keys(FUNC, opts, RUN_OPTS)?;
    let timeout = match opt(opts, "timeout") {
        None => None,
        Some(v) => Some(
            v.as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .ok()
                .filter(|t| Duration::try_from_secs_f64(*t).is_ok())
                .ok_or_else(|| {
                    format!("{FUNC}: option 'timeout' must be a number of seconds >= 0, got {v}")
                })?,
        ),
    };
    let ignore_status = match opt(opts, "ignore_status") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|t| format!("{FUNC}: option 'ignore_status' must be a bool, got {t}"))?,
    };
    Ok(RunOpts {
        spec: spec_from(FUNC, cmd, opts)?,
        timeout,
        ignore_status,
    })
}

/// Runs a command with captured output, logging it and turning failures into errors.
fn run_spec(ctx: &HostCtx, func: &str, spec: &Spec, timeout: Option<f64>) -> Res<Output> {
    let cmd = &spec.cmd;
    ctx.log(Level::Debug, &format!("Running '{cmd}'"));
    let limit = timeout.and_then(|t| Duration::try_from_secs_f64(t).ok());
    process::run(ctx, spec, limit).map_err(|failure| match failure {
        Failure::Spawn(e) => format!("{func}: cannot start '{cmd}': {e}").into(),
        Failure::Wait(e) => format!("{func}: cannot wait for '{cmd}': {e}").into(),
        Failure::TimedOut => outcome_error(
            "TestError",
            &format!(
                "Command <{cmd}> timed out after {} s",
                timeout.unwrap_or_default()
            ),
        ),
        Failure::Stopped(stop) => stop.into_error(),
    })
}

/// Writes non-empty command output to the test's DEBUG log.
fn log_output(ctx: &HostCtx, out: &Output, stdout: bool, stderr: bool) {
    if stdout && !out.stdout.is_empty() {
        ctx.log(Level::Debug, &format!("[stdout] {}", out.stdout));
    }
    if stderr && !out.stderr.is_empty() {
        ctx.log(Level::Debug, &format!("[stderr] {}", out.stderr));
    }
}

/// The TestError for a non-zero exit status, unless it is ignored.
fn check_status(cmd: &str, out: &Output, ignore_status: bool) -> Res<()> {
    if ignore_status || out.status == 0 {
        return Ok(());
    }
    Err(outcome_error(
        "TestError",
        &format!("Command <{cmd}> failed, rc={}", out.status),
    ))
}

fn system(ctx: &HostCtx, cmd: &str, ignore_status: bool) -> Res<i64> {
    let out = run_spec(ctx, "utils::system", &Spec::shell(cmd), None)?;
    log_output(ctx, &out, true, true);
    check_status(cmd, &out, ignore_status)?;
    Ok(out.status)
}

fn system_output(ctx: &HostCtx, cmd: &str) -> Res<String> {
    let out = run_spec(ctx, "utils::system_output", &Spec::shell(cmd), None)?;
    log_output(ctx, &out, out.status != 0, true);
    check_status(cmd, &out, false)?;
    let mut stdout = out.stdout;
    if stdout.ends_with('\n') {
        stdout.pop();
    }
    Ok(stdout)
}

fn run(ctx: &HostCtx, cmd: &str, opts: &Map) -> Res<Map> {
    let opts = run_opts(cmd, opts)?;
    let out = run_spec(ctx, "utils::run", &opts.spec, opts.timeout)?;
    if !opts.ignore_status && out.status != 0 {
        log_output(ctx, &out, true, true);
    }
    check_status(cmd, &out, opts.ignore_status)?;
    let mut map = Map::new();
    map.insert("command".into(), cmd.into());
    map.insert("exit_status".into(), out.status.into());
    map.insert("stdout".into(), out.stdout.into());
    map.insert("stderr".into(), out.stderr.into());
    map.insert("duration".into(), out.duration.as_secs_f64().into());
    Ok(map)
}

/// Opens the file a background process writes one of its outputs to, or /dev/null.
fn output_file(opts: &Map, key: &str) -> Res<Stdio> {
    match opt_string("utils::start", opts, key)? {
        None => Ok(Stdio::null()),
        Some(path) => File::create(&path)
            .map(Stdio::from)
            .map_err(|e| format!("utils::start: cannot create {key} file {path}: {e}").into()),
    }
}

fn start(ctx: &HostCtx, cmd: &str, opts: &Map) -> Res<Process> {
    check_keys("utils::start", opts, START_OPTS)?;
    let spec = spec_from("utils::start", cmd, opts)?;
    let (stdout, stderr) = (output_file(opts, "stdout")?, output_file(opts, "stderr")?);
    let child = Process::start(&spec, stdout, stderr)
        .map_err(|e| format!("utils::start: cannot start '{cmd}': {e}"))?;
    ctx.track_process_group(child.pid());
    ctx.log(
        Level::Debug,
        &format!("Started '{cmd}' in the background, pid {}", child.pid()),
    );
    Ok(child)
}

fn register_commands(module: &mut Module, ctx: &Arc<HostCtx>) {
    let c = Arc::clone(ctx);
    func(
        "system",
        &["cmd: string", "int"],
        "Runs `cmd` with /bin/sh in its own process group and returns its exit status.
         Its stdout and stderr go to the test's DEBUG log.
         Throws TestError `Command <cmd> failed, rc=N` on a non-zero status.",
    )
    .set_into_module(module, move |cmd: &str| system(&c, cmd, false));
    let c = Arc::clone(ctx);
    func(
        "system",
        &["cmd: string", "ignore_status: bool", "int"],
        "Like `system(cmd)`; with `ignore_status` true a non-zero status is returned, not thrown.",
    )
    .set_into_module(module, move |cmd: &str, ignore: bool| {
        system(&c, cmd, ignore)
    });
    let c = Arc::clone(ctx);
    func(
        "system_output",
        &["cmd: string", "string"],
        "Runs `cmd` like `system` and returns its stdout without one trailing newline.
         Its stderr goes to the test's DEBUG log. Throws TestError on a non-zero status.",
    )
    .set_into_module(module, move |cmd: &str| system_output(&c, cmd));
    let doc = "Runs `cmd` with /bin/sh in its own process group and returns
        #{command, exit_status, stdout, stderr, duration} (duration in seconds, a float).
        exit_status is the exit code, or -N when signal N killed the command.
        Options: timeout (seconds; on expiry the process group is killed and TestError
        `Command <cmd> timed out after <t> s` is thrown), ignore_status (default false:
        a non-zero status throws TestError `Command <cmd> failed, rc=N`), stdin (text fed
        to the command; without it stdin is /dev/null), env (map of variables added to the
        environment), cwd (working directory). Any other key is an error.";
    let c = Arc::clone(ctx);
    func("run", &["cmd: string", "map"], doc)
        .set_into_module(module, move |cmd: &str| run(&c, cmd, &Map::new()));
    let c = Arc::clone(ctx);
    func("run", &["cmd: string", "opts: map", "map"], doc)
        .set_into_module(module, move |cmd: &str, opts: Map| run(&c, cmd, &opts));
    let doc = "Starts `cmd` with /bin/sh in the background, in its own process group, and
        returns a Process: `p.pid`, `p.command`, `p.is_running()`, `p.wait()`,
        `p.wait(seconds)`, `p.kill()`. The whole group is killed when the test ends.
        Options: stdout, stderr (files the output is written to, replacing them; without
        them the output is discarded), stdin (text fed to the command), env, cwd.";
    let c = Arc::clone(ctx);
    func("start", &["cmd: string", "Process"], doc)
        .set_into_module(module, move |cmd: &str| start(&c, cmd, &Map::new()));
    let c = Arc::clone(ctx);
    func("start", &["cmd: string", "opts: map", "Process"], doc)
        .set_into_module(module, move |cmd: &str, opts: Map| start(&c, cmd, &opts));
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// An engine with `utils` registered, and its context.
    pub(crate) fn host() -> (Engine, Arc<HostCtx>) {
        let ctx = HostCtx::new(Arc::new(AtomicBool::new(false)));
        let mut engine = Engine::new();
        register(&mut engine, &ctx);
        (engine, ctx)
    }

    /// Evaluates `script` with `utils` registered; panics when it fails.
    pub(crate) fn eval<T: Clone + Send + Sync + 'static>(script: &str) -> T {
        host().0.eval::<T>(script).expect(script)
    }

    /// The thrown outcome map of a failing script.
    pub(crate) fn thrown(engine: &Engine, script: &str) -> Map {
        match *engine.eval::<Dynamic>(script).expect_err(script) {
            EvalAltResult::ErrorRuntime(v, _) => v.try_cast::<Map>().expect("an outcome map"),
            e => panic!("{script}: unexpected error {e}"),
        }
    }

    #[test]
    fn system_returns_status_and_throws_on_failure() {
        let (engine, _) = host();
        assert_eq!(eval::<i64>(r#"utils::system("true")"#), 0);
        assert_eq!(eval::<i64>(r#"utils::system("exit 3", true)"#), 3);
        let e = thrown(&engine, r#"utils::system("exit 3")"#);
        assert_eq!(e["kind"].to_string(), "TestError");
        assert_eq!(e["message"].to_string(), "Command <exit 3> failed, rc=3");
    }

    #[test]
    fn system_output_strips_one_newline() {
        assert_eq!(eval::<String>(r#"utils::system_output("echo hi")"#), "hi");
        assert_eq!(
            eval::<String>(r#"utils::system_output("printf 'a\n\n'")"#),
            "a\n"
        );
    }

    #[test]
    fn run_returns_everything_and_applies_options() {
        let m = eval::<Map>(
            r#"utils::run("cat; echo $X >&2; pwd; exit 2",
                #{stdin: "in ", env: #{X: 5}, cwd: "/", ignore_status: true})"#,
        );
        assert_eq!(m["stdout"].to_string(), "in /\n");
        assert_eq!(m["stderr"].to_string(), "5\n");
        assert_eq!(m["exit_status"].as_int(), Ok(2));
        assert!(m["duration"].as_float().is_ok_and(|d| d >= 0.0));
        let m = eval::<Map>(r#"utils::run("kill -9 $$", #{ignore_status: true})"#);
        assert_eq!(m["exit_status"].as_int(), Ok(-9));
    }

    #[test]
    fn run_rejects_unknown_and_mistyped_options() {
        let (engine, _) = host();
        let e = engine
            .eval::<Map>(r#"utils::run("true", #{timout: 1})"#)
            .expect_err("bad key");
        assert!(
            e.to_string()
                .contains("unknown option 'timout'; accepted options: timeout,"),
            "{e}"
        );
        let e = engine
            .eval::<Map>(r#"utils::run("true", #{timeout: "1"})"#)
            .expect_err("bad type");
        assert!(
            e.to_string().contains("option 'timeout' must be a number"),
            "{e}"
        );
        let e = engine
            .eval::<Map>(r#"utils::run("true", #{cwd: "/nonexistent/x"})"#)
            .expect_err("cwd");
        assert!(
            e.to_string().contains("utils::run: cannot start 'true'"),
            "{e}"
        );
    }
}
