//! A job: one results directory, one status log, and the tests run into it. It frames each
//! test with `START`/status/`END` lines, writes the test keyval, gives the test its
//! directories and tmpdir, applies its timeout, and keeps the verdicts for the exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::args::CONSUMED_PARAMS;
use crate::console::Console;
use crate::engine::ctx::HostCtx;
use crate::engine::failure::FailureKind;
use crate::engine::script::TestScript;
use crate::engine::value::{keyval_map, literal};
use crate::engine::{Dynamic, Engine, Map, TestInfo, TestObj};
use crate::error::{Error, EXIT_ABORT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};
use crate::lifecycle::{Lifecycle, Settings};
use crate::profilers::ProfilerManager;
use crate::results::debuglog::DebugLog;
use crate::results::status::StatusLog;
use crate::results::writer::{Echo, TestWriter};
use crate::results::{create_test_dirs, write_job_keyval, Location, ResultsDir};
use crate::status::{Level, LogSink, Status};

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
}

/// What is needed to run one test script.
pub struct TestSpec<'a> {
    /// The compiled script with its constants loaded.
    pub script: &'a TestScript,
    /// The test's name (the script's file stem).
    pub name: String,
    /// The folder holding the script.
    pub bindir: PathBuf,
    /// Where setup builds things.
    pub srcdir: PathBuf,
}

