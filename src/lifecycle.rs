//! The lifecycle of one test, in the original's exact order (behaviour §4.5–§4.8):
//!
//! ```text
//! initialize → setup (once per VERSION) → warmup → execute
//!   execute (default): for each iteration (or until test_length):
//!     retry loop (fail_retry, up to the job's test_retry):
//!       before-iteration hooks → before_run_once → run_once → after_run_once
//!       → postprocess_iteration → perf constraints → after-iteration hooks (reversed, always)
//!   → profiled run (only with profilers) → postprocess → failed constraints → FAIL
//! → cleanup (unless run_cleanup=false; its error is only logged after a failure)
//! ```
//!
//! It calls the script and the test object; it writes results only through the test
//! object's output and never prints.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::engine::constraints::{failure_message, Constraints};
use crate::engine::ctx::HostCtx;
use crate::engine::failure::{Failure, FailureKind};
use crate::engine::script::TestScript;
use crate::engine::value::truthy;
use crate::engine::{Dynamic, Engine, Map, TestObj};
use crate::profilers::ProfilerManager;
use crate::setup::{update_version, UpdateError, Updated};
pub use crate::status::Settings;
use crate::status::{Level, Status};

/// Why a test ended without passing: its status and the decoded failure.
#[derive(Debug, Clone)]
pub struct Raised {
    /// The status the test gets.
    pub status: Status,
    /// What the script raised.
    pub failure: Failure,
    /// The lifecycle function it was raised in.
    pub phase: &'static str,
}

type Res<T = ()> = Result<T, Raised>;

/// Called when a test has failed (FAIL or ERROR), before its cleanup: the test is still
/// live, so a post-mortem REPL can inspect it. The outcome is recorded unchanged after.
pub type OnFail = std::sync::Arc<dyn Fn(&Engine, &TestScript, &TestObj, &Raised) + Send + Sync>;

/// One test's lifecycle over a loaded script and its test object.
pub struct Lifecycle<'a> {
    engine: &'a Engine,
    ctx: &'a HostCtx,
    script: &'a TestScript,
    test: TestObj,
    this: Dynamic,
    args: Map,
    settings: &'a Settings,
    profilers: &'a Mutex<ProfilerManager>,
    constraints: Vec<String>,
    sandbox: Option<Constraints>,
    failed_constraints: Vec<Vec<String>>,
    on_fail: Option<OnFail>,
    /// The lifecycle function called last, named in failures raised inside the loop.
    current: &'static str,
}

impl<'a> Lifecycle<'a> {
    /// Prepares a run of `script` on `test` with the named `args`.
    pub fn new(
        engine: &'a Engine,
        ctx: &'a HostCtx,
        script: &'a TestScript,
        test: TestObj,
        args: Map,
        settings: &'a Settings,
        profilers: &'a Mutex<ProfilerManager>,
    ) -> Self {
        let this = Dynamic::from(test.clone());
        Lifecycle {
            engine,
            ctx,
            script,
            test,
            this,
            args,
            settings,
            profilers,
            constraints: Vec::new(),
            sandbox: None,
            failed_constraints: Vec::new(),
            on_fail: None,
            current: "initialize",
        }
    }

    /// Calls `hook` when the test fails, before cleanup.
    pub fn on_fail(mut self, hook: Option<OnFail>) -> Self {
        self.on_fail = hook;
        self
    }

    /// Runs the whole lifecycle (`_exec`): the body, then cleanup by the original's rules.
    pub fn run(&mut self) -> Res {
        let run_cleanup = match self.args.get("run_cleanup") {
            Some(v) => truthy(v),
            None => self.settings.run_test_cleanup,
        };
        let result = self.body();
        let Err(raised) = result else {
            return if run_cleanup {
                self.phase("cleanup", false)
            } else {
                Ok(())
            };
        };
        self.log(
            Level::Warning,
            &format!(
                "test raised in {}: {}",
                raised.phase, raised.failure.message
            ),
        );
        if let Some(hook) = &self.on_fail {
            if raised.status.is_failure() {
                hook(self.engine, self.script, &self.test, &raised);
            }
        }
        if run_cleanup {
            self.prepare_cleanup_after(&raised.failure);
            if let Err(c) = self.phase("cleanup", false) {
                self.log(
                    Level::Error,
                    &format!(
                        "Ignoring exception during cleanup() phase: {}",
                        c.failure.message
                    ),
                );
                self.log(
                    Level::Error,
                    &format!(
                        "Now raising the earlier {} error",
                        raised.failure.kind_name()
                    ),
                );
            }
        }
        Err(raised)
    }

    fn body(&mut self) -> Res {
        self.phase("initialize", false)?;
        self.setup()?;
        self.phase("warmup", true)?;
        if self.script.has("execute") {
            self.phase("execute", true)
        } else {
            self.execute().map_err(|r| body_status(r, self.current))
        }
    }

