//! The test object a lifecycle function sees as `this`: read-only properties (names and
//! directories), free-form script state that persists across phases, the keyval and perf
//! writers, and iteration hooks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use rhai::{CustomType, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, TypeBuilder};

use super::register::{doc_comment, HostFn};
use crate::engine::failure::outcome_error;
use crate::engine::value::{iteration_text, keyval_map, truthy};
use crate::results::perf;
use crate::status::TestOutput;

/// Names and directories of one test run (SCRIPT-API §3).
#[derive(Debug, Clone, Default)]
pub struct TestInfo {
    /// The test's name, e.g. `sleeptest`.
    pub testname: String,
    /// The tag, empty when none.
    pub tag: String,
    /// `testname[.tag]`, the name of its results subdirectory.
    pub tagged_testname: String,
    /// Its results subdirectory relative to the job's: `<parent>/<tagged>` for subtests.
    pub subdir: String,
    /// `<job results>/<subdir>`.
    pub outputdir: PathBuf,
    /// `<outputdir>/results`.
    pub resultsdir: PathBuf,
    /// `<outputdir>/profiling`.
    pub profdir: PathBuf,
    /// `<outputdir>/debug`.
    pub debugdir: PathBuf,
    /// The folder holding the script.
    pub bindir: PathBuf,
    /// Where `setup` builds things.
    pub srcdir: PathBuf,
    /// Private scratch space, removed after the test.
    pub tmpdir: PathBuf,
    /// The script's `VERSION`.
    pub version: i64,
}

#[derive(Default)]
struct State {
    iteration: i64,
    props: Map,
    args: Map,
    last_perf: Option<Map>,
    new_keyval: bool,
    before_hooks: Vec<FnPtr>,
    after_hooks: Vec<FnPtr>,
}

/// The script-visible test object; cloning shares the same test.
#[derive(Clone)]
pub struct TestObj {
    info: Arc<TestInfo>,
    state: Arc<Mutex<State>>,
    out: Arc<dyn TestOutput>,
    job: Dynamic,
}

/// The properties a script may read but not assign, and what each is (`autorun api`).
const READ_ONLY: &[(&str, &str)] = &[
    (
        "testname",
        "The test's name: the script's name without `.rhai`.",
    ),
    ("tag", "The tag given with `tag=…`, or \"\"."),
    (
        "tagged_testname",
        "`testname.tag` (just `testname` without a tag): the name of the test's results folder.",
    ),
    (
        "outputdir",
        "The test's results folder; tests run here, and relative `fs::` paths start here.",
    ),
    (
        "resultsdir",
        "`<outputdir>/results`: iteration keyvals and perf measurements.",
    ),
    ("profdir", "`<outputdir>/profiling`: profiler output."),
    (
        "debugdir",
        "`<outputdir>/debug`: the test's DEBUG, INFO, WARNING and ERROR logs.",
    ),
    ("bindir", "The folder that holds the script."),
    (
        "srcdir",
        "Where `setup` builds things: `<bindir>/src` for a test in its own folder, \
         `<bindir>/src/<name>` for a single file.",
    ),
    (
        "tmpdir",
        "Scratch space private to this run, removed afterwards.",
    ),
    (
        "iteration",
        "The current iteration: 1..N in counted mode; it stays put in timed mode.",
    ),
    ("version", "The script's `VERSION` (default 1)."),
    (
        "args",
        "The map of every argument given (the original's dargs).",
    ),
    ("job", "The job this test runs in (see the `Job` type)."),
];

type Res<T> = Result<T, Box<EvalAltResult>>;

