//! A job: one results directory, one status log, and the tests run into it (one from the
//! command line, or many from a control file, with subtests nested inside their parent).
//! It finds tests by name, frames each with `START`/status/`END` lines, gives it its
//! directories, keyval and tmpdir, applies its timeout, and keeps the verdicts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use crate::console::Console;
use crate::engine::ctx::{HostCtx, Stop};
use crate::engine::failure::{outcome_error, Failure, FailureKind};
use crate::engine::script::TestScript;
use crate::engine::{Dynamic, Engine, JobApi, JobHandle, Map, TestObj};
use crate::error::{Error, EXIT_ABORT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};
use crate::lifecycle::OnFail;
use crate::profilers::ProfilerManager;
use crate::results::status::StatusLog;
use crate::results::writer::{Echo, Logs};
use crate::results::{create_test_dirs, write_job_keyval, Location, ResultsDir, ResultsError};
use crate::status::{Level, LogSink, Settings, Status, TestOutcome};

mod keyval;
mod test_run;

use test_run::subdir_of;
pub use test_run::{Entered, OpenTest};

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
    log: Arc<Logs>,
    settings: Mutex<Settings>,
    profilers: Mutex<ProfilerManager>,
    tmpdir: PathBuf,
    tests_started: std::sync::atomic::AtomicUsize,
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
        write_job_keyval(dir.path(), &keyval::job_keyval(&cfg.label, &cfg.cmdline))
            .map_err(|e| io("keyval", e))?;
        std::fs::create_dir_all(dir.path().join("debug")).map_err(|e| io("debug/", e))?;
        let log = Logs::open(&dir.path().join("debug"), "autorun", echo(cfg.console))
            .map_err(|e| io("debug logs", e))?;
        let log = Arc::new(log);
        // Between tests (a control file's own print and log::*), output goes to the job's
        // log; each test takes the sink over and gives it back.
        ctx.set_sink(Some(log.clone()));
        let status = StatusLog::create(dir.path()).map_err(|e| io("status.log", e))?;
        // Created on first use only: most tests never touch their tmpdir, and creating
        // and removing directories is a large part of a short run.
        let tmpdir = std::env::temp_dir().join(format!(
            "autorun-job-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let job = Arc::new_cyclic(|me| Job {
            me: me.clone(),
            ctx,
            dir,
            status: Arc::new(Mutex::new(status)),
            log,
            settings: Mutex::new(cfg.settings),
            profilers: Mutex::new(ProfilerManager::default()),
            tmpdir,
            tests_started: std::sync::atomic::AtomicUsize::new(0),
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

    /// Writes `END GOOD|ABORT ---- ----` and `job_finished`, prints the summary of a
    /// multi-test job, and returns the exit code.
    pub fn finish(&self) -> i32 {
        remove_dir(&self.tmpdir).unwrap_or_else(|e| self.log.log(Level::Warning, &e));
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
        self.console.results_dir(self.dir.shown());
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

    fn tmpdir(&self) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.tmpdir).map_err(|e| {
            format!(
                "cannot create the job tmpdir {}: {e}",
                self.tmpdir.display()
            )
        })?;
        Ok(self.tmpdir.clone())
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

/// The console echo of log lines, with `-v`.
fn echo(console: Console) -> Option<Echo> {
    (console.verbosity == crate::console::Verbosity::Verbose).then(|| {
        Arc::new(move |level: Level, msg: &str| console.log_line(level.as_str(), msg)) as Echo
    })
}

/// Removes a scratch directory that may never have been created.
fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}