    /// Cleanup gets its own budget after a timeout, and runs despite a Ctrl-C.
    fn prepare_cleanup_after(&self, failure: &Failure) {
        let ctx = self.ctx;
        match failure.kind {
            FailureKind::Timeout(secs) => ctx.set_timeout(Some(secs)),
            FailureKind::Interrupted => ctx
                .interrupt_flag()
                .store(false, std::sync::atomic::Ordering::SeqCst),
            _ => {}
        }
    }

    /// Calls one lifecycle function by name, classifying its failure as the runner would
    /// (unhandled errors are FAIL in warmup, run_once and execute, ERROR elsewhere).
    pub fn call_phase(&mut self, name: &'static str) -> Res {
        let in_body = matches!(
            name,
            "warmup"
                | "execute"
                | "before_run_once"
                | "run_once"
                | "after_run_once"
                | "postprocess_iteration"
                | "postprocess"
        );
        self.phase(name, in_body)
    }

    /// Runs `n` more iterations of the default loop (hooks, retries, constraints, keyval
    /// writes), numbering them on from the current iteration; then the constraint verdict.
    pub fn iterate(&mut self, n: i64) -> Res {
        self.constraints =
            constraint_list(self.args.get("constraints")).map_err(|f| body_status(f, "execute"))?;
        let profile_only = self.settings.default_profile_only;
        for _ in 0..n {
            self.test.set_iteration(self.test.iteration() + 1);
            self.run_once_with_retry(profile_only)
                .map_err(|f| body_status(f, self.current))?;
        }
        self.constraint_verdict()
            .map_err(|f| body_status(f, "execute"))
    }

    /// Calls a lifecycle function; unhandled errors are FAIL in the body, ERROR elsewhere.
    fn phase(&mut self, name: &'static str, in_body: bool) -> Res {
        self.call(name).map_err(|f| raised(f, name, in_body))
    }

