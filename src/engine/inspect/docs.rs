//! Parameter names and docs for host functions whose registration carries none (plain
//! `register_fn`, which records types but no names or comments). The engine's own
//! metadata always wins: an entry here is only used while a registration lacks comments,
//! so adding `FuncRegistration::with_comments` there makes the entry dead, and it can go.

use super::api::{ApiFn, FnKind, Param};

/// Names and doc of one function (every overload of it; `params` by position).
pub(super) struct Entry {
    /// `name`, `module::name` or `Type.name` (properties without `get$`).
    pub(super) key: &'static str,
    /// Parameter names by position, receiver excluded.
    pub(super) params: &'static [&'static str],
    /// Plain text.
    pub(super) doc: &'static str,
}

const fn e(key: &'static str, params: &'static [&'static str], doc: &'static str) -> Entry {
    Entry { key, params, doc }
}

const MSG: &[&str] = &["message"];

const ENTRIES: &[Entry] = &[
    e("fail", MSG, "Ends the test FAIL with `message` (the original's TestFail). Like every outcome it throws `#{kind, message}` (here kind \"TestFail\"), which `try`/`catch` can intercept."),
    e("error", MSG, "Ends the test ERROR with `message` (TestError)."),
    e("skip", MSG, "Ends the test TEST_NA with `message`: it does not apply here (TestNAError)."),
    e("warn", MSG, "Ends the test WARN with `message` (TestWarn)."),
    e("fail_retry", MSG, "Ends the iteration FAIL but lets the job retry it, up to `--retry N` times (TestFailRetry)."),
    e("abort", MSG, "Aborts the job: the test ends ABORT, the rest of the job is skipped and autorun exits 3 (JobError)."),
    e("assert", &["cond", "message"], "Ends the test ERROR with `message` (default `Assertion failed.`) unless `cond` is truthy (the original's assert_)."),
    e("sleep", &["seconds"], "Sleeps `seconds` (int or float, not negative). Interrupted by the test's timeout and by Ctrl-C; replaces Rhai's built-in `sleep`, which is not."),
    e("is_truthy", &["value"], "Whether `value` counts as true, the Python way: false, 0, 0.0, (), \"\", [] and #{} are false, anything else is true."),
    e("Test.testname", &[], "The test's name: the script's name without `.rhai`."),
    e("Test.tag", &[], "The tag given with `tag=…`, or \"\"."),
    e("Test.tagged_testname", &[], "`testname.tag` (just `testname` without a tag): the name of the test's results folder."),
    e("Test.outputdir", &[], "The test's results folder; tests run here, and relative `fs::` paths start here."),
    e("Test.resultsdir", &[], "`<outputdir>/results`: iteration keyvals and perf measurements."),
    e("Test.profdir", &[], "`<outputdir>/profiling`: profiler output."),
    e("Test.debugdir", &[], "`<outputdir>/debug`: the test's DEBUG, INFO, WARNING and ERROR logs."),
    e("Test.bindir", &[], "The folder that holds the script."),
    e("Test.srcdir", &[], "Where `setup` builds things: `<bindir>/src` for a test in its own folder, `<bindir>/src/<name>` for a single file."),
    e("Test.tmpdir", &[], "Scratch space private to this run, removed afterwards."),
    e("Test.iteration", &[], "The current iteration: 1..N in counted mode; it stays put in timed mode."),
    e("Test.version", &[], "The script's `VERSION` (default 1)."),
    e("Test.args", &[], "The map of every argument given (the original's dargs)."),
    e("Test.job", &[], "The job this test runs in (see the `Job` type)."),
    e("Test.write_test_keyval", &["map"], "Appends `map` as one block to the test keyval, `<outputdir>/keyval`. Keys must match `[-.\\w]+`; one bad key writes nothing (ValueError)."),
    e("Test.write_perf_keyval", &["map"], "Writes `map` as `key{perf}=value` lines and a blank line to `results/keyval`: one iteration's perf values. Perf constraints judge the last one."),
    e("Test.write_attr_keyval", &["map"], "Writes `map` as `key{attr}=value` lines and a blank line to `results/keyval`."),
    e("Test.write_iteration_keyval", &["attr", "perf"], "Writes an attr block, a perf block and one blank line to `results/keyval`."),
    e("Test.output_perf_value", &["description", "value", "units", "higher_is_better", "graph", "replacement"], "Appends one JSON line to `results/perf_measurements`. `value` is a number or an array of numbers; `units` (string), `higher_is_better` (bool), `graph` (string) and `replacement` are optional, and `()` means not given."),
    e("Test.register_before_iteration_hook", &["hook"], "Calls `hook` (a function pointer or closure taking the test object) before every iteration, in registration order: `this.register_before_iteration_hook(|t| t.count += 1)`."),
    e("Test.register_after_iteration_hook", &["hook"], "Calls `hook` with the test object after every iteration, also one that threw, in reverse registration order."),
    e("Test.runsubtest", &["name", "args"], "Runs the test `name` (a path or a test name) nested in this one's results with the argument map `args`; true when it passed. `profile_only` defaults to false."),
    e("Job.run_test", &["name", "args"], "Runs the test `name` (a `.rhai` path relative to the control file, or a name looked up in the test directories) with the map `args` (test arguments and host parameters); true when it passed (GOOD)."),
    e("Job.record", &["status", "subdir", "operation", "message"], "Writes a status line to the job's status log; `subdir` and `operation` may be ()."),
    e("Job.resultdir", &[], "The job's results directory."),
    e("Job.tmpdir", &[], "The job's scratch directory."),
    e("Job.profilers", &[], "The job's profilers: `add(name)`, `delete(name)`, `present()`, `list()`."),
    e("Job.test_retry", &["value"], "How many times an iteration that calls `fail_retry` is retried (`--retry N`)."),
    e("Job.run_test_cleanup", &["value"], "Whether tests run their `cleanup` (default true)."),
    e("Job.default_profile_only", &["value"], "The `profile_only` of tests that do not say."),
    e("Job.drop_caches_between_iterations", &["value"], "Whether the page cache is dropped before every iteration."),
    e("Profilers.add", &["name", "opts"], "Adds the profiler `name`."),
    e("Profilers.delete", &["name"], "Removes the profiler `name`."),
    e("Profilers.present", &[], "True when any profiler is added."),
    e("Profilers.list", &[], "The names of the profilers added."),
    e("log::debug", MSG, ""),
    e("log::info", MSG, ""),
    e("log::warning", MSG, ""),
    e("log::error", MSG, ""),
];

/// The docs entry for `key`.
pub(super) fn lookup(key: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.key == key)
}

