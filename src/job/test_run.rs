//! One test inside a job: opening it (directories, writer, tmpdir, test object, `START`),
//! preparing it (test keyval, argument check), entering its context (log sink, timeout,
//! directory), running its lifecycle, and closing it (status line, `END`, verdict). The
//! REPL uses the same steps one at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{Job, TestSpec};
use crate::args::CONSUMED_PARAMS;
use crate::engine::failure::{Failure, FailureKind};
use crate::engine::value::{keyval_map, literal};
use crate::engine::{Engine, JobApi, Map, TestInfo, TestObj};
use crate::lifecycle::{Lifecycle, Raised};
use crate::results::writer::TestWriter;
use crate::results::{create_test_dirs, ResultsError};
use crate::status::{Level, LogSink, Status, TestOutcome};

/// A test that has started (directories, writer, tmpdir, `START` line) and not finished.
pub struct OpenTest {
    /// The test object.
    pub test: TestObj,
    /// The script and where it lives.
    pub spec: TestSpec,
    /// Its arguments.
    pub args: Map,
    /// Its time budget in seconds.
    pub timeout: Option<u64>,
    subdir: String,
    tagged: String,
    started: Instant,
    tmp: PathBuf,
    writer: Arc<TestWriter>,
}

/// What `Job::enter` took over from the test (or control file) that was running.
pub struct Entered {
    saved: crate::engine::ctx::Saved,
    previous_dir: Option<PathBuf>,
}

impl Job {
    /// Runs one test into `<results>/<subdir>/` and records its verdict.
    pub fn run_test(
        &self,
        engine: &Engine,
        spec: &TestSpec,
        args: Map,
        parent: Option<&TestObj>,
    ) -> Result<TestOutcome, ResultsError> {
        let open = match self.open_test(spec, args, parent)? {
            Ok(open) => open,
            Err(outcome) => return Ok(outcome),
        };
        let result = self.exec(engine, &open);
        Ok(self.close_test(open, result))
    }

    /// Creates the test's directories, writer, tmpdir and test object and records its
    /// `START`; a test that cannot even start is recorded at once (`Ok(Err(outcome))`).
    pub fn open_test(
        &self,
        spec: &TestSpec,
        args: Map,
        parent: Option<&TestObj>,
    ) -> Result<Result<OpenTest, TestOutcome>, ResultsError> {
        let (subdir, tagged) = subdir_of(&spec.name, &args, parent);
        let dirs = create_test_dirs(self.dir.path(), &subdir)?;
        let started = Instant::now();
        let cannot_start =
            |reason: String| self.finish_test(&subdir, &tagged, Status::Error, reason, started);
        let timeout = match args.get("timeout").filter(|t| !t.is_unit()) {
            Some(t) => match t.as_int().ok().and_then(|t| u64::try_from(t).ok()) {
                Some(t) => Some(t),
                None => {
                    self.record_line("START", Some(&subdir), Some(&tagged), "", &[]);
                    return Ok(Err(cannot_start(format!(
                        "timeout must be a non-negative integer number of seconds, got {t}"
                    ))));
                }
            },
            None => self.timeout.or(spec.script.consts().timeout),
        };
        let fields: Vec<(String, String)> = timeout
            .iter()
            .map(|t| ("timeout".to_string(), t.to_string()))
            .collect();
        self.record_line("START", Some(&subdir), Some(&tagged), "", &fields);
        let opened = TestWriter::open(
            &dirs.outputdir,
            &tagged,
            self.status.clone(),
            super::echo(self.console),
        )
        .map(Arc::new);
        // Created when the script first reads `this.tmpdir`; unique within the job.
        let n = self
            .tests_started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.tmpdir.join(format!("{n}_{tagged}"));
        let writer = match opened {
            Ok(opened) => opened,
            Err(e) => {
                return Ok(Err(cannot_start(format!(
                    "cannot open the results files of {tagged}: {e}"
                ))))
            }
        };
        let info = TestInfo {
            testname: spec.name.clone(),
            tag: args
                .get("tag")
                .filter(|t| !t.is_unit())
                .map(|t| t.to_string())
                .unwrap_or_default(),
            tagged_testname: tagged.clone(),
            subdir: subdir.clone(),
            outputdir: dirs.outputdir,
            resultsdir: dirs.resultsdir,
            profdir: dirs.profdir,
            debugdir: dirs.debugdir,
            bindir: spec.bindir.clone(),
            srcdir: spec.srcdir.clone(),
            tmpdir: tmp.clone(),
            version: spec.script.consts().version,
        };
        let test = TestObj::new(info, args.clone(), writer.clone(), self.handle());
        Ok(Ok(OpenTest {
            test,
            spec: spec.clone(),
            args,
            timeout,
            subdir,
            tagged,
            started,
            tmp,
            writer,
        }))
    }

