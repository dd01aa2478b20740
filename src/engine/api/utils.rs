//! The `utils` module: shell commands (`system`, `system_output`, `run`, `start`), facts
//! about the host, environment variables, the clock and keyval files. The process
//! plumbing lives in `process.rs`; this file turns script arguments into process specs
//! and results into script values and outcomes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rhai::{Dynamic, Engine, EvalAltResult, FnNamespace, FuncRegistration, Map, Module};

use super::process::{self, Failure, Output, Process, Spec};
use crate::engine::ctx::HostCtx;
use crate::engine::failure::outcome_error;
use crate::engine::value::keyval_map;
use crate::results::keyval::{self, KeyvalFile, ParsedValue};
use crate::status::Level;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Starts registering the module function `name`: `params` are `name: type` strings
/// followed by the return type, `doc` is plain text (each line becomes a `///` line).
/// Both feed `autorun api`. Functions are marked volatile: they act on the outside world,
/// so the optimizer must never run them ahead of time.
pub(crate) fn func(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    FuncRegistration::new(name)
        .with_namespace(FnNamespace::Internal)
        .with_volatility(true)
        .with_params_info(params)
        .with_comments([doc_comment(doc)])
}

/// Plain text as the `///` doc-comment block Rhai's metadata expects.
pub(crate) fn doc_comment(doc: &str) -> String {
    let lines: Vec<String> = doc.lines().map(|l| format!("/// {}", l.trim())).collect();
    lines.join("\n")
}

