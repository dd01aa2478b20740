//! The order of lifecycle calls, arguments, retries, constraints, timing and cleanup.

use crate::support::*;

#[test]
fn phases_and_hooks_run_in_the_original_order() {
    let f = Fixture::new("lifecycle_order.rhai");
    let out = f.run(&["iterations=2"]);
    assert_code(&out, 0);
    let iteration = |n: i32| {
        format!("before_hook\nbefore_run_once\nrun_once {n}\nafter_run_once\npostprocess_iteration\nafter_hook_2\nafter_hook_1\n")
    };
    let expected = format!(
        "initialize\nsetup\nwarmup\n{}{}postprocess\ncleanup\n",
        iteration(1),
        iteration(2)
    );
    assert_eq!(f.read("lifecycle_order/trace"), expected);
}

#[test]
fn after_hooks_and_cleanup_run_when_run_once_throws() {
    let f = Fixture::new("lifecycle_order.rhai");
    let out = f.run(&["iterations=3", "fail_at=2"]);
    assert_code(&out, 1);
    let trace = f.read("lifecycle_order/trace");
    assert!(
        trace.ends_with(
            "before_hook\nbefore_run_once\nrun_once 2\nafter_hook_2\nafter_hook_1\ncleanup\n"
        ),
        "{trace}"
    );
    assert!(!trace.contains("run_once 3"), "{trace}");
    assert!(!trace.contains("postprocess\n"), "{trace}");
}

#[test]
fn zero_iterations_run_no_iteration_but_still_postprocess() {
    let f = Fixture::new("lifecycle_order.rhai");
    assert_code(&f.run(&["iterations=0"]), 0);
    assert_eq!(
        f.read("lifecycle_order/trace"),
        "initialize\nsetup\nwarmup\npostprocess\ncleanup\n"
    );
}

#[test]
fn run_cleanup_false_skips_cleanup() {
    let f = Fixture::new("lifecycle_order.rhai");
    assert_code(&f.run(&["run_cleanup=false"]), 0);
    assert!(!f.read("lifecycle_order/trace").contains("cleanup"));
}

#[test]
fn functions_receive_the_arguments_they_name_and_unit_for_the_rest() {
    let f = Fixture::new("named_args.rhai");
    let out = f.run(&["seconds=2", "mode=rw", "iterations=1", "extra=[1,2]"]);
    assert_code(&out, 0);
    assert_eq!(
        f.read("named_args/keyval"),
        "param-extra=[1, 2]\nparam-iterations=1\nparam-mode=\"rw\"\nparam-seconds=2\nversion=1\n\
         init-mode=\"rw\"\n\
         run-iterations=1\nrun-missing=()\nrun-mode=\"rw\"\nrun-seconds=2\n\
         cleanup-args=4\n"
    );
}

