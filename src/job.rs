//! A job: one results directory, one status log, and the tests run into it (one from the
//! command line, or many from a control file, with subtests nested inside their parent).
//! It finds tests by name, frames each with `START`/status/`END` lines, gives it its
//! directories, keyval and tmpdir, applies its timeout, and keeps the verdicts.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use crate::args::CONSUMED_PARAMS;
use crate::console::Console;
use crate::engine::ctx::{HostCtx, Stop};
use crate::engine::failure::{outcome_error, Failure, FailureKind};
use crate::engine::script::TestScript;
use crate::engine::value::{keyval_map, literal};
use crate::engine::{Dynamic, Engine, JobApi, JobHandle, Map, TestInfo, TestObj};
use crate::error::{Error, EXIT_ABORT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};
use crate::lifecycle::{Lifecycle, OnFail, Raised};
use crate::profilers::ProfilerManager;
use crate::results::debuglog::DebugLog;
use crate::results::status::StatusLog;
use crate::results::writer::{Echo, TestWriter};
use crate::results::{create_test_dirs, write_job_keyval, Location, ResultsDir, ResultsError};
use crate::status::{Level, LogSink, Settings, Status, TestOutcome};

/// How a job is set up.
pub struct JobConfig {
    /// Where the results directory goes.
    pub location: Location,
    /// Whether an existing results directory may be added to.
    pub reuse: bool,
    /// The job label.
    pub label: String,
    /// The lifecycle settings (`test_retry`, …).
    pub settings: Settings,
    /// The `--timeout` for every test, overriding `TIMEOUT`.
    pub timeout: Option<u64>,
    /// The human reporter.
    pub console: Console,
    /// The command line, for the job keyval.
    pub cmdline: String,
    /// The folder relative test paths start from (the control file's).
    pub base: PathBuf,
    /// Where tests are looked up by name, later ones winning.
    pub testdirs: Vec<PathBuf>,
    /// Called when a test fails, before its cleanup (`--repl-on-fail`).
    pub on_fail: Option<OnFail>,
}

/// A test script and where it lives.
#[derive(Clone)]
pub struct TestSpec {
    /// The compiled script with its constants loaded.
    pub script: Arc<TestScript>,
    /// The test's name (the script's file stem).
    pub name: String,
    /// The folder holding the script.
    pub bindir: PathBuf,
    /// Where setup builds things.
    pub srcdir: PathBuf,
}

impl TestSpec {
    /// The name and directories of a test at the script's path: `srcdir` is
    /// `<bindir>/src` for `<name>/<name>.rhai`, else `<bindir>/src/<name>`.
    pub fn for_script(script: Arc<TestScript>) -> Self {
        let path =
            std::path::absolute(script.path()).unwrap_or_else(|_| script.path().to_path_buf());
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let bindir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let own_folder = bindir
            .file_name()
            .is_some_and(|d| d.to_string_lossy() == name);
        let srcdir = if own_folder {
            bindir.join("src")
        } else {
            bindir.join("src").join(&name)
        };
        TestSpec {
            script,
            name,
            bindir,
            srcdir,
        }
    }
}

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
    tmp: tempfile::TempDir,
    writer: Arc<TestWriter>,
}

/// What `Job::enter` took over from the test (or control file) that was running.
pub struct Entered {
    saved: crate::engine::ctx::Saved,
    previous_dir: Option<PathBuf>,
}

/// Why the job stopped early.
struct Abort {
    message: String,
    interrupted: bool,
}

/// A running job, shared by the control file, its tests and their subtests.
pub struct Job {
    me: Weak<Job>,
    ctx: Arc<HostCtx>,
    dir: ResultsDir,
    status: Arc<Mutex<StatusLog>>,
    log: DebugLog,
    settings: Mutex<Settings>,
    profilers: Mutex<ProfilerManager>,
    tmpdir: tempfile::TempDir,
    console: Console,
    timeout: Option<u64>,
    base: PathBuf,
    testdirs: Vec<PathBuf>,
    outcomes: Mutex<Vec<TestOutcome>>,
    abort: Mutex<Option<Abort>>,
    scripts: Mutex<HashMap<PathBuf, Arc<TestScript>>>,
    on_fail: Option<OnFail>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().expect("job lock poisoned")
}

