//! The `job` a control file sees (and `this.job` in a test): running tests by name,
//! recording status lines, the job's settings and profilers. The job itself lives in
//! `crate::job`; this file only exposes it to scripts through the `JobApi` trait.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::{
    CustomType, Dynamic, Engine, EvalAltResult, ImmutableString, Map, NativeCallContext,
    TypeBuilder,
};

use super::register::doc_comment;
use super::register::HostFn;
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
    fn tmpdir(&self) -> Result<PathBuf, String>;
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

impl CustomType for JobHandle {
    fn build(mut builder: TypeBuilder<Self>) {
        builder.with_name("Job").with_comments(&[&doc_comment(
            "The job: `job` in a control file, `this.job` in a test.",
        )]);
    }
}

impl CustomType for Profilers {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Profilers")
            .with_comments(&[&doc_comment("The job's profilers, `job.profilers`.")]);
    }
}

/// Registers the `Job` and `Profilers` types and `Test.runsubtest`.
pub(crate) fn register(engine: &mut Engine) {
    engine.build_type::<JobHandle>();
    const RUN_TEST: &str = "Runs the test `name` (a `.rhai` path relative to the control \
        file, or a name looked up in the test directories) with the map `args` (test \
        arguments and host parameters); true when it passed (GOOD).";
    HostFn::new("run_test", &["name"], RUN_TEST).register(
        engine,
        |ctx: NativeCallContext, j: &mut JobHandle, name: &str| {
            j.0.run_test(ctx.engine(), name, Map::new(), None)
        },
    );
    HostFn::new("run_test", &["name", "args"], RUN_TEST).register(
        engine,
        |ctx: NativeCallContext, j: &mut JobHandle, name: &str, args: Map| {
            j.0.run_test(ctx.engine(), name, args, None)
        },
    );
    HostFn::new(
        "record",
        &["status", "subdir", "operation", "message"],
        "Writes a status line to the job's status log; `subdir` and `operation` may be ().",
    )
    .register(
        engine,
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
    HostFn::getter("resultdir", "The job's results directory.")
        .register(engine, |j: &mut JobHandle| path(j.0.resultdir()));
    HostFn::getter("tmpdir", "The job's scratch directory.")
        .register(engine, |j: &mut JobHandle| -> Res<ImmutableString> {
            Ok(path(j.0.tmpdir()?))
        });
    HostFn::getter(
        "profilers",
        "The job's profilers: `add(name)`, `delete(name)`, `present()`, `list()`.",
    )
    .register(engine, |j: &mut JobHandle| Profilers(j.0.clone()));
    register_settings(engine);
    register_profilers(engine);
    const RUNSUBTEST: &str = "Runs the test `name` (a path or a test name) nested in this \
        one's results with the argument map `args`; true when it passed. `profile_only` \
        defaults to false.";
    HostFn::new("runsubtest", &["name", "args"], RUNSUBTEST).register(
        engine,
        |ctx: NativeCallContext, t: &mut TestObj, name: &str, args: Map| -> Res<bool> {
            subtest(&ctx, t, name, args)
        },
    );
    HostFn::new("runsubtest", &["name"], RUNSUBTEST).register(
        engine,
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
        ($name:literal, $field:ident, bool, $doc:literal) => {
            HostFn::getter($name, $doc).register(engine, |j: &mut JobHandle| j.0.settings().$field);
            HostFn::setter($name, $doc).register(engine, |j: &mut JobHandle, v: bool| {
                let mut s = j.0.settings();
                s.$field = v;
                j.0.set_settings(s);
            });
        };
    }
    setting!(
        "run_test_cleanup",
        run_test_cleanup,
        bool,
        "Whether tests run their `cleanup` (default true)."
    );
    setting!(
        "default_profile_only",
        default_profile_only,
        bool,
        "The `profile_only` of tests that do not say."
    );
    setting!(
        "drop_caches_between_iterations",
        drop_caches_between_iterations,
        bool,
        "Whether the page cache is dropped before every iteration."
    );
    const RETRY: &str =
        "How many times an iteration that calls `fail_retry` is retried (`--retry N`).";
    HostFn::getter("test_retry", RETRY).register(engine, |j: &mut JobHandle| {
        rhai::INT::from(j.0.settings().test_retry)
    });
    HostFn::setter("test_retry", RETRY).register(
        engine,
        |j: &mut JobHandle, v: rhai::INT| -> Res<()> {
            let mut s = j.0.settings();
            s.test_retry = u32::try_from(v)
                .map_err(|_| format!("job.test_retry must be 0 or more, not {v}"))?;
            j.0.set_settings(s);
            Ok(())
        },
    );
}

fn register_profilers(engine: &mut Engine) {
    engine.build_type::<Profilers>();
    const ADD: &str = "Adds the profiler `name`.";
    HostFn::new("add", &["name"], ADD)
        .register(engine, |p: &mut Profilers, name: &str| -> Res<()> {
            lock(p).add(name).map_err(job_error)
        });
    HostFn::new("add", &["name", "opts"], ADD).register(
        engine,
        |p: &mut Profilers, name: &str, _opts: Map| -> Res<()> {
            lock(p).add(name).map_err(job_error)
        },
    );
    HostFn::new("delete", &["name"], "Removes the profiler `name`.")
        .register(engine, |p: &mut Profilers, name: &str| lock(p).delete(name));
    HostFn::new("present", &[], "True when any profiler is added.")
        .register(engine, |p: &mut Profilers| lock(p).present());
    HostFn::new("list", &[], "The names of the profilers added.").register(
        engine,
        |p: &mut Profilers| -> rhai::Array {
            lock(p)
                .list()
                .iter()
                .map(|n| Dynamic::from(n.clone()))
                .collect()
        },
    );
}

fn lock(p: &Profilers) -> std::sync::MutexGuard<'_, ProfilerManager> {
    p.0.profilers().lock().expect("profilers lock poisoned")
}

/// The original's ProfilerNotPresentError is a JobError: it aborts the job unless caught.
fn job_error(message: String) -> Box<EvalAltResult> {
    crate::engine::failure::outcome_error("JobError", &message)
}
