//! The REPL core over an in-memory reader and writer, on a real job in a temporary
//! directory (without entering the test, so the process's working directory stays).

use std::sync::atomic::AtomicBool;

use super::*;
use crate::console::Console;
use crate::engine::{Host, Map};
use crate::job::JobConfig;
use crate::results::Location;
use crate::status::Settings;

const SCRIPT: &str = "fn initialize() { this.count = 0; }\n\
                      fn run_once(step) {\n\
                          this.count += step ?? 1;\n\
                          this.write_perf_keyval(#{ count: this.count });\n\
                      }\n";

fn job(dir: &Path, host: &Host) -> Arc<Job> {
    let config = JobConfig {
        location: Location::Explicit(dir.join("res")),
        reuse: false,
        label: "t".into(),
        settings: Settings::default(),
        timeout: None,
        console: Console {
            verbosity: Verbosity::Quiet,
        },
        cmdline: String::new(),
        base: dir.to_path_buf(),
        testdirs: Vec::new(),
        on_fail: None,
    };
    Job::start(host.ctx().clone(), config).expect("job starts")
}

#[test]
fn a_piped_session_evaluates_calls_phases_and_iterates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.rhai");
    std::fs::write(&path, SCRIPT).expect("write script");
    let host = Host::new(HostCtx::new(Arc::new(AtomicBool::new(false))));
    let engine = host.engine();
    let script = Arc::new(load_script(engine, &path).expect("loads"));
    let job = job(dir.path(), &host);
    let spec = TestSpec::for_script(script.clone());
    let open = job
        .open_test(&spec, Map::new(), None)
        .expect("results dirs")
        .unwrap_or_else(|_| panic!("test opens"));
    let mut live = Live::opened(
        engine,
        host.ctx().clone(),
        &job,
        spec,
        open.test.clone(),
        script,
        Some(path),
        Kind::Test,
        None,
    )
    .unwrap_or_else(|f| panic!("{}", f.message));
    let input = "fn twice(x) {\n  x * 2\n}\ntwice(21)\n:call initialize\n:iterate 2\n\
                 :call run_once step=10\ntest.count\n:quit\nnot reached\n";
    let mut out = Vec::new();
    let leave = interact_piped(&mut live, input.as_bytes(), &mut out).expect("writes");
    assert_eq!(leave, Leave::Quit);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "=> 42\ninitialize: ok\niterations 1..2: ok\nrun_once: ok\n=> 12\n"
    );
    let mut out = Vec::new();
    assert!(finish(&mut live, leave, &mut out).is_ok());
    assert_eq!(
        String::from_utf8_lossy(&out),
        "running cleanup (leave with :quit! to skip it)\ncleanup: ok\n"
    );
    let keyval = std::fs::read_to_string(open.test.info().resultsdir.join("keyval"))
        .expect("iteration keyvals");
    assert_eq!(
        keyval,
        "count{perf}=1\n\ncount{perf}=2\n\ncount{perf}=12\n\n"
    );
    job.close_test(open, Ok(()));
    assert_eq!(job.finish(), 0);
}