impl Job {
    /// Creates the results directory, writes the job keyval and `START ---- ----`.
    pub fn start(ctx: Arc<HostCtx>, cfg: JobConfig) -> Result<Arc<Job>, Error> {
        let dir = ResultsDir::create(cfg.location, cfg.reuse)?;
        let io = |what: &str, e: std::io::Error| {
            Error::Other(format!(
                "cannot create {what} in {}: {e}",
                dir.path().display()
            ))
        };
        write_job_keyval(dir.path(), &job_keyval(&cfg.label, &cfg.cmdline))
            .map_err(|e| io("keyval", e))?;
        std::fs::create_dir_all(dir.path().join("debug")).map_err(|e| io("debug/", e))?;
        let log = DebugLog::open(&dir.path().join("debug"), "autorun")
            .map_err(|e| io("debug logs", e))?;
        let status = StatusLog::create(dir.path()).map_err(|e| io("status.log", e))?;
        let tmpdir = tempfile::Builder::new()
            .prefix("autorun-job-")
            .tempdir()
            .map_err(|e| Error::Other(format!("cannot create a job tmpdir: {e}")))?;
        let job = Arc::new_cyclic(|me| Job {
            me: me.clone(),
            ctx,
            dir,
            status: Arc::new(Mutex::new(status)),
            log,
            settings: Mutex::new(cfg.settings),
            profilers: Mutex::new(ProfilerManager::default()),
            tmpdir,
            console: cfg.console,
            timeout: cfg.timeout,
            base: cfg.base,
            testdirs: cfg.testdirs,
            outcomes: Mutex::new(Vec::new()),
            abort: Mutex::new(None),
            scripts: Mutex::new(HashMap::new()),
            on_fail: cfg.on_fail,
        });
        job.record_line("START", None, None, "", &[]);
        Ok(job)
    }

    /// The results directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The script-visible `job` object.
    pub fn handle(&self) -> Dynamic {
        let me: Arc<dyn JobApi> = self.me.upgrade().expect("a running job is alive");
        Dynamic::from(JobHandle(me))
    }

    /// The verdicts so far.
    pub fn outcomes(&self) -> Vec<TestOutcome> {
        lock(&self.outcomes).clone()
    }

    fn record_line(
        &self,
        code: &str,
        subdir: Option<&str>,
        op: Option<&str>,
        msg: &str,
        fields: &[(String, String)],
    ) {
        if let Err(e) = lock(&self.status).record(code, subdir, op, msg, fields) {
            self.log.log(
                Level::Error,
                &format!("cannot record {code} in the status log: {e}"),
            );
        }
    }

    fn aborted_error(&self) -> Option<Box<crate::engine::EvalAltResult>> {
        lock(&self.abort).as_ref().map(|a| {
            if a.interrupted {
                Stop::Interrupted.into_error()
            } else {
                outcome_error("JobError", &a.message)
            }
        })
    }

    fn set_abort(&self, message: String, interrupted: bool) {
        lock(&self.abort).get_or_insert(Abort {
            message,
            interrupted,
        });
    }

    /// Records how a control file's top level failed: TEST_NA at job level for `skip`,
    /// otherwise the job aborts with the error as its reason.
    pub fn control_failed(&self, control: &Path, failure: &Failure) {
        match failure.kind {
            _ if lock(&self.abort).is_some() => {}
            FailureKind::Outcome(Status::TestNa) => {
                self.record_line(
                    "TEST_NA",
                    None,
                    Some(&control.display().to_string()),
                    &failure.message,
                    &[],
                );
            }
            FailureKind::Interrupted => self.set_abort(failure.message.clone(), true),
            FailureKind::Abort | FailureKind::Unhandled => {
                self.set_abort(failure.message.clone(), false)
            }
            _ => self.set_abort(
                format!("Unhandled {}: {}", failure.kind_name(), failure.message),
                false,
            ),
        }
    }

    /// Runs the test named `name` (a path, a name in the test directories, or a package)
    /// and returns whether it passed. A missing test is recorded as ERROR.
    fn run_named(
        &self,
        engine: &Engine,
        name: &str,
        args: Map,
        parent: Option<&TestObj>,
    ) -> Result<bool, Box<crate::engine::EvalAltResult>> {
        if let Some(e) = self.aborted_error() {
            return Err(e);
        }
        let base = parent
            .map(|p| p.info().bindir.clone())
            .unwrap_or_else(|| self.base.clone());
        let outcome = match self.find(engine, name, &base) {
            Ok(spec) => self.run_test(engine, &spec, args, parent),
            Err(reason) => self.run_missing(name, &args, parent, &reason),
        };
        let outcome = outcome.map_err(|e| outcome_error("TestError", &e.to_string()))?;
        if let Some(e) = self.aborted_error() {
            return Err(e);
        }
        Ok(outcome.status == Status::Good)
    }

