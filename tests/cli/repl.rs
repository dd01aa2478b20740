//! The REPL driven through stdin, as a user at a pipe would: evaluation, commands, files
//! on disk, `:reload`, interrupts and the post-mortem of `--repl-on-fail`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::*;

/// A running `autorun` whose stdin the test writes and whose stdout it watches.
struct Repl {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
}

impl Repl {
    /// `autorun <args>` in `cwd` with piped stdin, stdout and stderr.
    fn spawn(cwd: &Path, args: &[&str]) -> Repl {
        let mut child = Command::new(env!("CARGO_BIN_EXE_autorun"))
            .args(args)
            .current_dir(cwd)
            .env_remove("AUTORUN_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start autorun");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().expect("stdout"), stdout.clone()),
            collect(child.stderr.take().expect("stderr"), stderr.clone()),
        ];
        Repl {
            stdin: child.stdin.take(),
            child,
            stdout,
            readers,
            stderr,
        }
    }

    /// `autorun repl <fixture script> --results <res> <args>`.
    fn open(f: &Fixture, args: &[&str]) -> Repl {
        let results = f.results();
        let mut all = vec![
            "repl",
            f.script.to_str().expect("utf-8 path"),
            "--results",
            results.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        Repl::spawn(f.dir.path(), &all)
    }

    /// Writes `text` (lines) to the session.
    fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).expect("write to the REPL");
        stdin.flush().expect("flush");
    }

    /// Waits until stdout holds `needle` `times` times in all; panics with the output
    /// after 10 s.
    fn wait_for_nth(&self, needle: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.stdout().matches(needle).count() >= times {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!(
            "no {needle:?} (x{times}) in stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            lock(&self.stderr)
        );
    }

    fn wait_for(&self, needle: &str) {
        self.wait_for_nth(needle, 1);
    }

    fn stdout(&self) -> String {
        lock(&self.stdout).clone()
    }

    /// Sends SIGINT, as Ctrl-C would.
    fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill only sends a signal to our own child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Closes stdin (end of input) and returns the exit code, stdout and stderr.
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for autorun");
        for reader in self.readers.drain(..) {
            reader.join().expect("reader thread");
        }
        let err = lock(&self.stderr).clone();
        (status.code().unwrap_or(-1), self.stdout(), err)
    }
}

fn lock(m: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    m.lock().expect("output lock")
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0_u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            lock(&into).push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

/// A whole session piped at once: exit code, stdout, stderr.
fn session(f: &Fixture, args: &[&str], input: &str) -> (i32, String, String) {
    let mut repl = Repl::open(f, args);
    repl.send(input);
    repl.finish()
}

fn assert_has(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(haystack.contains(needle), "no {needle:?} in:\n{haystack}");
    }
}

const GOOD_LOG: &str = "START\t----\t----\ttimestamp=T\tlocaltime=L\t\n\
     \tSTART\trepl_counter\trepl_counter\ttimestamp=T\tlocaltime=L\t\n\
     \t\tGOOD\trepl_counter\trepl_counter\ttimestamp=T\tlocaltime=L\tcompleted successfully\n\
     \tEND GOOD\trepl_counter\trepl_counter\ttimestamp=T\tlocaltime=L\t\n\
     END GOOD\t----\t----\ttimestamp=T\tlocaltime=L\t\n";

#[test]
fn functions_and_values_span_lines_and_persist() {
    let f = Fixture::new("repl_counter.rhai");
    let input = "fn add(a,\n       b) {\n  a + b\n}\nlet x = add(40, 2);\nx\n[1,\n 2]\n\"a\" +\n  \"b\"\n`two\nlines`\n";
    let (code, out, err) = session(&f, &[], input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().take(4).collect::<Vec<_>>(),
        ["=> 42", "=> [1, 2]", "=> \"ab\"", "=> \"two\\nlines\""]
    );
}

#[test]
fn phases_run_by_name_and_as_methods_and_write_keyvals() {
    let f = Fixture::new("repl_counter.rhai");
    let input = ":call initialize\n:call run_once seconds=0\ntest.run_once(0)\ntest.count\n\
                 :keyvals\n:perf\n:quit\n";
    let (code, out, err) = session(&f, &[], input);
    assert_eq!(code, 0, "{err}");
    assert_has(
        &out,
        &[
            "initialize: ok\nrun_once: ok\n=> 2\n",
            "results/keyval:\n  count{perf}=1\n\n  count{perf}=2\n",
            "perf keyvals (2 blocks):\n    1  count=1\n    2  count=2\n  count  n=2  min=1.0  mean=1.5  max=2.0\n",
            "running cleanup (leave with :quit! to skip it)\ncleanup: ok\n",
        ],
    );
    assert_eq!(
        f.read("repl_counter/results/keyval"),
        "count{perf}=1\n\ncount{perf}=2\n\n"
    );
    assert_eq!(f.read("repl_counter/cleaned"), "count=2");
    assert_eq!(normalize_status(&f.read("status.log")), GOOD_LOG);
}

