//! The live test the REPL works on: its test object, the current version of its script,
//! its arguments, the evaluation session, and what has run (so that leaving runs cleanup
//! and records a truthful verdict). Each evaluation or command runs guarded: Ctrl-C
//! stops it and the session goes on, and the test's timeout applies to it alone.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::engine::ctx::HostCtx;
use crate::engine::failure::Failure;
use crate::engine::script::TestScript;
use crate::engine::session::{host_names, EvalError, Session};
use crate::engine::value::from_arg;
use crate::engine::{Dynamic, Engine, JobApi, JobHandle, Map, TestObj};
use crate::job::{Job, TestSpec};
use crate::lifecycle::Raised;

use super::complete::Words;

mod phases;

pub(crate) use phases::{CallError, Called, Cleanup};

/// What kind of script the session was opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A test: phases, iterations and `:run` are available.
    Test,
    /// No script: every host module, nothing to call.
    Scratch,
    /// A control file: its functions, not its top level.
    Control,
}

/// The script as the runner holds it (post-mortem) or as the REPL loaded it.
enum ScriptRef<'a> {
    Borrowed(&'a TestScript),
    Owned(Arc<TestScript>),
}

/// The REPL's live test.
pub(crate) struct Live<'a> {
    engine: &'a Engine,
    ctx: Arc<HostCtx>,
    job: Arc<dyn JobApi>,
    /// The job itself, for `:run`; `None` in a post-mortem (the job is busy).
    runner: Option<(Arc<Job>, TestSpec)>,
    test: TestObj,
    script: ScriptRef<'a>,
    /// The script file on disk, for `:reload`.
    file: Option<PathBuf>,
    kind: Kind,
    args: Map,
    timeout: Option<u64>,
    session: Session,
    /// A phase has run since the last cleanup: leaving runs cleanup.
    started: bool,
    /// How the last phase run by a command ended (`None`: passed, or none ran).
    verdict: Option<Raised>,
    runs: u32,
    post_mortem: bool,
    /// The host API's names, read from the engine's metadata on first use.
    host_words: Option<(BTreeSet<String>, BTreeSet<String>)>,
}

