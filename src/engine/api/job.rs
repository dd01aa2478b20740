//! The `job` a control file sees (and `this.job` in a test): running tests by name,
//! recording status lines, the job's settings and profilers. The job itself lives in
//! `crate::job`; this file only exposes it to scripts through the `JobApi` trait.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Map, NativeCallContext};

use super::test_obj::TestObj;
use crate::profilers::ProfilerManager;
use crate::status::Settings;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// What scripts may ask of the running job.
pub trait JobApi: Send + Sync {
    /// Runs a test found by `name` with `args`; `parent` is the calling test for
    /// `runsubtest`. True when it passed; errors unwind the caller (duplicate subdir,
    /// abort, Ctrl-C).
    fn run_test(
        &self,
        engine: &Engine,
        name: &str,
        args: Map,
        parent: Option<&TestObj>,
    ) -> Res<bool>;
    /// Records a status line: `code subdir operation message`.
    fn record(
        &self,
        code: &str,
        subdir: Option<&str>,
        operation: Option<&str>,
        message: &str,
    ) -> Result<(), String>;
    /// The job's results directory.
    fn resultdir(&self) -> PathBuf;
    /// The job's scratch directory.
    fn tmpdir(&self) -> PathBuf;
    /// The current settings.
    fn settings(&self) -> Settings;
    /// Replaces the settings.
    fn set_settings(&self, settings: Settings);
    /// The job's profilers.
    fn profilers(&self) -> &Mutex<ProfilerManager>;
}

/// The script-visible job.
#[derive(Clone)]
pub struct JobHandle(pub Arc<dyn JobApi>);

/// The script-visible `job.profilers`.
#[derive(Clone)]
pub struct Profilers(Arc<dyn JobApi>);

fn text(v: &Dynamic) -> Option<String> {
    (!v.is_unit())
        .then(|| v.to_string())
        .filter(|s| !s.is_empty() && s != "----")
}

fn path(p: PathBuf) -> ImmutableString {
    p.to_string_lossy().to_string().into()
}

/// Registers the `Job` and `Profilers` types and `Test.runsubtest`.
pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<JobHandle>("Job");
    engine.register_fn(
        "run_test",
        |ctx: NativeCallContext, j: &mut JobHandle, name: &str| {
            j.0.run_test(ctx.engine(), name, Map::new(), None)
        },
    );
    engine.register_fn(
        "run_test",
        |ctx: NativeCallContext, j: &mut JobHandle, name: &str, args: Map| {
            j.0.run_test(ctx.engine(), name, args, None)
        },
    );
    engine.register_fn(
        "record",
        |j: &mut JobHandle, code: &str, subdir: Dynamic, op: Dynamic, msg: Dynamic| -> Res<()> {
            let message = if msg.is_unit() {
                String::new()
            } else {
                msg.to_string()
            };
            Ok(j.0.record(
                code,
                text(&subdir).as_deref(),
                text(&op).as_deref(),
                &message,
            )?)
        },
    );
    engine.register_get("resultdir", |j: &mut JobHandle| path(j.0.resultdir()));
    engine.register_get("tmpdir", |j: &mut JobHandle| path(j.0.tmpdir()));
    engine.register_get("profilers", |j: &mut JobHandle| Profilers(j.0.clone()));
    register_settings(engine);
    register_profilers(engine);
    engine.register_fn(
        "runsubtest",
        |ctx: NativeCallContext, t: &mut TestObj, name: &str, args: Map| -> Res<bool> {
            subtest(&ctx, t, name, args)
        },
    );
    engine.register_fn(
        "runsubtest",
        |ctx: NativeCallContext, t: &mut TestObj, name: &str| -> Res<bool> {
            subtest(&ctx, t, name, Map::new())
        },
    );
    engine.register_fn("to_string", |j: &mut JobHandle| -> ImmutableString {
        format!("Job({})", j.0.resultdir().display()).into()
    });
}

/// `runsubtest`: runs a test nested under the calling one; `profile_only` defaults to
/// false, as in the original.
fn subtest(ctx: &NativeCallContext, t: &TestObj, name: &str, mut args: Map) -> Res<bool> {
    let Some(job) = t.job().clone().try_cast::<JobHandle>() else {
        return Err("runsubtest: this test is not part of a job".into());
    };
    args.entry("profile_only".into()).or_insert(Dynamic::FALSE);
    job.0.run_test(ctx.engine(), name, args, Some(t))
}

fn register_settings(engine: &mut Engine) {
    macro_rules! setting {
        ($name:literal, $field:ident, bool) => {
            engine.register_get($name, |j: &mut JobHandle| j.0.settings().$field);
            engine.register_set($name, |j: &mut JobHandle, v: bool| {
                let mut s = j.0.settings();
                s.$field = v;
                j.0.set_settings(s);
            });
        };
    }
    setting!("run_test_cleanup", run_test_cleanup, bool);
    setting!("default_profile_only", default_profile_only, bool);
    setting!(
        "drop_caches_between_iterations",
        drop_caches_between_iterations,
        bool
    );
    engine.register_get("test_retry", |j: &mut JobHandle| {
        rhai::INT::from(j.0.settings().test_retry)
    });
    engine.register_set("test_retry", |j: &mut JobHandle, v: rhai::INT| -> Res<()> {
        let mut s = j.0.settings();
        s.test_retry =
            u32::try_from(v).map_err(|_| format!("job.test_retry must be 0 or more, not {v}"))?;
        j.0.set_settings(s);
        Ok(())
    });
}

fn register_profilers(engine: &mut Engine) {
    engine.register_type_with_name::<Profilers>("Profilers");
    engine.register_fn("add", |p: &mut Profilers, name: &str| -> Res<()> {
        lock(p).add(name).map_err(job_error)
    });
    engine.register_fn(
        "add",
        |p: &mut Profilers, name: &str, _opts: Map| -> Res<()> {
            lock(p).add(name).map_err(job_error)
        },
    );
    engine.register_fn("delete", |p: &mut Profilers, name: &str| {
        lock(p).delete(name)
    });
    engine.register_fn("present", |p: &mut Profilers| lock(p).present());
    engine.register_fn("list", |p: &mut Profilers| -> rhai::Array {
        lock(p)
            .list()
            .iter()
            .map(|n| Dynamic::from(n.clone()))
            .collect()
    });
}

fn lock(p: &Profilers) -> std::sync::MutexGuard<'_, ProfilerManager> {
    p.0.profilers().lock().expect("profilers lock poisoned")
}

/// The original's ProfilerNotPresentError is a JobError: it aborts the job unless caught.
fn job_error(message: String) -> Box<EvalAltResult> {
    crate::engine::failure::outcome_error("JobError", &message)
}