/// Functions scripts call that are not registered functions: Rhai's `print` and `debug`
/// statements, whose output autorun routes into the test's logs.
pub(super) const EXTRA_GLOBALS: &[Entry] = &[
    e("print", &["value"], "Writes `value` as a line to the test's INFO log (Rhai's `print`, routed by autorun)."),
    e("debug", &["value"], "Writes `value` and its line number to the test's DEBUG log (Rhai's `debug`, routed by autorun)."),
];

/// An `EXTRA_GLOBALS` entry as an `ApiFn`.
pub(super) fn extra(entry: &Entry) -> ApiFn {
    ApiFn {
        name: entry.key.to_string(),
        kind: FnKind::Function,
        params: entry
            .params
            .iter()
            .map(|n| Param {
                name: n.to_string(),
                ty: "?".into(),
            })
            .collect(),
        returns: None,
        doc: entry.doc.to_string(),
    }
}

/// What a host type is; `""` for a type this table does not know.
pub(super) fn type_doc(name: &str) -> &'static str {
    match name {
        "Test" => "The test object: `this` in every lifecycle function. Besides the read-only properties below, any property is the script's own state (`this.count = 0` in `initialize`, `this.count += 1` in `run_once`), kept across phases; `this[\"name\"]` works too, and reading one that was never set is an error.",
        "Process" => "A background process started by `utils::start`; killed with its process group when the test ends.",
        "Job" => "The job: `job` in a control file, `this.job` in a test.",
        "Profilers" => "The job's profilers, `job.profilers`.",
        _ => "",
    }
}

/// Where a host module goes in the listing: the order of the README's table.
pub(super) fn module_rank(name: &str) -> usize {
    const ORDER: &[&str] = &["utils", "fs", "json", "log", "assert", "stats"];
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}