    fn profilers(&self) -> MutexGuard<'_, ProfilerManager> {
        self.profilers.lock().expect("profilers lock poisoned")
    }

    /// Calls a lifecycle function for its effects; what it returns is not used.
    fn call(&mut self, name: &'static str) -> Result<(), Failure> {
        self.current = name;
        self.script
            .call(self.engine, &mut self.this, name, &self.args)
            .map(drop)
    }

    fn log(&self, level: Level, msg: &str) {
        self.test.output().log(level, msg);
    }

    /// Setup once per VERSION (`crate::setup`); only for scripts that define `setup`, so
    /// that a test without one never touches its srcdir.
    fn setup(&mut self) -> Res {
        if !self.script.has("setup") {
            return Ok(());
        }
        let srcdir = self.test.info().srcdir.clone();
        let consts = self.script.consts().clone();
        let updated = update_version(&srcdir, consts.version, consts.preserve_srcdir, || {
            self.phase("setup", false)
        });
        match updated {
            Ok(Updated::UpToDate) => {
                let msg = format!(
                    "setup: {} is at version {}, nothing to do",
                    srcdir.display(),
                    consts.version
                );
                self.log(Level::Debug, &msg);
                Ok(())
            }
            Ok(Updated::Ran) => Ok(()),
            Err(UpdateError::Setup(raised)) => Err(raised),
            Err(UpdateError::Io(message)) => Err(raised(
                Failure::new(FailureKind::Unhandled, message),
                "setup",
                false,
            )),
        }
    }

    /// The default `execute`: counted or timed iterations, the profiled run, postprocess
    /// and the constraint verdict. Errors inside are body errors (FAIL when unhandled).
    fn execute(&mut self) -> Result<(), Failure> {
        if self.profilers().active() {
            self.profilers().stop();
        }
        let profile_only = match self.args.get("profile_only") {
            Some(v) if !v.is_unit() => truthy(v),
            _ => self.settings.default_profile_only,
        };
        self.constraints = constraint_list(self.args.get("constraints"))?;
        let iterations = count_arg(self.args.get("iterations"), "iterations")?;
        let test_length = seconds_arg(self.args.get("test_length"), "test_length")?;
        if let Some(length) = test_length.filter(|l| *l > 0.0) {
            if iterations.is_some() {
                self.log(
                    Level::Debug,
                    "Iterations parameter ignored (timed execution)",
                );
            }
            let start = Instant::now();
            loop {
                self.run_once_with_retry(profile_only)?;
                if start.elapsed().as_secs_f64() >= length {
                    break;
                }
            }
        } else {
            let n = iterations.unwrap_or(1);
            for i in 1..=n {
                self.test.set_iteration(i);
                self.run_once_with_retry(profile_only)?;
            }
        }
        if !profile_only {
            self.test.set_iteration(self.test.iteration() + 1);
            self.run_once_profiling()?;
        }
        self.call("postprocess")?;
        self.constraint_verdict()
    }

    /// The original's `process_failed_constraints`: FAIL with every analysed iteration's
    /// failed constraints, raised by the execute loop itself.
    fn constraint_verdict(&mut self) -> Result<(), Failure> {
        self.current = "execute";
        let msg = failure_message(&self.failed_constraints);
        if !msg.is_empty() {
            return Err(Failure::new(FailureKind::Outcome(Status::Fail), msg));
        }
        Ok(())
    }

    fn run_once_with_retry(&mut self, profile_only: bool) -> Result<(), Failure> {
        let max = self.settings.test_retry;
        if max != 0 {
            self.log(
                Level::Info,
                &format!("Test will be retried a maximum of {max} times"),
            );
        }
        let mut retry = 0;
        loop {
            match self.call_run_once(profile_only) {
                Ok(()) => break,
                Err(f) if f.kind == FailureKind::FailRetry && retry < max => {
                    self.test
                        .output()
                        .job_record("INFO", &format!("Run {retry} failed with {}", f.message));
                    retry += 1;
                }
                Err(f) => return Err(f),
            }
        }
        if retry > 0 {
            let kv = [("test_retries_before_success".to_string(), retry.to_string())].into();
            self.test
                .output()
                .test_keyval(&kv)
                .map_err(|m| Failure::new(FailureKind::Unhandled, m))?;
        }
        Ok(())
    }

    fn call_run_once(&mut self, profile_only: bool) -> Result<(), Failure> {
        self.drop_caches();
        let (before, after) = self.test.hooks();
        for hook in &before {
            self.script.call_hook(self.engine, hook, &self.this)?;
        }
        let result = self.iteration_body(profile_only);
        for hook in after.iter().rev() {
            self.script.call_hook(self.engine, hook, &self.this)?;
        }
        result
    }

    fn iteration_body(&mut self, profile_only: bool) -> Result<(), Failure> {
        if profile_only {
            if !self.profilers().present() {
                self.test.output().job_record(
                    "WARN",
                    "No profilers have been added but profile_only is set - nothing will be run",
                );
            }
            self.run_once_profiling()?;
        } else {
            self.call("before_run_once")?;
            self.call("run_once")?;
            self.call("after_run_once")?;
        }
        self.call("postprocess_iteration")?;
        if let Some(perf) = self.test.take_new_perf() {
            let sandbox = self.sandbox.get_or_insert_with(Constraints::new);
            self.failed_constraints
                .push(sandbox.evaluate(&self.constraints, &perf));
        }
        Ok(())
    }

    /// The profiled run: only when a profiler is present; no hooks, no constraints.
    fn run_once_profiling(&mut self) -> Result<(), Failure> {
        if !self.profilers().present() {
            return Ok(());
        }
        self.drop_caches();
        self.call("before_run_once")?;
        self.profilers().start();
        let result = self.call("run_once").and_then(|_| {
            let by_arg = self
                .args
                .get("postprocess_profiled_run")
                .filter(|v| !v.is_unit());
            let wanted = match by_arg {
                Some(v) => truthy(v),
                None => self
                    .test
                    .props()
                    .get("postprocess_profiled_run")
                    .is_some_and(truthy),
            };
            if wanted {
                self.call("postprocess_iteration")?;
            }
            Ok(())
        });
        self.profilers().stop();
        result?;
        self.call("after_run_once")
    }

    fn drop_caches(&self) {
        if self.settings.drop_caches_between_iterations {
            crate::engine::api::facts::drop_caches(self.ctx);
        }
    }
}

fn raised(failure: Failure, phase: &'static str, in_body: bool) -> Raised {
    Raised {
        status: failure.status(in_body),
        failure,
        phase,
    }
}

fn body_status(failure: Failure, phase: &'static str) -> Raised {
    raised(failure, phase, true)
}

fn count_arg(v: Option<&Dynamic>, name: &str) -> Result<Option<i64>, Failure> {
    match v {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => match v.as_int() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(Failure::new(
                FailureKind::Outcome(Status::Error),
                format!("{name} must be a non-negative integer, got {v}"),
            )),
        },
    }
}

fn seconds_arg(v: Option<&Dynamic>, name: &str) -> Result<Option<f64>, Failure> {
    match v {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v
            .as_int()
            .map(|i| i as f64)
            .or_else(|_| v.as_float())
            .map(Some)
            .map_err(|_| {
                Failure::new(
                    FailureKind::Outcome(Status::Error),
                    format!("{name} must be a number of seconds, got {v}"),
                )
            }),
    }
}

fn constraint_list(v: Option<&Dynamic>) -> Result<Vec<String>, Failure> {
    let Some(v) = v.filter(|v| !v.is_unit()) else {
        return Ok(Vec::new());
    };
    if v.is_string() {
        return Ok(vec![v.to_string()]);
    }
    match v.read_lock::<crate::engine::Array>() {
        Some(a) => Ok(a.iter().map(|c| c.to_string()).collect()),
        None => Err(Failure::new(
            FailureKind::Outcome(Status::Error),
            format!("constraints must be an array of expressions, e.g. constraints='[\"throughput > 2\"]', got {v}"),
        )),
    }
}
