//! Every outcome function and error kind, and the status line it leaves.

use crate::support::*;

/// Runs outcomes.rhai and returns (exit code, normalized job status log).
fn outcome(outcome: &str, phase: &str) -> (i32, String, Fixture) {
    let f = Fixture::new("outcomes.rhai");
    let out = f.run(&[&format!("outcome={outcome}"), &format!("phase={phase}")]);
    let log = normalize_status(&f.read("status.log"));
    (code(&out), log, f)
}

fn test_lines(status: &str, message: &str) -> String {
    format!(
        "\tSTART\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\t\n\
         \t\t{status}\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\t{message}\n\
         \tEND {status}\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\t\n"
    )
}

#[test]
fn each_outcome_gives_its_status_line_and_exit_code() {
    for (name, status, message, exit) in [
        ("fail", "FAIL", "it failed", 1),
        ("error", "ERROR", "it errored", 1),
        ("skip", "TEST_NA", "not applicable here", 0),
        ("warn", "WARN", "something smells", 0),
        ("assert", "ERROR", "one is not two", 1),
        ("thrown", "FAIL", "thrown map", 1),
        ("none", "GOOD", "completed successfully", 0),
    ] {
        let (code, log, _f) = outcome(name, "run_once");
        assert_eq!(code, exit, "{name}: {log}");
        let expected = format!(
            "START\t----\t----\ttimestamp=T\tlocaltime=L\t\n{}END GOOD\t----\t----\ttimestamp=T\tlocaltime=L\t\n",
            test_lines(status, message)
        );
        assert_eq!(log, expected, "{name}");
    }
}

#[test]
fn unhandled_errors_fail_in_the_body_and_error_elsewhere() {
    for (phase, status) in [
        ("run_once", "FAIL"),
        ("warmup", "FAIL"),
        ("initialize", "ERROR"),
        ("cleanup", "ERROR"),
    ] {
        let (code, log, _f) = outcome("unhandled", phase);
        assert_eq!(code, 1, "{phase}");
        let line = log
            .lines()
            .find(|l| l.starts_with("\t\t"))
            .expect("status line");
        let prefix = format!("\t\t{status}\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\tUnhandled ArithmeticError: Division by zero: 1 / 0 at ");
        assert!(line.starts_with(&prefix), "{phase}: {line}");
        assert!(line.contains("outcomes.rhai:12:"), "{phase}: {line}");
    }
}

#[test]
fn outcomes_in_initialize_keep_their_status() {
    let (code, log, _f) = outcome("fail", "initialize");
    assert_eq!(code, 1);
    assert!(log.contains(&test_lines("FAIL", "it failed")), "{log}");
}

#[test]
fn abort_ends_the_job_with_abort_and_no_status_line() {
    let (code, log, _f) = outcome("abort", "run_once");
    assert_eq!(code, 3);
    assert_eq!(
        log,
        "START\t----\t----\ttimestamp=T\tlocaltime=L\t\n\
         \tSTART\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\t\n\
         \tEND ABORT\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\t\n\
         END ABORT\t----\t----\ttimestamp=T\tlocaltime=L\tstop the job\n"
    );
}

#[test]
fn multi_line_messages_continue_with_two_spaces() {
    let (_, log, _f) = outcome("multiline", "run_once");
    assert!(log.contains("\t\tFAIL\toutcomes\toutcomes\ttimestamp=T\tlocaltime=L\tfirst line\n  second line\tand tab\n"), "{log}");
}

#[test]
fn scripts_can_catch_outcomes_and_read_kind_and_message() {
    let (code, _, f) = outcome("caught", "run_once");
    assert_eq!(code, 0);
    assert!(f
        .read("outcomes/keyval")
        .contains("caught_kind=TestFail\ncaught_message=inner\n"));
}

#[test]
fn the_test_status_log_holds_only_its_own_lines() {
    let (_, _, f) = outcome("warn", "run_once");
    let log = normalize_status(&f.read("outcomes/status.log"));
    assert_eq!(log, test_lines("WARN", "something smells"));
}

#[test]
fn a_timeout_is_an_error_and_cleanup_still_runs() {
    let f = Fixture::inline(
        "slow.rhai",
        "fn run_once() { sleep(30); }\nfn cleanup() { fs::write(this.outputdir + \"/cleaned\", \"yes\"); }\n",
    );
    let started = std::time::Instant::now();
    let out = f.run(&["timeout=1"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "the timeout must stop the sleep"
    );
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(
        log.contains("\tSTART\tslow\tslow\ttimeout=1\ttimestamp=T\tlocaltime=L\t\n"),
        "{log}"
    );
    assert!(
        log.contains(
            "\t\tERROR\tslow\tslow\ttimestamp=T\tlocaltime=L\tTest timeout expired after 1 s\n"
        ),
        "{log}"
    );
    assert_eq!(f.read("slow/cleaned"), "yes");
}

#[test]
fn a_runaway_loop_is_stopped_by_the_timeout() {
    let f = Fixture::inline("spin.rhai", "fn run_once() { loop { } }\n");
    let out = f.run(&["--timeout", "1"]);
    assert_code(&out, 1);
    assert!(f
        .read("status.log")
        .contains("Test timeout expired after 1 s"));
}
