//! The results directory: its layout and every file's exact format.

use crate::support::*;

#[test]
fn sleeptest_leaves_the_original_layout_and_formats() {
    let f = Fixture::from_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sleeptest.rhai"),
    );
    let out = f.run(&["seconds=0"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).starts_with("GOOD    sleeptest  0.0"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        normalize_status(&f.read("status.log")),
        "START\t----\t----\ttimestamp=T\tlocaltime=L\t\n\
         \tSTART\tsleeptest\tsleeptest\ttimestamp=T\tlocaltime=L\t\n\
         \t\tGOOD\tsleeptest\tsleeptest\ttimestamp=T\tlocaltime=L\tcompleted successfully\n\
         \tEND GOOD\tsleeptest\tsleeptest\ttimestamp=T\tlocaltime=L\t\n\
         END GOOD\t----\t----\ttimestamp=T\tlocaltime=L\t\n"
    );
    assert_eq!(f.read("sleeptest/keyval"), "param-seconds=0\nversion=1\n");
    let keys: Vec<String> = f
        .read("keyval")
        .lines()
        .map(|l| l.split('=').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "autorun_version",
            "cmdline",
            "hostname",
            "job_started",
            "label",
            "status_version",
            "user",
            "job_finished"
        ]
    );
    assert!(f.read("keyval").contains("status_version=1\n"));
    for level in ["DEBUG", "INFO", "WARNING", "ERROR"] {
        assert!(
            f.results()
                .join(format!("sleeptest/debug/sleeptest.{level}"))
                .is_file(),
            "{level}"
        );
    }
    assert!(f.results().join("sleeptest/results").is_dir());
    assert!(f.results().join("sleeptest/profiling").is_dir());
    assert!(
        !f.results().join("sleeptest/results/keyval").exists(),
        "no iteration keyvals were written"
    );
}

#[test]
fn iteration_keyvals_are_suffixed_sorted_and_end_with_a_blank_line_per_write() {
    let f = Fixture::new("perf_constraints.rhai");
    assert_code(&f.run(&["iterations=2"]), 0);
    let block = |n: i32| {
        format!("count{{perf}}={n}\nthroughput{{perf}}=1.5\n\nmode{{attr}}=perf\n\nthroughput{{perf}}=1.5\n\n")
    };
    assert_eq!(
        f.read("perf_constraints/results/keyval"),
        format!("{}{}", block(1), block(2))
    );
}

#[test]
fn perf_values_are_one_sorted_json_object_per_call() {
    let f = Fixture::new("perf_values.rhai");
    assert_code(&f.run(&[]), 0);
    assert_eq!(
        f.read("perf_values/results/perf_measurements"),
        "{\"description\": \"page_load_time\", \"graph\": \"g1\", \"higher_is_better\": false, \"units\": \"ms_s\", \"value\": [1, 2, 3]}\n\
         {\"description\": \"single\", \"graph\": null, \"higher_is_better\": null, \"units\": null, \"value\": 7.25}\n\
         {\"description\": \"with_units\", \"graph\": null, \"higher_is_better\": null, \"units\": \"ops\", \"value\": 3}\n"
    );
}

#[test]
fn bad_perf_values_and_keys_fail_with_the_original_messages() {
    let f = Fixture::new("perf_values.rhai");
    assert_code(&f.run(&["bad=description"]), 1);
    assert!(
        f.read("status.log").contains(
            "\tUnhandled ValueError: The description must be at most 256 characters. at "
        ),
        "{}",
        f.read("status.log")
    );
    let f = Fixture::new("perf_values.rhai");
    assert_code(&f.run(&["bad=key"]), 1);
    assert!(
        f.read("status.log")
            .contains("\tUnhandled ValueError: Invalid key: b c at "),
        "{}",
        f.read("status.log")
    );
}