impl<'a> Live<'a> {
    /// A session on a test the REPL opened itself: `test` is the open test's object,
    /// `spec` where it lives (for `:run`), `script` what the session calls.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of a live test, named once"
    )]
    pub(crate) fn opened(
        engine: &'a Engine,
        ctx: Arc<HostCtx>,
        job: &Arc<Job>,
        spec: TestSpec,
        test: TestObj,
        script: Arc<TestScript>,
        file: Option<PathBuf>,
        kind: Kind,
        timeout: Option<u64>,
    ) -> Result<Self, Failure> {
        let api: Arc<dyn JobApi> = job.clone();
        let mut live = Live {
            engine,
            ctx,
            job: api,
            runner: Some((job.clone(), spec)),
            args: test.args(),
            test,
            script: ScriptRef::Owned(script),
            file,
            kind,
            timeout,
            session: Session::new(),
            started: false,
            verdict: None,
            runs: 0,
            post_mortem: false,
            host_words: None,
        };
        live.init_session(job.handle())?;
        Ok(live)
    }

    /// A post-mortem session on a test that just failed, before its cleanup; `error`
    /// holds `#{kind, message, phase, line, column}`.
    pub(crate) fn post_mortem(
        engine: &'a Engine,
        ctx: Arc<HostCtx>,
        script: &'a TestScript,
        test: &TestObj,
        raised: &Raised,
    ) -> Result<Self, String> {
        let handle = test.job().clone();
        let job = handle
            .clone()
            .try_cast::<JobHandle>()
            .ok_or("the failed test belongs to no job")?;
        let file = script
            .path()
            .file_name()
            .map(|name| test.info().bindir.join(name));
        let mut live = Live {
            engine,
            ctx,
            job: job.0,
            runner: None,
            args: test.args(),
            test: test.clone(),
            script: ScriptRef::Borrowed(script),
            file,
            kind: Kind::Test,
            timeout: None,
            session: Session::new(),
            started: false,
            verdict: None,
            runs: 0,
            post_mortem: true,
            host_words: None,
        };
        live.init_session(handle).map_err(|f| f.message)?;
        live.session
            .set("error", Dynamic::from_map(error_map(raised)));
        Ok(live)
    }

    fn init_session(&mut self, job: Dynamic) -> Result<(), Failure> {
        self.session.set("test", Dynamic::from(self.test.clone()));
        self.session.set("job", job);
        self.session
            .set("args", Dynamic::from_map(self.args.clone()));
        let run_top_level = self.kind == Kind::Test;
        // Borrow the script and the session as the separate fields they are.
        let script: &TestScript = match &self.script {
            ScriptRef::Borrowed(s) => s,
            ScriptRef::Owned(s) => s,
        };
        self.session.load_script(self.engine, script, run_top_level)
    }

    /// The current version of the script.
    pub(crate) fn script(&self) -> &TestScript {
        match &self.script {
            ScriptRef::Borrowed(s) => s,
            ScriptRef::Owned(s) => s,
        }
    }

    /// The session's kind.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The test object.
    pub(crate) fn test(&self) -> &TestObj {
        &self.test
    }

    /// The job's results directory.
    pub(crate) fn results_dir(&self) -> PathBuf {
        self.job.resultdir()
    }

    /// The evaluation session (for `:fns`).
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// The current arguments.
    pub(crate) fn args(&self) -> &Map {
        &self.args
    }

    /// Shows a value as the REPL does.
    pub(crate) fn display(&self, value: Dynamic) -> String {
        self.session.display(self.engine, value)
    }

    /// Runs `f` as one evaluation: a clear interrupt flag, the test's time budget, and
    /// afterwards neither, so that a Ctrl-C or a timeout ends this evaluation only.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let flag = self.ctx.interrupt_flag().clone();
        flag.store(false, Ordering::SeqCst);
        self.ctx.set_timeout(self.timeout);
        let result = f(self);
        self.ctx.set_timeout(None);
        flag.store(false, Ordering::SeqCst);
        result
    }

    /// Evaluates prompt input.
    pub(crate) fn eval(&mut self, text: &str) -> Result<Option<String>, EvalError> {
        self.guarded(|live| live.session.eval_line(live.engine, text))
    }

    /// `:args key=value...`: checks the words against the script, as the command line
    /// is checked, and sets them for the next phases.
    pub(crate) fn set_args(&mut self, words: &[String]) -> Result<(), CallError> {
        let typed = if self.kind == Kind::Test {
            crate::run::checked_args(self.script(), words)
                .map_err(|e| CallError::Usage(e.to_string()))?
        } else {
            typed_words(words).map_err(CallError::Usage)?
        };
        self.args.extend(typed);
        self.test.set_args(self.args.clone());
        self.session
            .set("args", Dynamic::from_map(self.args.clone()));
        Ok(())
    }

    /// `:reload`: compiles the script from disk again and swaps its functions in; the
    /// test object, the scope and the functions defined at the prompt stay. On an error
    /// the old code stays and the rendered error is returned.
    pub(crate) fn reload(&mut self) -> Result<String, String> {
        // The top level runs again: a stray Ctrl-C must not stop it.
        self.guarded(Self::reload_now)
    }

    fn reload_now(&mut self) -> Result<String, String> {
        let Some(file) = self.file.clone() else {
            return Err("no script to reload: this session was opened without one".into());
        };
        let shown = self.script().path().to_path_buf();
        // The session runs inside the test's output directory, so the script is loaded
        // from its absolute path: a relative one would send `import` to the wrong place.
        let script = crate::run::load_script(self.engine, &file).map_err(|e| e.to_string())?;
        let run_top_level = self.kind == Kind::Test;
        let loaded = self
            .session
            .load_script(self.engine, &script, run_top_level);
        self.script = ScriptRef::Owned(Arc::new(script));
        loaded.map_err(|f| format!("reloaded, but its top level failed: {}", f.message))?;
        Ok(shown.display().to_string())
    }

    /// What completion offers now.
    pub(crate) fn words(&mut self) -> Words {
        let engine = self.engine;
        let (globals, members) = self
            .host_words
            .get_or_insert_with(|| host_names(engine))
            .clone();
        let mut words = Words {
            names: globals,
            members,
            functions: self.script().functions().keys().cloned().collect(),
        };
        words.names.extend(self.session.names());
        words
            .members
            .extend(self.test.props().keys().map(|k| k.to_string()));
        words
    }
}

/// Types `key=value` words without checking them against a script.
pub(crate) fn typed_words(words: &[String]) -> Result<Map, String> {
    let pairs = crate::args::parse_pairs(words)?;
    Ok(pairs
        .iter()
        .map(|(k, v)| (k.as_str().into(), from_arg(v)))
        .collect())
}

/// `#{kind, message, phase, line, column}` for a post-mortem's `error`.
fn error_map(raised: &Raised) -> Map {
    let mut map = raised.failure.to_map();
    map.insert("phase".into(), raised.phase.into());
    let (line, column) = match raised.failure.position {
        Some((l, c)) => (Dynamic::from(l as i64), Dynamic::from(c as i64)),
        None => (Dynamic::UNIT, Dynamic::UNIT),
    };
    map.insert("line".into(), line);
    map.insert("column".into(), column);
    map
}