/// Registers the `utils` module and the `Process` type of `utils::start`.
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<HostCtx>) {
    let mut module = Module::new();
    register_commands(&mut module, ctx);
    register_host(&mut module, ctx);
    register_keyval(&mut module);
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

fn hostname() -> Res<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(format!("utils::hostname: {}", std::io::Error::last_os_error()).into());
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

fn memtotal_kb() -> Res<i64> {
    const PATH: &str = "/proc/meminfo";
    let text = std::fs::read_to_string(PATH)
        .map_err(|e| format!("utils::memtotal_kb: cannot read {PATH}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("utils::memtotal_kb: no MemTotal line in {PATH}").into())
}

fn env_var(name: &str) -> Res<Option<String>> {
    // std::env::var_os may panic on such names.
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(format!("utils::env: invalid variable name '{name}'").into());
    }
    Ok(std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
}

/// Flushes dirty pages with sync(2), then asks the kernel to drop its page, dentry and
/// inode caches. Failing to drop them (not root) is only logged, as in the original.
pub(crate) fn drop_caches(ctx: &HostCtx) {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    // Not being root is common and harmless here, as in the original.
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "3\n") {
        ctx.log(
            Level::Debug,
            &format!("utils::drop_caches: cannot drop caches: {e}"),
        );
    }
}

fn register_host(module: &mut Module, ctx: &Arc<HostCtx>) {
    let c = Arc::clone(ctx);
    func(
        "drop_caches",
        &["()"],
        "Flushes dirty pages (sync) and asks the kernel to drop its page, dentry and inode
         caches; failing to drop them (not root) is ignored.",
    )
    .set_into_module(module, move || drop_caches(&c));
    func("hostname", &["string"], "The host's name.").set_into_module(module, hostname);
    func(
        "cpu_count",
        &["int"],
        "The number of CPUs this process may run on.",
    )
    .set_into_module(module, || {
        std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
    });
    func(
        "memtotal_kb",
        &["int"],
        "Total memory in kB (MemTotal of /proc/meminfo).",
    )
    .set_into_module(module, memtotal_kb);
    func(
        "env",
        &["name: string", "?"],
        "The environment variable `name` as a string, or () when it is not set.",
    )
    .set_into_module(module, |name: &str| -> Res<Dynamic> {
        Ok(env_var(name)?.map_or(Dynamic::UNIT, Dynamic::from))
    });
    func(
        "env",
        &["name: string", "default: ?", "?"],
        "The environment variable `name` as a string, or `default` when it is not set.",
    )
    .set_into_module(module, |name: &str, default: Dynamic| -> Res<Dynamic> {
        Ok(env_var(name)?.map_or(default, Dynamic::from))
    });
    func(
        "now",
        &["float"],
        "The current time in seconds since the Unix epoch (a float).",
    )
    .set_into_module(module, || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
}

/// The keyval file `path` names: `<path>/keyval` when `path` is a directory.
fn keyval_file(path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_dir() {
        path.join("keyval")
    } else {
        path.to_path_buf()
    }
}

fn read_keyval(path: &str) -> Res<Map> {
    let file = keyval_file(path);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(format!("utils::read_keyval: cannot read {}: {e}", file.display()).into())
        }
    };
    let entries =
        keyval::parse(&text).map_err(|e| format!("utils::read_keyval: {}: {e}", file.display()))?;
    let value = |v| match v {
        ParsedValue::Int(i) => Dynamic::from_int(i),
        ParsedValue::Float(f) => Dynamic::from_float(f),
        ParsedValue::Str(s) => Dynamic::from(s),
    };
    Ok(entries
        .into_iter()
        .map(|(k, v)| (k.into(), value(v)))
        .collect())
}

fn write_keyval(path: &str, map: &Map) -> Res<()> {
    let file = keyval_file(path);
    let fail = |e: String| format!("utils::write_keyval: {}: {e}", file.display());
    let block = keyval::format_block(&keyval_map(map), None).map_err(fail)?;
    KeyvalFile::open(&file)
        .and_then(|mut f| f.append(&block))
        .map_err(|e| fail(format!("cannot append: {e}")).into())
}

fn register_keyval(module: &mut Module) {
    func(
        "read_keyval",
        &["path: string", "map"],
        "The keys and values of the keyval file `path` (`<path>/keyval` for a directory).
         Digits read as ints, digits.digits as floats, anything else as strings; a missing
         file reads as #{}. Lines that are not `key=value` are an error.",
    )
    .set_into_module(module, read_keyval);
    func(
        "write_keyval",
        &["path: string", "map: map", "()"],
        "Appends `map` to the keyval file `path` (`<path>/keyval` for a directory) as
         `key=value` lines sorted by key: ints as digits, floats in shortest round-trip
         form, bools true/false, strings as they are, other values in Rhai literal form.
         Keys may hold letters, digits, `_`, `-` and `.`; a bad key writes nothing.",
    )
    .set_into_module(module, |path: &str, map: Map| write_keyval(path, &map));
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

    #[test]
    fn host_facts() {
        assert!(!eval::<String>("utils::hostname()").is_empty());
        assert!(eval::<i64>("utils::cpu_count()") >= 1);
        assert!(eval::<i64>("utils::memtotal_kb()") > 0);
        assert!(eval::<f64>("utils::now()") > 1.6e9);
        assert_eq!(
            eval::<String>(r#"utils::env("PATH")"#),
            std::env::var("PATH").expect("PATH")
        );
        assert!(eval::<bool>(r#"utils::env("AUTORUN_SURELY_UNSET") == ()"#));
        assert_eq!(eval::<i64>(r#"utils::env("AUTORUN_SURELY_UNSET", 7)"#), 7);
        eval::<()>("utils::drop_caches()");
    }

    #[test]
    fn keyvals_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = format!(
            r#"utils::write_keyval("{0}", #{{b: 1, a: 0.5, c: "x y", d: true, e: [1]}});
               utils::write_keyval("{0}/keyval", #{{b: "007"}});
               [utils::read_keyval("{0}"), utils::read_keyval("{0}/none")]"#,
            dir.path().display()
        );
        let got = eval::<rhai::Array>(&script);
        let text = std::fs::read_to_string(dir.path().join("keyval")).expect("keyval");
        assert_eq!(text, "a=0.5\nb=1\nc=x y\nd=true\ne=[1]\nb=007\n");
        assert_eq!(
            format!("{got:?}"),
            r#"[#{"a": 0.5, "b": 7, "c": "x y", "d": "true", "e": "[1]"}, #{}]"#
        );
        let (engine, _) = host();
        let e = engine.eval::<()>(r#"utils::write_keyval("/nonexistent/x", #{"a b": 1})"#);
        let e = e.expect_err("bad key").to_string();
        assert!(
            e.contains("utils::write_keyval: /nonexistent/x: Invalid key: a b"),
            "{e}"
        );
    }
}
