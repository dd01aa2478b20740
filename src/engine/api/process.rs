//! Child processes for the `utils` module. Every command runs as `/bin/sh -c <cmd>` in a
//! process group of its own, so that a timeout, Ctrl-C or the end of the test kills the
//! command together with everything it started. Every wait here looks at the test's
//! cancellation state about every 10 ms, and every child is reaped (no zombies).

use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rhai::{CustomType, Dynamic, Engine, TypeBuilder};

use super::register::{doc_comment, HostFn};
use crate::engine::ctx::{HostCtx, Stop};

/// How often waits look at the child and at the cancellation state.
const POLL: Duration = Duration::from_millis(10);
/// How long to wait for a SIGKILLed child to be reaped by its reaper thread.
const GRACE: Duration = Duration::from_secs(1);

/// A shell command and the environment it runs in.
#[derive(Debug, Default, Clone)]
pub(crate) struct Spec {
    /// The command line given to `/bin/sh -c`.
    pub(crate) cmd: String,
    /// Text written to the command's standard input; `None` gives it `/dev/null`.
    pub(crate) stdin: Option<String>,
    /// Environment variables added to the inherited environment.
    pub(crate) env: Vec<(String, String)>,
    /// The working directory; `None` keeps the current one.
    pub(crate) cwd: Option<String>,
}