    /// Finds and loads a test script; the error is the reason recorded for it.
    fn find(&self, engine: &Engine, name: &str, base: &Path) -> Result<TestSpec, String> {
        let path = if crate::packages::is_package(name) {
            let testdir = self
                .testdirs
                .first()
                .cloned()
                .unwrap_or_else(|| base.join("tests"));
            crate::packages::install(name, base, &testdir).map_err(|e| e.to_string())?
        } else {
            crate::lookup::resolve(name, base, &self.testdirs)
                .ok_or_else(|| format!("{name}: test does not exist"))?
        };
        let path = std::path::absolute(&path).unwrap_or(path);
        if let Some(script) = lock(&self.scripts).get(&path) {
            return Ok(TestSpec::for_script(script.clone()));
        }
        let script = Arc::new(crate::run::load_script(engine, &path).map_err(|e| e.to_string())?);
        if !script.is_test() {
            return Err(format!(
                "{name}: {} defines neither run_once nor execute",
                path.display()
            ));
        }
        lock(&self.scripts).insert(path, script.clone());
        Ok(TestSpec::for_script(script))
    }

    /// A test that could not be found or loaded: its directory, `START`, ERROR, `END`.
    fn run_missing(
        &self,
        name: &str,
        args: &Map,
        parent: Option<&TestObj>,
        reason: &str,
    ) -> Result<TestOutcome, ResultsError> {
        let short = match crate::packages::package_name(name) {
            Ok((_, package)) if crate::packages::is_package(name) => package,
            _ => crate::lookup::test_name(name),
        };
        let (subdir, tagged) = subdir_of(&short, args, parent);
        create_test_dirs(self.dir.path(), &subdir)?;
        self.record_line("START", Some(&subdir), Some(&tagged), "", &[]);
        Ok(self.finish_test(
            &subdir,
            &tagged,
            Status::Error,
            reason.to_string(),
            Instant::now(),
        ))
    }

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
        let timeout = match args.get("timeout").filter(|t| !t.is_unit()) {
            Some(t) => match t.as_int().ok().and_then(|t| u64::try_from(t).ok()) {
                Some(t) => Some(t),
                None => {
                    self.record_line("START", Some(&subdir), Some(&tagged), "", &[]);
                    let reason = format!(
                        "timeout must be a non-negative integer number of seconds, got {t}"
                    );
                    return Ok(Err(self.finish_test(
                        &subdir,
                        &tagged,
                        Status::Error,
                        reason,
                        started,
                    )));
                }
            },
            None => self.timeout.or(spec.script.consts().timeout),
        };
        let fields: Vec<(String, String)> = timeout
            .iter()
            .map(|t| ("timeout".to_string(), t.to_string()))
            .collect();
        self.record_line("START", Some(&subdir), Some(&tagged), "", &fields);
        let opened = TestWriter::open(&dirs.outputdir, &tagged, self.status.clone(), self.echo())
            .and_then(|w| {
                let tmp = tempfile::Builder::new()
                    .suffix(&format!("_{tagged}"))
                    .tempdir_in(self.tmpdir.path())?;
                Ok((Arc::new(w), tmp))
            });
        let (writer, tmp) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                let reason = format!("cannot open the results files of {tagged}: {e}");
                return Ok(Err(self.finish_test(
                    &subdir,
                    &tagged,
                    Status::Error,
                    reason,
                    started,
                )));
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
            tmpdir: tmp.path().to_path_buf(),
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
        if let Err(e) = open.tmp.close() {
            open.writer.log(
                Level::Warning,
                &format!("cannot remove the test tmpdir: {e}"),
            );
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

    /// The test's status line and `END`, then its verdict.
    fn finish_test(
        &self,
        subdir: &str,
        tagged: &str,
        status: Status,
        reason: String,
        started: Instant,
    ) -> TestOutcome {
        self.record_line(status.as_str(), Some(subdir), Some(tagged), &reason, &[]);
        self.record_line(
            &format!("END {status}"),
            Some(subdir),
            Some(tagged),
            "",
            &[],
        );
        self.push_outcome(subdir, status, reason, started)
    }

    fn push_outcome(
        &self,
        subdir: &str,
        status: Status,
        reason: String,
        started: Instant,
    ) -> TestOutcome {
        let outcome = TestOutcome {
            name: subdir.to_string(),
            status,
            reason,
            duration: started.elapsed(),
        };
        self.log.log(
            Level::Info,
            &format!("{} {}: {}", outcome.status, outcome.name, outcome.reason),
        );
        self.console.test_finished(
            &outcome.name,
            outcome.status,
            outcome.duration,
            &outcome.reason,
        );
        lock(&self.outcomes).push(outcome.clone());
        outcome
    }

    fn echo(&self) -> Option<Echo> {
        let console = self.console;
        (console.verbosity == crate::console::Verbosity::Verbose).then(|| {
            Arc::new(move |level: Level, msg: &str| console.log_line(level.as_str(), msg)) as Echo
        })
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

    /// The lifecycle settings and profilers of this job, for running phases by hand.
    pub fn lifecycle<'a>(
        &'a self,
        engine: &'a Engine,
        open: &'a OpenTest,
        settings: &'a Settings,
    ) -> Lifecycle<'a> {
        Lifecycle::new(
            engine,
            &self.ctx,
            &open.spec.script,
            open.test.clone(),
            open.args.clone(),
            settings,
            &self.profilers,
        )
    }