impl<'a> TestSpec<'a> {
    /// The name and directories of a test found at the script's path: `srcdir` is
    /// `<bindir>/src` for `<name>/<name>.rhai`, else `<bindir>/src/<name>`.
    pub fn for_script(script: &'a TestScript) -> Self {
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

/// The verdict on one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The tagged test name.
    pub name: String,
    /// Its status.
    pub status: Status,
    /// The status-log message (empty for GOOD).
    pub reason: String,
    /// How long it took.
    pub duration: Duration,
}

/// A running job.
pub struct Job {
    ctx: Arc<HostCtx>,
    dir: ResultsDir,
    status: Arc<Mutex<StatusLog>>,
    log: DebugLog,
    settings: Settings,
    profilers: ProfilerManager,
    tmpdir: tempfile::TempDir,
    console: Console,
    timeout: Option<u64>,
    outcomes: Vec<TestOutcome>,
    abort: Option<(String, bool)>,
}

impl Job {
    /// Creates the results directory, writes the job keyval and `START ---- ----`.
    pub fn start(ctx: Arc<HostCtx>, cfg: JobConfig) -> Result<Job, Error> {
        let dir = ResultsDir::create(cfg.location, cfg.reuse)?;
        let io = |what: &str, e: std::io::Error| {
            Error::Other(format!(
                "cannot create {what} in {}: {e}",
                dir.path().display()
            ))
        };
        let started = chrono::Utc::now().timestamp();
        let keyval: BTreeMap<String, String> = [
            ("status_version", "1".to_string()),
            ("job_started", started.to_string()),
            ("hostname", hostname()),
            (
                "user",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            ),
            ("label", cfg.label.clone()),
            ("autorun_version", env!("CARGO_PKG_VERSION").to_string()),
            ("cmdline", cfg.cmdline.replace('\n', " ")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        write_job_keyval(dir.path(), &keyval).map_err(|e| io("keyval", e))?;
        std::fs::create_dir_all(dir.path().join("debug")).map_err(|e| io("debug/", e))?;
        let log = DebugLog::open(&dir.path().join("debug"), "autorun")
            .map_err(|e| io("debug logs", e))?;
        let status = StatusLog::create(dir.path()).map_err(|e| io("status.log", e))?;
        let tmpdir = tempfile::Builder::new()
            .prefix("autorun-job-")
            .tempdir()
            .map_err(|e| Error::Other(format!("cannot create a job tmpdir: {e}")))?;
        let job = Job {
            ctx,
            dir,
            status: Arc::new(Mutex::new(status)),
            log,
            settings: cfg.settings,
            profilers: ProfilerManager::default(),
            tmpdir,
            console: cfg.console,
            timeout: cfg.timeout,
            outcomes: Vec::new(),
            abort: None,
        };
        job.record("START", None, None, "", &[]);
        Ok(job)
    }

    /// The results directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn record(
        &self,
        code: &str,
        subdir: Option<&str>,
        op: Option<&str>,
        msg: &str,
        fields: &[(String, String)],
    ) {
        let result = self
            .status
            .lock()
            .expect("status lock poisoned")
            .record(code, subdir, op, msg, fields);
        if let Err(e) = result {
            self.log.log(
                Level::Error,
                &format!("cannot record {code} in the status log: {e}"),
            );
        }
    }

    /// Whether a test aborted the job (the rest of a control file is skipped).
    pub fn aborted(&self) -> bool {
        self.abort.is_some()
    }

    /// Runs one test into `<results>/<name[.tag]>/` and records its verdict.
    pub fn run_test(
        &mut self,
        engine: &Engine,
        spec: &TestSpec,
        args: Map,
    ) -> Result<TestOutcome, Error> {
        let tag = args
            .get("tag")
            .filter(|t| !t.is_unit())
            .map(|t| t.to_string())
            .unwrap_or_default();
        let tagged = if tag.is_empty() {
            spec.name.clone()
        } else {
            format!("{}.{tag}", spec.name)
        };
        let dirs = create_test_dirs(self.dir.path(), &tagged)?;
        let timeout = match args.get("timeout").filter(|t| !t.is_unit()) {
            Some(t) => Some(t.as_int().ok().and_then(|t| u64::try_from(t).ok()).ok_or_else(|| {
                Error::Other(format!("{tagged}: timeout must be a non-negative integer number of seconds, got {t}"))
            })?),
            None => self.timeout.or(spec.script.consts().timeout),
        };
        let fields: Vec<(String, String)> = timeout
            .iter()
            .map(|t| ("timeout".to_string(), t.to_string()))
            .collect();
        self.record("START", Some(&tagged), Some(&tagged), "", &fields);
        let started = Instant::now();
        let writer = TestWriter::open(&dirs.outputdir, &tagged, self.status.clone(), self.echo())
            .map_err(|e| {
            Error::Other(format!("cannot open the results files of {tagged}: {e}"))
        })?;
        let writer = Arc::new(writer);
        let test_tmp = tempfile::Builder::new()
            .suffix(&format!("_{tagged}"))
            .tempdir_in(self.tmpdir.path())
            .map_err(|e| Error::Other(format!("cannot create the tmpdir of {tagged}: {e}")))?;
        let info = TestInfo {
            testname: spec.name.clone(),
            tag,
            tagged_testname: tagged.clone(),
            outputdir: dirs.outputdir.clone(),
            resultsdir: dirs.resultsdir,
            profdir: dirs.profdir,
            debugdir: dirs.debugdir,
            bindir: spec.bindir.clone(),
            srcdir: spec.srcdir.clone(),
            tmpdir: test_tmp.path().to_path_buf(),
            version: spec.script.consts().version,
        };
        let test = TestObj::new(info, args.clone(), writer.clone(), Dynamic::UNIT);
        let result = self.exec(engine, spec, test, &args, timeout);
        let (status, reason) = match &result {
            Ok(()) => (Status::Good, "completed successfully".to_string()),
            Err((status, reason, _)) => (*status, reason.clone()),
        };
        if status != Status::Abort || matches!(result, Err((_, _, FailureKind::Interrupted))) {
            self.record(status.as_str(), Some(&tagged), Some(&tagged), &reason, &[]);
        }
        self.record(
            &format!("END {status}"),
            Some(&tagged),
            Some(&tagged),
            "",
            &[],
        );
        if let Err((Status::Abort, reason, kind)) = &result {
            self.abort = Some((reason.clone(), *kind == FailureKind::Interrupted));
        }
        if let Err(e) = test_tmp.close() {
            writer.log(
                Level::Warning,
                &format!("cannot remove the test tmpdir: {e}"),
            );
        }
        let outcome = TestOutcome {
            name: tagged,
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
        self.outcomes.push(outcome.clone());
        Ok(outcome)
    }

    fn echo(&self) -> Option<Echo> {
        let console = self.console;
        (console.verbosity == crate::console::Verbosity::Verbose).then(|| {
            Arc::new(move |level: Level, msg: &str| console.log_line(level.as_str(), msg)) as Echo
        })
    }

    /// The test keyval, then the lifecycle inside the test's directory, with its timeout.
    fn exec(
        &mut self,
        engine: &Engine,
        spec: &TestSpec,
        test: TestObj,
        args: &Map,
        timeout: Option<u64>,
    ) -> Result<(), (Status, String, FailureKind)> {
        let out = test.output().clone();
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
        if let Err(e) = test.write_test_keyval(&keyvals) {
            let msg =
                crate::engine::failure::Failure::from_rhai(&e, &spec.script.source_name()).message;
            return Err((Status::Error, msg, FailureKind::Unhandled));
        }
        let (params, open) = spec.script.accepted_params();
        if let Err(msg) = crate::args::validate(args.keys().map(|k| k.as_str()), &params, open) {
            let first = msg.lines().next().unwrap_or_default().to_string();
            return Err((Status::Error, first, FailureKind::Unhandled));
        }
        let previous_dir = std::env::current_dir().ok();
        if let Err(e) = std::env::set_current_dir(&test.info().outputdir) {
            out.log(
                Level::Warning,
                &format!("cannot enter {}: {e}", test.info().outputdir.display()),
            );
        }
        self.ctx.set_sink(Some(out.clone()));
        self.ctx.set_timeout(timeout);
        let result = Lifecycle::new(
            engine,
            &self.ctx,
            spec.script,
            test,
            args.clone(),
            &self.settings,
            &mut self.profilers,
        )
        .run();
        self.ctx.set_timeout(None);
        self.ctx.kill_background();
        self.ctx.set_sink(None);
        if let Some(dir) = previous_dir {
            let _ = std::env::set_current_dir(dir);
        }
        result.map_err(|r| (r.status, r.failure.message, r.failure.kind))
    }

    /// Writes `END GOOD|ABORT ---- ----` and `job_finished`; returns the exit code.
    pub fn finish(self) -> i32 {
        match &self.abort {
            Some((msg, _)) => self.record("END ABORT", None, None, msg, &[]),
            None => self.record("END GOOD", None, None, "", &[]),
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
        self.console.results_dir(self.dir.path());
        match &self.abort {
            Some((_, true)) => EXIT_INTERRUPTED,
            Some((_, false)) => EXIT_ABORT,
            None if self.outcomes.iter().any(|o| o.status.is_failure()) => EXIT_FAILED,
            None => EXIT_OK,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}