#[test]
fn an_unknown_parameter_is_refused_before_anything_is_created() {
    let f = Fixture::new("strict_args.rhai");
    let out = f.run(&["iteration=3"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("unknown parameter 'iteration'; did you mean 'iterations'?"),
        "{err}"
    );
    assert!(err.contains("accepted parameters: constraints, iterations, postprocess_profiled_run, profile_only, run_cleanup, seconds, tag, test_attributes, test_length, timeout"), "{err}");
    assert!(err.contains("strict_args.rhai"), "{err}");
    assert!(
        !f.results().exists(),
        "results directory must not be created"
    );
}

#[test]
fn positional_arguments_are_refused() {
    let f = Fixture::new("strict_args.rhai");
    let out = f.run(&["5"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(
            "positional arguments do not exist, so name the parameter it is for, e.g. count=5"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fail_retry_is_retried_up_to_the_job_retry_count() {
    let f = Fixture::new("flaky.rhai");
    let out = f.run(&["--retry", "3", "failures=2"]);
    assert_code(&out, 0);
    let log = normalize_status(&f.read("status.log"));
    assert!(log.contains("\t\tINFO\t----\t----\ttimestamp=T\tlocaltime=L\tRun 0 failed with flaky run 1\n\t\tINFO\t----\t----\ttimestamp=T\tlocaltime=L\tRun 1 failed with flaky run 2\n\t\tGOOD\tflaky\tflaky"), "{log}");
    assert!(f
        .read("flaky/keyval")
        .ends_with("test_retries_before_success=2\n"));
}

#[test]
fn fail_retry_fails_after_the_last_allowed_run() {
    let f = Fixture::new("flaky.rhai");
    let out = f.run(&["--retry", "2", "failures=10"]);
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    assert_eq!(log.matches("\tINFO\t").count(), 3 - 1, "{log}");
    assert!(
        log.contains("\t\tFAIL\tflaky\tflaky\ttimestamp=T\tlocaltime=L\tflaky run 3\n"),
        "{log}"
    );
    assert!(!f
        .read("flaky/keyval")
        .contains("test_retries_before_success"));
}

#[test]
fn fail_retry_without_retries_is_a_plain_fail() {
    let f = Fixture::new("flaky.rhai");
    assert_code(&f.run(&["failures=1"]), 1);
    assert!(!f.read("status.log").contains("INFO"));
}

#[test]
fn constraints_are_checked_against_the_last_perf_keyvals_of_each_iteration() {
    let f = Fixture::new("perf_constraints.rhai");
    let out = f.run(&[
        "iterations=2",
        r#"constraints=["throughput > 2", "nosuchkey > 1", "throughput > 1"]"#,
    ]);
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    let msg = "iteration 0:throughput > 2: constraint was not met,could not evaluate constraint: nosuchkey > 1  \
               iteration 1:throughput > 2: constraint was not met,could not evaluate constraint: nosuchkey > 1  ";
    assert!(
        log.contains(&format!(
            "\t\tFAIL\tperf_constraints\tperf_constraints\ttimestamp=T\tlocaltime=L\t{msg}\n"
        )),
        "{log}"
    );
}

#[test]
fn met_constraints_pass() {
    let f = Fixture::new("perf_constraints.rhai");
    assert_code(
        &f.run(&[r#"constraints=["throughput > 1 and throughput < 2"]"#]),
        0,
    );
}

#[test]
fn test_length_runs_at_least_once_and_ignores_iterations() {
    let f = Fixture::new("timed.rhai");
    let out = f.run(&["test_length=0.2", "iterations=100"]);
    assert_code(&out, 0);
    let trace = f.read("timed/trace");
    let runs = trace.lines().count();
    assert!((2..100).contains(&runs), "{runs} runs");
    assert!(
        trace.lines().all(|l| l == "0"),
        "iteration must not advance in timed mode: {trace}"
    );
    assert!(f.read("timed/keyval").contains(&format!("runs={runs}\n")));
}

#[test]
fn a_cleanup_error_after_a_pass_makes_the_test_error() {
    let f = Fixture::new("cleanup_rules.rhai");
    let out = f.run(&["fail_body=false"]);
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(log.contains("\t\tERROR\tcleanup_rules\tcleanup_rules\ttimestamp=T\tlocaltime=L\tUnhandled RuntimeError: cleanup broke at "), "{log}");
}

#[test]
fn a_cleanup_error_after_a_failure_is_only_logged() {
    let f = Fixture::new("cleanup_rules.rhai");
    let out = f.run(&["fail_body=true"]);
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(
        log.contains(
            "\t\tFAIL\tcleanup_rules\tcleanup_rules\ttimestamp=T\tlocaltime=L\tbody failed\n"
        ),
        "{log}"
    );
    assert_eq!(f.read("cleanup_rules/trace"), "cleanup\n");
    let errors = f.read("cleanup_rules/debug/cleanup_rules.ERROR");
    assert!(
        errors.contains(
            "Ignoring exception during cleanup() phase: Unhandled RuntimeError: cleanup broke"
        ),
        "{errors}"
    );
}

#[test]
fn setup_runs_once_per_version() {
    let f = Fixture::new("versioned_setup.rhai");
    assert_code(&f.run(&[]), 0);
    let again = f.dir.path().join("res2");
    let out = autorun(
        f.dir.path(),
        &[
            "run",
            f.script.to_str().expect("utf-8"),
            "--results",
            again.to_str().expect("utf-8"),
        ],
    );
    assert_code(&out, 0);
    assert_eq!(
        std::fs::read_to_string(f.dir.path().join("setup.log")).expect("log"),
        "setup\n"
    );
    let stamp = f.dir.path().join("src/versioned_setup/.version");
    assert_eq!(std::fs::read_to_string(&stamp).expect("stamp"), "1\n");

    let source = std::fs::read_to_string(&f.script)
        .expect("script")
        .replace("VERSION = 1", "VERSION = 2");
    std::fs::write(&f.script, source).expect("bump version");
    let third = f.dir.path().join("res3");
    assert_code(
        &autorun(
            f.dir.path(),
            &[
                "run",
                f.script.to_str().expect("utf-8"),
                "--results",
                third.to_str().expect("utf-8"),
            ],
        ),
        0,
    );
    assert_eq!(
        std::fs::read_to_string(f.dir.path().join("setup.log")).expect("log"),
        "setup\nsetup\n"
    );
    assert_eq!(std::fs::read_to_string(&stamp).expect("stamp"), "2\n");
}

#[test]
fn a_compile_error_shows_the_line_with_a_caret_and_runs_nothing() {
    let f = Fixture::new("syntax_error.rhai");
    let out = f.run(&[]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("syntax_error.rhai:2:13\n  |\n2 |     let x = ;\n  |             ^"),
        "{err}"
    );
    assert!(!f.results().exists());
}

#[test]
fn imports_resolve_relative_to_the_script_even_from_a_relative_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/lib"),
        &dir.path().join("lib"),
    );
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/imports.rhai"),
        dir.path().join("imports.rhai"),
    )
    .expect("copy");
    let out = autorun(dir.path(), &["imports.rhai", "--results", "res"]);
    assert_code(&out, 0);
    let keyval = std::fs::read_to_string(dir.path().join("res/imports/keyval")).expect("keyval");
    assert!(keyval.contains("doubled=42\n"), "{keyval}");
}

#[test]
fn profile_only_without_profilers_warns_and_runs_nothing() {
    let f = Fixture::new("lifecycle_order.rhai");
    assert_code(&f.run(&["profile_only=true", "iterations=2"]), 0);
    let log = normalize_status(&f.read("status.log"));
    let warn = "\t\tWARN\t----\t----\ttimestamp=T\tlocaltime=L\tNo profilers have been added but profile_only is set - nothing will be run\n";
    assert_eq!(log.matches(warn).count(), 2, "{log}");
    let trace = f.read("lifecycle_order/trace");
    assert!(!trace.contains("run_once"), "{trace}");
    assert_eq!(trace.matches("postprocess_iteration").count(), 2, "{trace}");
}

#[test]
fn a_script_defined_execute_replaces_the_loop() {
    let f = Fixture::inline(
        "own_execute.rhai",
        "fn execute(iterations, args) {\n    this.write_test_keyval(#{ n: iterations, keys: args.keys().len() });\n}\n\
         fn run_once() { fail(\"the default loop must not run\"); }\n",
    );
    assert_code(&f.run(&["iterations=7"]), 0);
    assert!(
        f.read("own_execute/keyval").contains("keys=1\nn=7\n"),
        "{}",
        f.read("own_execute/keyval")
    );
}

#[test]
fn ctrl_c_aborts_the_job_after_cleanup_and_exits_130() {
    let f = Fixture::inline(
        "interrupted.rhai",
        "fn run_once() { fs::write(this.outputdir + \"/started\", \"\"); sleep(30); }\n\
         fn cleanup() { fs::write(this.outputdir + \"/cleaned\", \"yes\"); }\n",
    );
    let results = f.results();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_autorun"))
        .args([
            f.script.to_str().expect("utf-8"),
            "--results",
            results.to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let started = results.join("interrupted/started");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !started.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: sends SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    assert_eq!(f.read("interrupted/cleaned"), "yes");
    let log = normalize_status(&f.read("status.log"));
    assert!(log.contains("\t\tABORT\tinterrupted\tinterrupted\ttimestamp=T\tlocaltime=L\tInterrupted by Ctrl-C\n"), "{log}");
    assert!(
        log.ends_with("END ABORT\t----\t----\ttimestamp=T\tlocaltime=L\tInterrupted by Ctrl-C\n"),
        "{log}"
    );
}

#[test]
fn read_only_properties_refuse_assignment() {
    let f = Fixture::inline(
        "readonly.rhai",
        "fn run_once() { this.iteration.to_string(); this.testname = \"other\"; }\n",
    );
    assert_code(&f.run(&[]), 1);
    assert!(
        f.read("status.log")
            .contains("property 'testname' of the test object is read-only"),
        "{}",
        f.read("status.log")
    );
}

#[test]
fn quiet_prints_nothing_and_verbose_echoes_the_log() {
    let f = Fixture::inline(
        "chatty.rhai",
        "fn run_once() { print(\"hello from the test\"); }\n",
    );
    let out = f.run(&["-q"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "");
    let g = Fixture::inline(
        "chatty.rhai",
        "fn run_once() { print(\"hello from the test\"); }\n",
    );
    let out = g.run(&["-v"]);
    assert!(
        stderr(&out).contains("INFO   | hello from the test\n"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with("GOOD    chatty  "),
        "{}",
        stdout(&out)
    );
}