    /// Writes `END GOOD|ABORT ---- ----` and `job_finished`, prints the summary of a
    /// multi-test job, and returns the exit code.
    pub fn finish(&self) -> i32 {
        let abort = lock(&self.abort);
        match &*abort {
            Some(a) => self.record_line("END ABORT", None, None, &a.message, &[]),
            None => self.record_line("END GOOD", None, None, "", &[]),
        }
        let finished = [(
            "job_finished".to_string(),
            chrono::Utc::now().timestamp().to_string(),
        )]
        .into();
        if let Err(e) = write_job_keyval(self.dir.path(), &finished) {
            self.log
                .log(Level::Error, &format!("cannot write job_finished: {e}"));
        }
        let outcomes = lock(&self.outcomes);
        if outcomes.len() > 1 {
            self.console.summary(&outcomes);
        }
        self.console.results_dir(self.dir.path());
        match &*abort {
            Some(a) if a.interrupted => EXIT_INTERRUPTED,
            Some(_) => EXIT_ABORT,
            None if outcomes.iter().any(|o| o.status.is_failure()) => EXIT_FAILED,
            None => EXIT_OK,
        }
    }
}

impl JobApi for Job {
    fn run_test(
        &self,
        engine: &Engine,
        name: &str,
        args: Map,
        parent: Option<&TestObj>,
    ) -> Result<bool, Box<crate::engine::EvalAltResult>> {
        self.run_named(engine, name, args, parent)
    }

    fn record(
        &self,
        code: &str,
        subdir: Option<&str>,
        operation: Option<&str>,
        message: &str,
    ) -> Result<(), String> {
        lock(&self.status)
            .record(code, subdir, operation, message, &[])
            .map_err(|e| e.to_string())
    }

    fn resultdir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn tmpdir(&self) -> PathBuf {
        self.tmpdir.path().to_path_buf()
    }

    fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    fn set_settings(&self, settings: Settings) {
        *lock(&self.settings) = settings;
    }

    fn profilers(&self) -> &Mutex<ProfilerManager> {
        &self.profilers
    }
}

/// The results subdirectory and tagged name: `name[.tag]`, under the parent's subdir for
/// a subtest.
fn subdir_of(name: &str, args: &Map, parent: Option<&TestObj>) -> (String, String) {
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

fn job_keyval(label: &str, cmdline: &str) -> BTreeMap<String, String> {
    [
        ("status_version", "1".to_string()),
        ("job_started", chrono::Utc::now().timestamp().to_string()),
        ("hostname", hostname()),
        ("user", username()),
        ("label", label.to_string()),
        ("autorun_version", env!("CARGO_PKG_VERSION").to_string()),
        ("cmdline", cmdline.replace('\n', " ")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The login name: `$USER`, else the passwd entry of our uid, else the uid itself.
fn username() -> String {
    if let Ok(user) = std::env::var("USER") {
        return user;
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}