impl TestObj {
    /// A test object writing through `out`; `job` is what `this.job` returns.
    pub fn new(info: TestInfo, args: Map, out: Arc<dyn TestOutput>, job: Dynamic) -> Self {
        let state = State {
            args,
            ..State::default()
        };
        TestObj {
            info: Arc::new(info),
            state: Arc::new(Mutex::new(state)),
            out,
            job,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("test state lock poisoned")
    }

    /// The names and directories of this test.
    pub fn info(&self) -> &TestInfo {
        &self.info
    }

    /// What `this.job` returns.
    pub fn job(&self) -> &Dynamic {
        &self.job
    }

    /// Where this test writes its results.
    pub fn output(&self) -> &Arc<dyn TestOutput> {
        &self.out
    }

    /// The current iteration number (`this.iteration`).
    pub fn iteration(&self) -> i64 {
        self.state().iteration
    }

    /// Sets `this.iteration`, as the execute loop does.
    pub fn set_iteration(&self, n: i64) {
        self.state().iteration = n;
    }

    /// The hooks registered so far: (before, after), in registration order.
    pub fn hooks(&self) -> (Vec<FnPtr>, Vec<FnPtr>) {
        let s = self.state();
        (s.before_hooks.clone(), s.after_hooks.clone())
    }

    /// The argument map (`this.args`).
    pub fn args(&self) -> Map {
        self.state().args.clone()
    }

    /// Replaces the argument map (the REPL's `:args`), so that `this.args` shows what
    /// the next phase receives.
    pub fn set_args(&self, args: Map) {
        self.state().args = args;
    }

    /// The script's own properties, for display.
    pub fn props(&self) -> Map {
        self.state().props.clone()
    }

    /// Takes the last perf map if a keyval was written since the last look (the
    /// original's `_new_keyval` flag); only the constraint check needs it.
    pub fn take_new_perf(&self) -> Option<Map> {
        let mut s = self.state();
        if !std::mem::take(&mut s.new_keyval) {
            return None;
        }
        Some(s.last_perf.take().unwrap_or_default())
    }

    /// Appends `entries` to the test keyval (`<outputdir>/keyval`).
    pub fn write_test_keyval(&self, entries: &BTreeMap<String, String>) -> Res<()> {
        self.out.test_keyval(entries).map_err(value_error)
    }

    fn write_iteration_keyval(&self, attr: &Map, perf: Map) -> Res<()> {
        self.out
            .iteration_keyval(&iteration_text(attr, &perf).map_err(value_error)?)
            .map_err(value_error)?;
        let mut s = self.state();
        s.last_perf = Some(perf);
        s.new_keyval = true;
        Ok(())
    }

    fn output_perf_value(&self, description: &str, value: &Dynamic, opts: PerfOpts) -> Res<()> {
        let value = perf_value(value)?;
        let line = perf::record(
            description,
            &value,
            opts.units.as_deref(),
            opts.higher_is_better,
            opts.graph.as_deref(),
            &opts.replacement,
        )
        .map_err(value_error)?;
        self.out.perf_line(&line).map_err(value_error)
    }

    fn get(&self, name: &str) -> Res<Dynamic> {
        let dir = |p: &PathBuf| Dynamic::from(p.to_string_lossy().to_string());
        let i = &self.info;
        Ok(match name {
            "testname" => i.testname.clone().into(),
            "tag" => i.tag.clone().into(),
            "tagged_testname" => i.tagged_testname.clone().into(),
            "outputdir" => dir(&i.outputdir),
            "resultsdir" => dir(&i.resultsdir),
            "profdir" => dir(&i.profdir),
            "debugdir" => dir(&i.debugdir),
            "bindir" => dir(&i.bindir),
            "srcdir" => dir(&i.srcdir),
            "tmpdir" => {
                // Created on first use, so that tests that never need one pay nothing.
                std::fs::create_dir_all(&i.tmpdir).map_err(|e| {
                    format!("cannot create the test tmpdir {}: {e}", i.tmpdir.display())
                })?;
                dir(&i.tmpdir)
            }
            "version" => i.version.into(),
            "iteration" => self.iteration().into(),
            "args" => self.state().args.clone().into(),
            "job" => self.job.clone(),
            _ => {
                return self.state().props.get(name).cloned().ok_or_else(|| {
                    format!("the test object has no property '{name}'; set it first, e.g. this.{name} = 0 in initialize").into()
                })
            }
        })
    }

    fn set(&self, name: &str, value: Dynamic) -> Res<()> {
        if READ_ONLY.iter().any(|(n, _)| *n == name) {
            // Rhai writes a property back after a method call on it
            // (`this.iteration.to_string()`); only a real change is refused.
            if format!("{:?}", self.get(name)?) == format!("{value:?}") {
                return Ok(());
            }
            return Err(format!("property '{name}' of the test object is read-only").into());
        }
        self.state().props.insert(name.into(), value);
        Ok(())
    }
}

struct PerfOpts {
    units: Option<String>,
    higher_is_better: Option<bool>,
    graph: Option<String>,
    replacement: String,
}

impl PerfOpts {
    fn new(units: &Dynamic, hib: &Dynamic, graph: &Dynamic, replacement: &str) -> Res<Self> {
        let text = |v: &Dynamic, what: &str| -> Res<Option<String>> {
            if v.is_unit() {
                Ok(None)
            } else if v.is_string() {
                Ok(Some(v.to_string()))
            } else {
                Err(format!(
                    "output_perf_value: {what} must be a string or (), not {}",
                    v.type_name()
                )
                .into())
            }
        };
        let higher_is_better = if hib.is_unit() {
            None
        } else {
            Some(hib.as_bool().map_err(|t| {
                format!("output_perf_value: higher_is_better must be a bool or (), not {t}")
            })?)
        };
        Ok(PerfOpts {
            units: text(units, "units")?,
            higher_is_better,
            graph: text(graph, "graph")?,
            replacement: replacement.to_string(),
        })
    }
}

fn perf_value(value: &Dynamic) -> Res<perf::PerfValue> {
    let num = |v: &Dynamic| -> Res<perf::Num> {
        if let Ok(i) = v.as_int() {
            Ok(perf::Num::Int(i))
        } else if let Ok(f) = v.as_float() {
            Ok(perf::Num::Float(f))
        } else {
            Err(value_error(format!(
                "The value must be a number or an array of numbers, not {}",
                v.type_name()
            )))
        }
    };
    if let Some(arr) = value.read_lock::<rhai::Array>() {
        return Ok(perf::PerfValue::List(
            arr.iter().map(num).collect::<Res<_>>()?,
        ));
    }
    Ok(perf::PerfValue::Number(num(value)?))
}

/// The original raised ValueError for bad keyvals and perf values; keep that class name.
fn value_error(message: impl AsRef<str>) -> Box<EvalAltResult> {
    outcome_error("ValueError", message.as_ref())
}

impl CustomType for TestObj {
    fn build(mut builder: TypeBuilder<Self>) {
        builder.with_name("Test").with_comments(&[&doc_comment(
            "The test object: `this` in every lifecycle function. Besides the read-only \
             properties below, any property is the script's own state (`this.count = 0` in \
             `initialize`, `this.count += 1` in `run_once`), kept across phases; \
             `this[\"name\"]` works too, and reading one that was never set is an error.",
        )]);
    }
}

/// Registers the `Test` type, its properties and methods.
pub(crate) fn register(engine: &mut Engine) {
    engine.build_type::<TestObj>();
    engine.register_indexer_get(|t: &mut TestObj, name: &str| t.get(name));
    engine.register_indexer_set(|t: &mut TestObj, name: &str, v: Dynamic| t.set(name, v));
    for (name, doc) in READ_ONLY {
        let owned = name.to_string();
        HostFn::getter(name, doc).register(engine, move |t: &mut TestObj| t.get(&owned));
    }
    register_keyvals(engine);
    register_perf(engine);
    HostFn::new(
        "register_before_iteration_hook",
        &["hook"],
        "Calls `hook` (a function pointer or closure taking the test object) before every \
         iteration, in registration order: \
         `this.register_before_iteration_hook(|t| t.count += 1)`.",
    )
    .register(engine, |t: &mut TestObj, f: FnPtr| {
        t.state().before_hooks.push(f);
    });
    HostFn::new(
        "register_after_iteration_hook",
        &["hook"],
        "Calls `hook` with the test object after every iteration, also one that threw, in \
         reverse registration order.",
    )
    .register(engine, |t: &mut TestObj, f: FnPtr| {
        t.state().after_hooks.push(f);
    });
    engine.register_fn("to_string", |t: &mut TestObj| -> ImmutableString {
        format!("Test({})", t.info.tagged_testname).into()
    });
    engine.register_fn("to_debug", |t: &mut TestObj| -> ImmutableString {
        format!("Test({}) {:?}", t.info.tagged_testname, t.props()).into()
    });
    HostFn::new(
        "is_truthy",
        &["value"],
        "Whether `value` counts as true, the Python way: false, 0, 0.0, (), \"\", [] and #{} \
         are false, anything else is true.",
    )
    .register(engine, |v: Dynamic| truthy(&v));
}

fn register_keyvals(engine: &mut Engine) {
    HostFn::new(
        "write_test_keyval",
        &["map"],
        "Appends `map` as one block to the test keyval, `<outputdir>/keyval`. Keys must \
         match `[-.\\w]+`; one bad key writes nothing (ValueError).",
    )
    .register(engine, |t: &mut TestObj, m: Map| {
        t.write_test_keyval(&keyval_map(&m))
    });
    HostFn::new(
        "write_perf_keyval",
        &["map"],
        "Writes `map` as `key{perf}=value` lines and a blank line to `results/keyval`: one \
         iteration's perf values. Perf constraints judge the last one.",
    )
    .register(engine, |t: &mut TestObj, m: Map| {
        t.write_iteration_keyval(&Map::new(), m)
    });
    HostFn::new(
        "write_attr_keyval",
        &["map"],
        "Writes `map` as `key{attr}=value` lines and a blank line to `results/keyval`.",
    )
    .register(engine, |t: &mut TestObj, m: Map| {
        t.write_iteration_keyval(&m, Map::new())
    });
    HostFn::new(
        "write_iteration_keyval",
        &["attr", "perf"],
        "Writes an attr block, a perf block and one blank line to `results/keyval`.",
    )
    .register(engine, |t: &mut TestObj, a: Map, p: Map| {
        t.write_iteration_keyval(&a, p)
    });
}

/// `output_perf_value`, with 2 to 6 arguments after the receiver.
fn register_perf(engine: &mut Engine) {
    const PARAMS: &[&str] = &[
        "description",
        "value",
        "units",
        "higher_is_better",
        "graph",
        "replacement",
    ];
    const DOC: &str = "Appends one JSON line to `results/perf_measurements`. `value` is a \
        number or an array of numbers; `units` (string), `higher_is_better` (bool), `graph` \
        (string) and `replacement` are optional, and `()` means not given.";
    let perf = |arity: usize| HostFn::new("output_perf_value", &PARAMS[..arity], DOC);
    perf(2).register(engine, |t: &mut TestObj, d: &str, v: Dynamic| {
        t.output_perf_value(
            d,
            &v,
            PerfOpts::new(&Dynamic::UNIT, &Dynamic::UNIT, &Dynamic::UNIT, "_")?,
        )
    });
    perf(3).register(
        engine,
        |t: &mut TestObj, d: &str, v: Dynamic, units: Dynamic| {
            t.output_perf_value(
                d,
                &v,
                PerfOpts::new(&units, &Dynamic::UNIT, &Dynamic::UNIT, "_")?,
            )
        },
    );
    perf(4).register(
        engine,
        |t: &mut TestObj, d: &str, v: Dynamic, units: Dynamic, hib: Dynamic| {
            t.output_perf_value(d, &v, PerfOpts::new(&units, &hib, &Dynamic::UNIT, "_")?)
        },
    );
    perf(5).register(
        engine,
        |t: &mut TestObj, d: &str, v: Dynamic, units: Dynamic, hib: Dynamic, g: Dynamic| {
            t.output_perf_value(d, &v, PerfOpts::new(&units, &hib, &g, "_")?)
        },
    );
    perf(6).register(
        engine,
        |t: &mut TestObj,
         d: &str,
         v: Dynamic,
         units: Dynamic,
         hib: Dynamic,
         g: Dynamic,
         r: Dynamic| {
            // The original rejects a None replacement with its usual message.
            let r = if r.is_unit() {
                "()".to_string()
            } else {
                r.to_string()
            };
            t.output_perf_value(d, &v, PerfOpts::new(&units, &hib, &g, &r)?)
        },
    );
}
