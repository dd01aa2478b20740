//! What the REPL runs of the test's lifecycle: one phase by name (`:call`), more
//! iterations (`:iterate`), the whole lifecycle as a new test (`:run`), and cleanup with
//! the verdict when the session ends. Phases are classified exactly as the runner does,
//! because they run through `Lifecycle`.

use crate::engine::failure::{Failure, FailureKind};
use crate::engine::script::LIFECYCLE;
use crate::engine::value::truthy;
use crate::engine::{Dynamic, Map};
use crate::job::TestSpec;
use crate::lifecycle::{Lifecycle, Raised};
use crate::status::TestOutcome;

use super::{Kind, Live, ScriptRef};

/// What a finished phase or call gave.
pub(crate) enum Called {
    /// A lifecycle phase ran and passed.
    Phase,
    /// The script does not define this lifecycle function: nothing ran.
    Undefined,
    /// A plain function returned a value (shown unless `()`).
    Value(Option<String>),
}

/// Why `:call`, `:iterate`, `:run` or `:args` did not do what was asked.
pub(crate) enum CallError {
    /// A phase ended the test's way (FAIL, ERROR, …).
    Raised(Raised),
    /// A plain function raised.
    Failed(Failure),
    /// The command cannot be done here; the message says why.
    Usage(String),
}

/// How cleanup went when leaving.
pub(crate) enum Cleanup {
    /// It ran and passed.
    Ran,
    /// It failed after a pass: the test is recorded with this.
    Failed(Raised),
    /// It failed after a failure: only logged, as the runner does.
    Ignored(Raised),
}

impl Live<'_> {
    /// `:call NAME`: a lifecycle phase of a test (classified as the runner would), or
    /// any script function, given the named arguments it declares from the session's
    /// arguments overridden by `extra`.
    pub(crate) fn call(&mut self, name: &str, extra: Map) -> Result<Called, CallError> {
        let phase = LIFECYCLE.iter().copied().find(|p| *p == name);
        let mut args = self.args.clone();
        args.extend(extra);
        match phase {
            Some(phase) if self.kind == Kind::Test => {
                let defined = self.script().has(phase);
                let result =
                    self.guarded(|live| live.with_lifecycle(args, |l| l.call_phase(phase)));
                self.record(result.as_ref().err());
                // As in the runner, a phase that failed still needs cleanup; only a
                // cleanup that passed leaves nothing to clean.
                self.started = phase != "cleanup" || result.is_err();
                result.map_err(CallError::Raised)?;
                Ok(if defined {
                    Called::Phase
                } else {
                    Called::Undefined
                })
            }
            _ if !self.script().has(name) => Err(CallError::Usage(format!(
                "{name} is not a function of {}; :fns lists them",
                self.script().source_name()
            ))),
            _ => {
                let mut this = Dynamic::from(self.test.clone());
                let engine = self.engine;
                let value = self
                    .guarded(|live| live.script().call(engine, &mut this, name, &args))
                    .map_err(CallError::Failed)?;
                Ok(Called::Value(
                    (!value.is_unit()).then(|| self.display(value)),
                ))
            }
        }
    }

    /// `:iterate N`: N more iterations of the default loop; returns the last iteration.
    pub(crate) fn iterate(&mut self, n: i64) -> Result<i64, CallError> {
        self.require_test()?;
        let args = self.args.clone();
        let result = self.guarded(|live| live.with_lifecycle(args, |l| l.iterate(n)));
        self.record(result.as_ref().err());
        self.started = true;
        result.map_err(CallError::Raised)?;
        Ok(self.test.iteration())
    }

    /// `:run`: the whole lifecycle as `autorun run` would, as a new test of the job
    /// tagged `repl<N>` unless `extra` names a tag.
    pub(crate) fn run_whole(&mut self, extra: Map) -> Result<TestOutcome, CallError> {
        self.require_test()?;
        let Some((job, spec)) = self.runner.clone() else {
            return Err(CallError::Usage(
                "a post-mortem cannot :run: the job is still running the failed test".into(),
            ));
        };
        let ScriptRef::Owned(script) = &self.script else {
            return Err(CallError::Usage("no loaded script to run".into()));
        };
        let spec = TestSpec {
            script: script.clone(),
            ..spec
        };
        let mut args = self.args.clone();
        args.extend(extra);
        if !args.contains_key("tag") {
            self.runs += 1;
            args.insert("tag".into(), format!("repl{}", self.runs).into());
        }
        let engine = self.engine;
        self.guarded(|_| job.run_test(engine, &spec, args, None))
            .map_err(|e| CallError::Usage(format!("cannot run the test: {e}")))
    }

    /// Leaving: cleanup when a phase has run (unless `skip_cleanup`, `run_cleanup=false`
    /// or the job's `run_test_cleanup` says otherwise), then the verdict to record: the
    /// last phase's failure, or a failing cleanup's after a pass. Returns also whether
    /// cleanup ran and how it failed.
    pub(crate) fn finish(&mut self, skip_cleanup: bool) -> (Result<(), Raised>, Option<Cleanup>) {
        let wanted = match self.args.get("run_cleanup") {
            Some(v) if !v.is_unit() => truthy(v),
            _ => self.job.settings().run_test_cleanup,
        };
        let mut cleanup = None;
        if self.started && wanted && !skip_cleanup && !self.post_mortem {
            let args = self.args.clone();
            let result =
                self.guarded(|live| live.with_lifecycle(args, |l| l.call_phase("cleanup")));
            cleanup = Some(match result {
                Ok(()) => Cleanup::Ran,
                Err(raised) if self.verdict.is_none() => {
                    self.verdict = Some(raised.clone());
                    Cleanup::Failed(raised)
                }
                Err(raised) => Cleanup::Ignored(raised),
            });
        }
        let verdict = self.verdict.take().map_or(Ok(()), Err);
        (verdict, cleanup)
    }

    /// Whether leaving would run cleanup.
    pub(crate) fn cleanup_pending(&self) -> bool {
        self.started && !self.post_mortem
    }

    /// Runs `f` on a lifecycle over the current script and the job's current settings
    /// (a script may have changed `job.test_retry` at the prompt).
    fn with_lifecycle<T>(&self, args: Map, f: impl FnOnce(&mut Lifecycle<'_>) -> T) -> T {
        let settings = self.job.settings();
        let mut lifecycle = Lifecycle::new(
            self.engine,
            &self.ctx,
            self.script(),
            self.test.clone(),
            args,
            &settings,
            self.job.profilers(),
        );
        f(&mut lifecycle)
    }

    fn require_test(&self) -> Result<(), CallError> {
        match self.kind {
            Kind::Test => Ok(()),
            _ => Err(CallError::Usage(
                "no test loaded: open the REPL on a test script (autorun repl SCRIPT)".into(),
            )),
        }
    }

    /// Keeps how the last phase ended; an interrupted phase says nothing about the test.
    fn record(&mut self, failed: Option<&Raised>) {
        match failed {
            Some(r) if r.failure.kind == FailureKind::Interrupted => {}
            Some(r) => self.verdict = Some(r.clone()),
            None => self.verdict = None,
        }
    }
}