#[test]
fn quitting_with_a_bang_skips_cleanup_and_an_unstarted_test_needs_none() {
    let f = Fixture::new("repl_counter.rhai");
    let (code, out, _) = session(&f, &[], ":call initialize\n:quit!\n");
    assert_eq!(code, 0);
    assert!(!out.contains("cleanup"), "{out}");
    assert_eq!(f.read("repl_counter/cleaned"), "");
    let g = Fixture::new("repl_counter.rhai");
    let (_, out, _) = session(&g, &[], "1\n");
    assert!(!out.contains("cleanup"), "{out}");
    assert_eq!(normalize_status(&g.read("status.log")), GOOD_LOG);
}

#[test]
fn a_failing_phase_is_shown_and_recorded_as_the_tests_verdict() {
    let f = Fixture::new("repl_counter.rhai");
    // run_once before initialize reads a property that was never set: FAIL.
    let (code, out, _) = session(&f, &[], ":call run_once\n:quit!\n");
    assert_eq!(code, 1);
    assert_has(
        &out,
        &["FAIL in run_once: Unhandled RuntimeError: the test object has no property 'count'"],
    );
    assert!(f
        .read("status.log")
        .contains("\t\tFAIL\trepl_counter\trepl_counter\t"));
}

#[test]
fn a_syntax_error_does_not_end_the_session() {
    let f = Fixture::new("repl_counter.rhai");
    let (code, out, _) = session(&f, &[], "let x = ;\n1 + 1\n");
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().take(6).collect::<Vec<_>>().join("\n"),
        "error: Unexpected ';'\n --> <input>:1:9\n  |\n1 | let x = ;\n  |         ^\n=> 2"
    );
}

#[test]
fn reload_uses_the_new_code_and_keeps_the_state() {
    let f = Fixture::new("repl_counter.rhai");
    let mut repl = Repl::open(&f, &[]);
    repl.send(":call initialize\nlet kept = 7;\n:call run_once\ntest.count\n");
    repl.wait_for("=> 1\n");
    let source = std::fs::read_to_string(&f.script).expect("read fixture");
    std::fs::write(&f.script, "fn broken( {").expect("break the script");
    repl.send(":reload\ntest.run_once(0)\ntest.count\n");
    repl.wait_for("=> 2\n");
    let edited = source.replace("this.count += 1;", "this.count += 100;");
    std::fs::write(&f.script, edited).expect("edit the script");
    repl.send(":reload\ntest.run_once(0)\ntest.count + kept\n:quit\n");
    let (code, out, err) = repl.finish();
    assert_eq!(code, 0, "{err}");
    assert_has(
        &out,
        &[
            "error: Expecting ')'",
            "repl_counter.rhai:1:12\n",
            "(the old code stays)\n",
            "reloaded ",
            "=> 109\n",
        ],
    );
    assert_eq!(f.read("repl_counter/cleaned"), "count=102");
}

#[test]
fn sigint_stops_a_runaway_loop_or_a_sleep_and_the_session_goes_on() {
    let f = Fixture::new("repl_counter.rhai");
    let mut repl = Repl::open(&f, &[]);
    repl.send("print(\"looping\"); loop {}\n");
    repl.wait_for("looping\n");
    repl.interrupt();
    repl.wait_for("interrupted (Ctrl-C)\n");
    repl.send("40 + 2\nprint(\"sleeping\"); sleep(30)\n");
    repl.wait_for("sleeping\n");
    repl.interrupt();
    repl.wait_for_nth("interrupted (Ctrl-C)\n", 2);
    repl.send("\"still here\"\n");
    let (code, out, err) = repl.finish();
    assert_eq!(code, 0, "{err}");
    assert_has(&out, &["=> 42\n", "=> \"still here\"\n"]);
}