#[test]
fn print_and_log_go_to_the_test_debug_logs_by_level() {
    let f = Fixture::inline(
        "logs.rhai",
        "fn run_once() { print(\"hello\"); log::warning(\"careful\"); debug(\"details\"); }\n",
    );
    assert_code(&f.run(&[]), 0);
    let info = f.read("logs/debug/logs.INFO");
    assert!(
        info.contains("| hello\n") && info.contains("| careful\n") && !info.contains("details"),
        "{info}"
    );
    let warning = f.read("logs/debug/logs.WARNING");
    assert!(
        warning.contains("careful") && !warning.contains("hello"),
        "{warning}"
    );
    assert!(f.read("logs/debug/logs.DEBUG").contains("details"));
}

#[test]
fn the_test_tmpdir_is_private_and_removed_afterwards() {
    let f = Fixture::inline("tmp.rhai", "fn run_once() { fs::write(this.tmpdir + \"/x\", \"1\"); this.write_test_keyval(#{ tmp: this.tmpdir }); }\n");
    assert_code(&f.run(&[]), 0);
    let keyval = f.read("tmp/keyval");
    let tmp = keyval
        .lines()
        .find_map(|l| l.strip_prefix("tmp="))
        .expect("tmp keyval");
    assert!(tmp.ends_with("_tmp"), "{tmp}");
    assert!(!std::path::Path::new(tmp).exists(), "{tmp} must be removed");
    let job_tmp = std::path::Path::new(tmp)
        .parent()
        .expect("the job's tmpdir");
    assert!(!job_tmp.exists(), "{} must be removed", job_tmp.display());
}

#[test]
fn the_default_results_directory_is_labelled_and_latest_points_at_it() {
    let f = Fixture::new("strict_args.rhai");
    let out = autorun(f.dir.path(), &[f.script.to_str().expect("utf-8")]);
    assert_code(&out, 0);
    let latest = std::fs::read_link(f.dir.path().join("results/latest")).expect("latest link");
    let name = latest.to_string_lossy().to_string();
    assert!(
        name.starts_with("strict_args-") && name.len() == "strict_args-YYYYmmdd-HHMMSS".len(),
        "{name}"
    );
    assert!(f.dir.path().join("results/latest/status.log").is_file());
    assert!(
        stdout(&out).contains(&format!("results: results/{name}")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_existing_results_directory_is_never_overwritten() {
    let f = Fixture::new("strict_args.rhai");
    std::fs::create_dir_all(f.results()).expect("mkdir");
    std::fs::write(f.results().join("precious"), "keep").expect("write");
    let out = f.run(&[]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--reuse-results"), "{}", stderr(&out));
    assert_eq!(f.read("precious"), "keep");
    assert_code(&f.run(&["--reuse-results", "tag=again"]), 0);
    assert_eq!(f.read("precious"), "keep");
    assert!(f.results().join("strict_args.again/keyval").is_file());
}

#[test]
fn two_runs_cannot_share_a_results_directory() {
    use fs2::FileExt;
    let f = Fixture::new("strict_args.rhai");
    std::fs::create_dir_all(f.results()).expect("mkdir");
    let lock = std::fs::File::create(f.results().join(".autorun.lock")).expect("lock file");
    lock.lock_exclusive().expect("lock");
    let out = f.run(&["--reuse-results"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("in use by another autorun run"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn relative_results_directories_work_although_tests_run_in_their_own() {
    let f = Fixture::new("perf_constraints.rhai");
    let out = autorun(
        f.dir.path(),
        &[f.script.to_str().expect("utf-8"), "--results", "rel"],
    );
    assert_code(&out, 0);
    assert!(stdout(&out).ends_with("results: rel\n"), "{}", stdout(&out));
    let keyval = std::fs::read_to_string(f.dir.path().join("rel/perf_constraints/results/keyval"))
        .expect("keyval");
    assert!(keyval.starts_with("count{perf}=1\n"), "{keyval}");
    let out = autorun(f.dir.path(), &[f.script.to_str().expect("utf-8")]);
    assert_code(&out, 0);
    assert!(f
        .dir
        .path()
        .join("results/latest/perf_constraints/results/keyval")
        .is_file());
}