    /// Records the verdict of an open test (its status line and `END`), removes its
    /// tmpdir, and returns the outcome.
    pub fn close_test(&self, open: OpenTest, result: Result<(), Raised>) -> TestOutcome {
        if let Err(e) = super::remove_dir(&open.tmp) {
            open.writer.log(Level::Warning, &e);
        }
        let (status, reason) = match result {
            Ok(()) => (Status::Good, "completed successfully".to_string()),
            Err(f) => {
                match f.failure.kind {
                    FailureKind::Interrupted => self.set_abort(f.failure.message.clone(), true),
                    FailureKind::Abort => {
                        // A JobError leaves no status line, only END ABORT (behaviour §3.3).
                        self.set_abort(f.failure.message.clone(), false);
                        self.record_line(
                            "END ABORT",
                            Some(&open.subdir),
                            Some(&open.tagged),
                            "",
                            &[],
                        );
                        return self.push_outcome(
                            &open.subdir,
                            Status::Abort,
                            f.failure.message,
                            open.started,
                        );
                    }
                    _ => {}
                }
                (f.status, f.failure.message)
            }
        };
        self.finish_test(&open.subdir, &open.tagged, status, reason, open.started)
    }

    /// The test keyval and argument check, then the lifecycle inside the test's context.
    fn exec(&self, engine: &Engine, open: &OpenTest) -> Result<(), Raised> {
        self.prepare(open)?;
        let entered = self.enter(open);
        let settings = self.settings();
        let result = Lifecycle::new(
            engine,
            &self.ctx,
            &open.spec.script,
            open.test.clone(),
            open.args.clone(),
            &settings,
            &self.profilers,
        )
        .on_fail(self.on_fail.clone())
        .run();
        self.leave(entered);
        result
    }

    /// Writes the first test keyval block and checks the arguments against the script.
    pub fn prepare(&self, open: &OpenTest) -> Result<(), Raised> {
        let unhandled = |message: String| Raised {
            status: Status::Error,
            failure: Failure::new(FailureKind::Unhandled, message),
            phase: "initialize",
        };
        if let Err(e) = open
            .test
            .write_test_keyval(&test_keyval(&open.spec, &open.args))
        {
            return Err(unhandled(
                Failure::from_rhai(&e, &open.spec.script.source_name()).message,
            ));
        }
        let (params, open_ended) = open.spec.script.accepted_params();
        if let Err(msg) =
            crate::args::validate(open.args.keys().map(|k| k.as_str()), &params, open_ended)
        {
            return Err(unhandled(
                msg.lines().next().unwrap_or_default().to_string(),
            ));
        }
        Ok(())
    }

    /// Makes the open test the running one: its log sink, its timeout, its directory as
    /// the current one. A parent test's context comes back with `leave`.
    pub fn enter(&self, open: &OpenTest) -> Entered {
        let saved = self.ctx.save();
        let previous_dir = std::env::current_dir().ok();
        let out = open.test.output().clone();
        if let Err(e) = std::env::set_current_dir(&open.test.info().outputdir) {
            out.log(
                Level::Warning,
                &format!("cannot enter {}: {e}", open.test.info().outputdir.display()),
            );
        }
        self.ctx.set_sink(Some(out));
        if open.timeout.is_some() {
            self.ctx.set_timeout(open.timeout);
        }
        Entered {
            saved,
            previous_dir,
        }
    }

    /// Gives back the context `enter` took over, killing the test's background processes.
    pub fn leave(&self, entered: Entered) {
        self.ctx.restore(entered.saved);
        if let Some(dir) = entered.previous_dir {
            let _ = std::env::set_current_dir(dir);
        }
    }
}

/// The results subdirectory and tagged name: `name[.tag]`, under the parent's subdir for
/// a subtest.
pub(super) fn subdir_of(name: &str, args: &Map, parent: Option<&TestObj>) -> (String, String) {
    let tag = args
        .get("tag")
        .filter(|t| !t.is_unit())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let tagged = if tag.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{tag}")
    };
    match parent {
        Some(p) => (format!("{}/{tagged}", p.info().subdir), tagged),
        None => (tagged.clone(), tagged),
    }
}

/// The first test keyval block: `test_attributes`, `version`, and `param-<name>` for each
/// argument that is not consumed by the host.
fn test_keyval(spec: &TestSpec, args: &Map) -> BTreeMap<String, String> {
    let mut keyvals = match args
        .get("test_attributes")
        .and_then(|a| a.read_lock::<Map>().map(|m| m.clone()))
    {
        Some(attrs) => keyval_map(&attrs),
        None => BTreeMap::new(),
    };
    keyvals.insert("version".into(), spec.script.consts().version.to_string());
    for (k, v) in args
        .iter()
        .filter(|(k, _)| !CONSUMED_PARAMS.contains(&k.as_str()))
    {
        keyvals.insert(format!("param-{k}"), literal(v));
    }
    keyvals
}