#[test]
fn repl_on_fail_opens_on_the_failed_test_then_cleanup_runs() {
    let f = Fixture::new("repl_fails.rhai");
    let results = f.results();
    let mut repl = Repl::spawn(
        f.dir.path(),
        &[
            "run",
            f.script.to_str().expect("utf-8"),
            "iterations=3",
            "--repl-on-fail",
            "--results",
            results.to_str().expect("utf-8"),
        ],
    );
    repl.send("error\ntest.seen\n:quit\n");
    let (code, out, err) = repl.finish();
    assert_eq!(code, 1, "{err}");
    assert_has(
        &out,
        &[
            "post-mortem: repl_fails FAIL in run_once: iteration 2 went wrong\n",
            "=> #{\"column\": 9, \"kind\": \"TestFail\", \"line\": 10, \"message\": \"iteration 2 went wrong\", \"phase\": \"run_once\"}\n",
            "=> [1, 2]\n",
        ],
    );
    assert_eq!(f.read("repl_fails/cleaned"), "seen=[1, 2]");
    assert!(normalize_status(&f.read("status.log")).contains(
        "\t\tFAIL\trepl_fails\trepl_fails\ttimestamp=T\tlocaltime=L\titeration 2 went wrong\n"
    ));
}

#[test]
fn without_a_script_it_is_a_scratch_session_with_every_host_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut repl = Repl::spawn(dir.path(), &["repl", "--results", "res"]);
    repl.send(
        "print(\"hello\")\njson::to_string(#{a: [1, 2]})\nstats::mean([1, 2, 3])\n:iterate\n",
    );
    let (code, out, err) = repl.finish();
    assert_eq!(code, 0, "{err}");
    assert_has(
        &out,
        &[
            "hello\n=> \"{\\\"a\\\":[1,2]}\"\n=> 2.0\n",
            "no test loaded: open the REPL on a test script",
        ],
    );
    let log = std::fs::read_to_string(dir.path().join("res/repl/debug/repl.INFO"))
        .expect("the scratch test's log");
    assert!(log.contains("| hello"), "{log}");
}

/// The issue's "done when": `autorun repl scripts/sleeptest.rhai` (default results
/// directory), initialize, three iterations, perf keyvals, an edit, reload, more
/// iterations, and cleanup on the way out.
#[test]
fn the_sleeptest_session_from_the_issue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("scripts/sleeptest.rhai");
    std::fs::create_dir_all(dir.path().join("scripts")).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sleeptest.rhai"),
        &script,
    )
    .expect("copy sleeptest");
    let mut repl = Repl::spawn(dir.path(), &["repl", "scripts/sleeptest.rhai"]);
    repl.send(":args seconds=0\n:call initialize\n:iterate 3\n:perf\n");
    repl.wait_for("perf keyvals: none yet\n");
    let source = std::fs::read_to_string(&script).expect("read sleeptest");
    let edited = source.replace(
        "sleep(seconds ?? 1);",
        "sleep(seconds ?? 1);\n    this.write_perf_keyval(#{ slept_s: seconds ?? 1 });",
    ) + "\nfn cleanup() { fs::write(this.outputdir + \"/cleaned\", `after ${this.iteration}`); }\n";
    std::fs::write(&script, edited).expect("edit sleeptest");
    repl.send(":reload\n:iterate 2\n:perf\n:quit\n");
    let (code, out, err) = repl.finish();
    assert_eq!(code, 0, "{err}");
    assert_has(
        &out,
        &[
            "seconds=0\ninitialize: ",
            "iterations 1..3: ok\n",
            "reloaded scripts/sleeptest.rhai\n",
            "iterations 4..5: ok\n",
            "perf keyvals (2 blocks):\n    1  slept_s=0\n    2  slept_s=0\n",
            "cleanup: ok\n",
        ],
    );
    let test_dir = dir.path().join("results/latest/sleeptest");
    let read = |rel: &str| std::fs::read_to_string(test_dir.join(rel)).unwrap_or_default();
    assert_eq!(read("cleaned"), "after 5");
    assert_eq!(
        read("results/keyval"),
        "slept_s{perf}=0\n\nslept_s{perf}=0\n\n"
    );
    assert!(read("status.log").contains("GOOD\tsleeptest\tsleeptest\t"));
}

#[test]
fn reload_keeps_imports_working_for_a_relatively_named_script() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let f = Fixture::new("imports.rhai");
    copy_tree(&root.join("lib"), &f.dir.path().join("lib"));
    let mut repl = Repl::spawn(f.dir.path(), &["repl", "imports.rhai", "--results", "res"]);
    repl.send(":call run_once\n:reload\n:call run_once\n:quit\n");
    let (code, out, err) = repl.finish();
    assert_eq!(code, 0, "{out}\n{err}");
    assert_has(&out, &["reloaded imports.rhai\n"]);
    assert_eq!(out.matches("run_once: ok\n").count(), 2, "{out}");
}