impl Spec {
    /// A command with no input, the inherited environment and the current directory.
    pub(crate) fn shell(cmd: &str) -> Self {
        Spec {
            cmd: cmd.to_string(),
            ..Spec::default()
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("/bin/sh");
        command.arg("-c").arg(&self.cmd).process_group(0);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        // Without input the command gets /dev/null: in a background process group, reading
        // the terminal would stop it with SIGTTIN and hang the test.
        let stdin = if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        command.stdin(stdin);
        command
    }
}

/// A command that ran to completion.
#[derive(Debug)]
pub(crate) struct Output {
    /// The exit status, see [`exit_code`].
    pub(crate) status: i64,
    /// Standard output, invalid UTF-8 replaced.
    pub(crate) stdout: String,
    /// Standard error, invalid UTF-8 replaced.
    pub(crate) stderr: String,
    /// From the start to the exit of the command and the close of its output.
    pub(crate) duration: Duration,
}

/// Why a command did not run to completion; its process group is dead in every case.
#[derive(Debug)]
pub(crate) enum Failure {
    /// It could not be started (a missing `cwd`, no `/bin/sh`).
    Spawn(io::Error),
    /// Waiting for it failed.
    Wait(io::Error),
    /// Its time limit ran out.
    TimedOut,
    /// The test was cancelled (Ctrl-C or the test's timeout).
    Stopped(Stop),
}

/// The exit status as scripts see it: the exit code, or `-N` for a death by signal `N`
/// (as Python's `subprocess` reports it), so `-9` means SIGKILL.
pub(crate) fn exit_code(status: ExitStatus) -> i64 {
    match (status.code(), status.signal()) {
        (Some(code), _) => i64::from(code),
        (None, Some(signal)) => -i64::from(signal),
        (None, None) => -1,
    }
}

/// Sends SIGKILL to the process group `pgid`.
pub(crate) fn kill_group(pgid: i32) {
    // SAFETY: killpg only sends a signal; a group that already exited yields ESRCH.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

fn pid_of(child: &Child) -> i32 {
    i32::try_from(child.id()).expect("Linux pids fit in i32")
}

/// Feeds `text` to the child's stdin from a thread; closing the pipe afterwards gives EOF.
fn feed(child: &mut Child, text: Option<&String>) {
    if let (Some(text), Some(mut pipe)) = (text.cloned(), child.stdin.take()) {
        // A child that exits without reading makes the write fail; nothing to report.
        thread::spawn(move || drop(pipe.write_all(text.as_bytes())));
    }
}

/// Reads a pipe to its end on a thread of its own, so a chatty child cannot block on a
/// full pipe while we wait for the other one.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error ends the capture with what arrived so far.
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn collect(reader: Option<JoinHandle<Vec<u8>>>) -> String {
    let bytes = reader.and_then(|h| h.join().ok()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs `spec` with its output captured, waiting at most `timeout`.
pub(crate) fn run(
    ctx: &HostCtx,
    spec: &Spec,
    timeout: Option<Duration>,
) -> Result<Output, Failure> {
    let start = Instant::now();
    let mut command = spec.command();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(Failure::Spawn)?;
    feed(&mut child, spec.stdin.as_ref());
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = timeout.and_then(|t| start.checked_add(t));
    let status = wait_captured(ctx, &mut child, deadline, [&stdout, &stderr])?;
    Ok(Output {
        status: exit_code(status),
        stdout: collect(stdout),
        stderr: collect(stderr),
        duration: start.elapsed(),
    })
}

/// Waits for the child to exit and for its output pipes to close. A command that leaves
/// a background process holding its output keeps this waiting, as in Python.
fn wait_captured(
    ctx: &HostCtx,
    child: &mut Child,
    deadline: Option<Instant>,
    readers: [&Option<JoinHandle<Vec<u8>>>; 2],
) -> Result<ExitStatus, Failure> {
    let mut status = None;
    loop {
        let failure = match ctx.check() {
            Err(stop) => Some(Failure::Stopped(stop)),
            Ok(()) if deadline.is_some_and(|d| Instant::now() >= d) => Some(Failure::TimedOut),
            Ok(()) => None,
        };
        let failure = match (failure, status) {
            (Some(f), _) => Some(f),
            (None, None) => match child.try_wait() {
                Ok(s) => {
                    status = s;
                    None
                }
                Err(e) => Some(Failure::Wait(e)),
            },
            (None, Some(_)) => None,
        };
        if let Some(failure) = failure {
            // Readers still blocked on a pipe held by an escaped process are left
            // to finish on their own; the output is not needed any more.
            kill_group(pid_of(child));
            let _ = child.wait();
            return Err(failure);
        }
        let drained = readers
            .iter()
            .all(|r| r.as_ref().is_none_or(JoinHandle::is_finished));
        if let (Some(status), true) = (status, drained) {
            return Ok(status);
        }
        thread::sleep(POLL);
    }
}

/// The exit status of a background process, set by its reaper thread.
#[derive(Default)]
struct Exit {
    status: Mutex<Option<i64>>,
    done: Condvar,
}

/// A command started by `utils::start`; scripts see it as a value of type `Process`.
/// Copies share the process. A thread reaps it as soon as it exits, so a dropped handle
/// leaves no zombie; the process group is killed when the test ends.
#[derive(Clone)]
pub(crate) struct Process {
    pid: i32,
    cmd: String,
    exit: Arc<Exit>,
}

impl Process {
    /// Starts `spec` in the background with the given stdout and stderr.
    pub(crate) fn start(spec: &Spec, stdout: Stdio, stderr: Stdio) -> io::Result<Process> {
        let mut command = spec.command();
        command.stdout(stdout).stderr(stderr);
        let mut child = command.spawn()?;
        feed(&mut child, spec.stdin.as_ref());
        let pid = pid_of(&child);
        let exit = Arc::new(Exit::default());
        let reaper = Arc::clone(&exit);
        thread::spawn(move || {
            let code = match child.wait() {
                Ok(status) => exit_code(status),
                Err(e) => {
                    tracing::warn!("cannot wait for background process {}: {e}", child.id());
                    -1
                }
            };
            *reaper.status.lock().unwrap_or_else(PoisonError::into_inner) = Some(code);
            reaper.done.notify_all();
        });
        Ok(Process {
            pid,
            cmd: spec.cmd.clone(),
            exit,
        })
    }

    /// The process id, which is also its process group id.
    pub(crate) fn pid(&self) -> i32 {
        self.pid
    }

    /// The exit status, or `None` while it runs.
    pub(crate) fn status(&self) -> Option<i64> {
        *self
            .exit
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until it exits or `timeout` passes (`Ok(None)`); on cancellation, kills it.
    pub(crate) fn wait(
        &self,
        ctx: &HostCtx,
        timeout: Option<Duration>,
    ) -> Result<Option<i64>, Stop> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut status = self
            .exit
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(code) = *status {
                return Ok(Some(code));
            }
            if let Err(stop) = ctx.check() {
                drop(status);
                kill_group(self.pid);
                self.settle();
                return Err(stop);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            status = self
                .exit
                .done
                .wait_timeout(status, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Kills its process group and waits for it to die.
    pub(crate) fn kill(&self, ctx: &HostCtx) -> Result<i64, Stop> {
        kill_group(self.pid);
        loop {
            if let Some(code) = self.wait(ctx, Some(GRACE))? {
                return Ok(code);
            }
        }
    }

    /// Gives the reaper a moment to collect a killed child, so the status is set.
    fn settle(&self) {
        let status = self
            .exit
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .exit
            .done
            .wait_timeout_while(status, GRACE, |s| s.is_none());
    }
}

fn wait_secs(ctx: &HostCtx, p: &Process, secs: f64) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
    let timeout = Duration::try_from_secs_f64(secs).map_err(|_| {
        format!("Process.wait: timeout must be a number of seconds >= 0, got {secs}")
    })?;
    match p.wait(ctx, Some(timeout)) {
        Ok(code) => Ok(code.map_or(Dynamic::UNIT, Dynamic::from_int)),
        Err(stop) => Err(stop.into_error()),
    }
}

impl CustomType for Process {
    fn build(mut builder: TypeBuilder<Self>) {
        builder.with_name("Process").with_comments(&[&doc_comment(
            "A background process started by `utils::start`; killed with its process group \
             when the test ends.",
        )]);
    }
}

/// Registers the `Process` type returned by `utils::start`, with its property `pid`,
/// `command`, and methods `is_running()`, `wait()`, `wait(seconds)` and `kill()`.
pub(crate) fn register_type(engine: &mut Engine, ctx: &Arc<HostCtx>) {
    type Res<T> = Result<T, Box<rhai::EvalAltResult>>;
    engine.build_type::<Process>();
    let text = |p: &mut Process| format!("Process({}: {})", p.pid, p.cmd);
    engine
        .register_fn("to_string", text)
        .register_fn("to_debug", text);
    HostFn::getter("pid", "The process id, which is also its process group id.")
        .register(engine, |p: &mut Process| i64::from(p.pid));
    HostFn::getter("command", "The command line it was started with.")
        .register(engine, |p: &mut Process| p.cmd.clone());
    HostFn::new("is_running", &[], "True while the process has not exited.")
        .register(engine, |p: &mut Process| p.status().is_none());
    let c = Arc::clone(ctx);
    HostFn::new(
        "wait",
        &[],
        "Waits for the process to exit and returns its exit status (-N when signal N
         killed it). When the test is interrupted or times out, the process is killed.",
    )
    .register(engine, move |p: &mut Process| -> Res<i64> {
        let code = p.wait(&c, None).map_err(Stop::into_error)?;
        Ok(code.unwrap_or(-1))
    });
    let doc = "Waits at most `seconds` (int or float) for the process to exit and returns
        its exit status, or () when it is still running (it keeps running).";
    let c = Arc::clone(ctx);
    HostFn::new("wait", &["seconds"], doc).register(engine, move |p: &mut Process, secs: f64| {
        wait_secs(&c, p, secs)
    });
    let c = Arc::clone(ctx);
    HostFn::new("wait", &["seconds"], doc).register(engine, move |p: &mut Process, secs: i64| {
        wait_secs(&c, p, secs as f64)
    });
    let c = Arc::clone(ctx);
    HostFn::new(
        "kill",
        &[],
        "Kills the process and its whole process group with SIGKILL, waits for it and
         returns its exit status: -9, or the status it had already exited with.",
    )
    .register(engine, move |p: &mut Process| -> Res<i64> {
        p.kill(&c).map_err(Stop::into_error)
    });
}

#[cfg(test)]
mod tests {
    use super::super::utils::tests::{eval, host, thrown};
    use super::*;
    use rhai::{EvalAltResult, Map};
    use std::sync::atomic::Ordering;

    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    fn pid_from(path: &std::path::Path) -> i32 {
        let text = std::fs::read_to_string(path).expect("pid file");
        text.trim().parse().expect("a pid")
    }

    #[test]
    fn run_timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("pid");
        let (engine, _) = host();
        let t = Instant::now();
        let script = format!(
            r#"utils::run("echo $$ > {}; exec sleep 5", #{{timeout: 0.2}})"#,
            pidfile.display()
        );
        let e = thrown(&engine, &script);
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        let message = e["message"].to_string();
        assert!(message.ends_with("timed out after 0.2 s"), "{message}");
        assert!(!alive(pid_from(&pidfile)));
    }

    #[test]
    fn cancellation_stops_a_running_command() {
        let (engine, ctx) = host();
        let flag = Arc::clone(ctx.interrupt_flag());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.store(true, Ordering::SeqCst);
        });
        let t = Instant::now();
        let e = engine
            .eval::<Map>(r#"utils::run("sleep 5")"#)
            .expect_err("cancelled");
        assert!(matches!(*e, EvalAltResult::ErrorTerminated(..)), "{e}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }

    #[test]
    fn started_processes_die_with_the_test() {
        let (engine, ctx) = host();
        let p = engine
            .eval::<Process>(r#"utils::start("sleep 30")"#)
            .expect("start");
        assert!(alive(p.pid()));
        ctx.kill_background();
        assert_eq!(p.wait(&ctx, Some(Duration::from_secs(1))), Ok(Some(-9)));
        assert!(!alive(p.pid()));
    }

    #[test]
    fn process_handles_wait_and_kill() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let script = format!(
            r#"let p = utils::start("cat; exit 4", #{{stdin: "x", stdout: "{}"}});
               let early = p.wait(0.0);
               [p.wait(), p.is_running(), p.pid > 0, early == () || early == 4]"#,
            out.display()
        );
        let got = eval::<rhai::Array>(&script);
        assert_eq!(format!("{got:?}"), "[4, false, true, true]");
        assert_eq!(std::fs::read_to_string(&out).expect("stdout file"), "x");
        let got = eval::<rhai::Array>(r#"let p = utils::start("sleep 30"); [p.wait(0), p.kill()]"#);
        assert_eq!(format!("{got:?}"), "[(), -9]");
    }

    #[test]
    fn a_cancelled_wait_kills_the_process() {
        let (engine, ctx) = host();
        let p = engine
            .eval::<Process>(r#"utils::start("sleep 30")"#)
            .expect("start");
        ctx.interrupt_flag().store(true, Ordering::SeqCst);
        let mut scope = rhai::Scope::new();
        scope.push("p", p.clone());
        let e = engine
            .eval_with_scope::<i64>(&mut scope, "p.wait()")
            .expect_err("cancelled");
        assert!(matches!(*e, EvalAltResult::ErrorTerminated(..)), "{e}");
        assert_eq!(p.status(), Some(-9));
    }
}
