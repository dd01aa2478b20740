//! Control files: many tests in one results directory, subtests, lookup, tags, timeouts,
//! abort, settings, packages.

use crate::support::*;

#[test]
fn a_control_file_nests_every_test_and_subtest_in_one_status_log() {
    let f = Fixture::job(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/scripts/jobs/control.rhai"),
        )
        .expect("control"),
    );
    let out = f.run(&[]);
    assert_code(&out, 1);
    let l = "timestamp=T\tlocaltime=L";
    assert_eq!(
        normalize_status(&f.read("status.log")),
        format!(
            "START\t----\t----\t{l}\t\n\
             \tSTART\tpasser.one\tpasser.one\t{l}\t\n\
             \t\tGOOD\tpasser.one\tpasser.one\t{l}\tcompleted successfully\n\
             \tEND GOOD\tpasser.one\tpasser.one\t{l}\t\n\
             \tSTART\tparent\tparent\t{l}\t\n\
             \t\tSTART\tparent/passer.child\tpasser.child\t{l}\t\n\
             \t\t\tGOOD\tparent/passer.child\tpasser.child\t{l}\tcompleted successfully\n\
             \t\tEND GOOD\tparent/passer.child\tpasser.child\t{l}\t\n\
             \t\tGOOD\tparent\tparent\t{l}\tcompleted successfully\n\
             \tEND GOOD\tparent\tparent\t{l}\t\n\
             \tSTART\tfailer\tfailer\t{l}\t\n\
             \t\tFAIL\tfailer\tfailer\t{l}\tbroken\n\
             \tEND FAIL\tfailer\tfailer\t{l}\t\n\
             END GOOD\t----\t----\t{l}\t\n"
        )
    );
    let parent = normalize_status(&f.read("parent/status.log"));
    assert!(
        !parent.contains("passer.child"),
        "the parent's own log holds only its lines: {parent}"
    );
    assert!(normalize_status(&f.read("parent/passer.child/status.log"))
        .contains("\t\t\tGOOD\tparent/passer.child"));
    assert!(f.read("parent/keyval").contains("child_ok=true\n"));
    assert!(f
        .read("parent/passer.child/keyval")
        .contains("param-profile_only=false\n"));
    let stdout = stdout(&out);
    assert!(
        stdout.contains("\ntest                 status    duration  reason\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nfailer               FAIL  "), "{stdout}");
}

#[test]
fn later_test_directories_override_earlier_ones() {
    let f = Fixture::job("job.run_test(\"overridden\");");
    assert_code(&f.run(&[]), 0);
    assert!(f.read("overridden/keyval").contains("from=site_tests\n"));
    let g = Fixture::job("job.run_test(\"overridden\");");
    let tests = g.dir.path().join("tests");
    assert_code(
        &g.run(&[
            "--testdir",
            g.dir.path().join("site_tests").to_str().expect("utf-8"),
            "--testdir",
            tests.to_str().expect("utf-8"),
        ]),
        0,
    );
    assert!(g.read("overridden/keyval").contains("from=tests\n"));
}

#[test]
fn a_missing_test_is_an_error_and_the_job_goes_on() {
    let f = Fixture::job("let ok = job.run_test(\"nosuch\");\njob.record(\"INFO\", (), (), `ok=${ok}`);\njob.run_test(\"tests/passer.rhai\");");
    assert_code(&f.run(&[]), 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(
        log.contains(
            "\t\tERROR\tnosuch\tnosuch\ttimestamp=T\tlocaltime=L\tnosuch: test does not exist\n"
        ),
        "{log}"
    );
    assert!(
        log.contains("\tINFO\t----\t----\ttimestamp=T\tlocaltime=L\tok=false\n"),
        "{log}"
    );
    assert!(log.contains("\t\tGOOD\tpasser\tpasser"), "{log}");
}

#[test]
fn a_duplicate_subdirectory_aborts_the_job_before_start() {
    let f = Fixture::job(
        "job.run_test(\"passer\");\njob.run_test(\"passer\");\njob.run_test(\"failer\");",
    );
    assert_code(&f.run(&[]), 3);
    let log = normalize_status(&f.read("status.log"));
    assert_eq!(log.matches("\tSTART\tpasser").count(), 1, "{log}");
    assert!(!log.contains("failer"), "{log}");
    assert!(log.ends_with("END ABORT\t----\t----\ttimestamp=T\tlocaltime=L\tUnhandled TestError: passer already exists; multiple tests cannot run with the same subdirectory\n"), "{log}");
}

#[test]
fn a_caught_duplicate_lets_the_job_continue() {
    let f = Fixture::job("job.run_test(\"passer\");\ntry { job.run_test(\"passer\"); } catch (e) { job.record(\"INFO\", (), (), e.message); }\njob.run_test(\"passer\", #{ tag: \"again\" });");
    assert_code(&f.run(&[]), 0);
    let log = normalize_status(&f.read("status.log"));
    assert!(
        log.contains("INFO\t----\t----\ttimestamp=T\tlocaltime=L\tpasser already exists"),
        "{log}"
    );
    assert!(log.contains("GOOD\tpasser.again"), "{log}");
}

#[test]
fn a_timeout_errors_the_test_kills_its_processes_and_the_job_continues() {
    let f = Fixture::job("job.run_test(\"sleeper\", #{ timeout: 1 });\njob.run_test(\"passer\");");
    let start = std::time::Instant::now();
    let out = f.run(&[]);
    assert!(start.elapsed().as_secs() < 20);
    assert_code(&out, 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(
        log.contains("\tSTART\tsleeper\tsleeper\ttimeout=1\ttimestamp=T\tlocaltime=L\t\n"),
        "{log}"
    );
    assert!(log.contains("\t\tERROR\tsleeper\tsleeper\ttimestamp=T\tlocaltime=L\tTest timeout expired after 1 s\n"), "{log}");
    assert!(log.contains("\t\tGOOD\tpasser\tpasser"), "{log}");
    assert_eq!(f.read("sleeper/cleaned"), "yes");
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 60$"])
        .output()
        .expect("pgrep");
    assert!(
        ps.stdout.is_empty(),
        "the test's background sleep must be killed"
    );
}

#[test]
fn abort_skips_the_rest_of_the_control_file() {
    let f = Fixture::job("job.run_test(\"aborter\");\njob.run_test(\"passer\");");
    assert_code(&f.run(&[]), 3);
    assert_eq!(
        normalize_status(&f.read("status.log")),
        "START\t----\t----\ttimestamp=T\tlocaltime=L\t\n\
         \tSTART\taborter\taborter\ttimestamp=T\tlocaltime=L\t\n\
         \tEND ABORT\taborter\taborter\ttimestamp=T\tlocaltime=L\t\n\
         END ABORT\t----\t----\ttimestamp=T\tlocaltime=L\tstop everything\n"
    );
}

#[test]
fn control_files_get_their_arguments_and_can_change_job_settings() {
    let f = Fixture::job("job.test_retry = args.retries;\nif !job.run_test(\"flaky\") { fail(\"flaky failed\") }\njob.record(\"INFO\", (), (), `retry=${job.test_retry} results=${job.resultdir != ()}`);");
    assert_code(&f.run(&["retries=1"]), 0);
    let log = normalize_status(&f.read("status.log"));
    assert!(log.contains("Run 0 failed with first run"), "{log}");
    assert!(
        log.contains("\tINFO\t----\t----\ttimestamp=T\tlocaltime=L\tretry=1 results=true\n"),
        "{log}"
    );
    assert!(f
        .read("flaky/keyval")
        .contains("test_retries_before_success=1\n"));
}

#[test]
fn skip_in_a_control_file_is_test_na_at_job_level() {
    let f = Fixture::job("skip(\"no device here\");");
    assert_code(&f.run(&[]), 0);
    let log = normalize_status(&f.read("status.log"));
    let ctl = f.script.display().to_string();
    assert!(
        log.contains(&format!(
            "\tTEST_NA\t----\t{ctl}\ttimestamp=T\tlocaltime=L\tno device here\n"
        )),
        "{log}"
    );
    assert!(
        log.ends_with("END GOOD\t----\t----\ttimestamp=T\tlocaltime=L\t\n"),
        "{log}"
    );
}

#[test]
fn an_unknown_profiler_aborts_the_job() {
    let f = Fixture::job("job.profilers.add(\"vmstat\");\njob.run_test(\"passer\");");
    assert_code(&f.run(&[]), 3);
    assert!(f.read("status.log").contains("END ABORT\t----\t----\t"));
    assert!(f.read("status.log").contains("vmstat not present"));
}

#[test]
fn two_processes_set_up_a_test_exactly_once() {
    let f = Fixture::job("job.run_test(\"slow_setup\");");
    let spawn = |dir: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_autorun"))
            .args([
                f.script.to_str().expect("utf-8"),
                "--results",
                f.dir.path().join(dir).to_str().expect("utf-8"),
                "-q",
            ])
            .current_dir(f.dir.path())
            .spawn()
            .expect("spawn")
    };
    let (mut a, mut b) = (spawn("r1"), spawn("r2"));
    assert!(a.wait().expect("wait").success());
    assert!(b.wait().expect("wait").success());
    let log = std::fs::read_to_string(f.dir.path().join("tests/setup.log")).expect("setup log");
    assert_eq!(log, "setup\n");
}

/// Writes `<dir>/<name>.tar.gz` holding `<name>.rhai` with `source`.
fn make_package(dir: &std::path::Path, name: &str, source: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.tar.gz"));
    let file = std::fs::File::create(&path).expect("create archive");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(source.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, format!("{name}.rhai"), source.as_bytes())
        .expect("append");
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip");
    path
}

#[test]
fn a_test_package_is_installed_once_and_run() {
    let f = Fixture::job("job.run_test(\"pkgs/packed.tar.gz\");\njob.run_test(\"pkgs/packed.tar.gz\", #{ tag: \"again\" });");
    std::fs::create_dir_all(f.dir.path().join("pkgs")).expect("mkdir");
    make_package(
        &f.dir.path().join("pkgs"),
        "packed",
        "fn run_once() { this.write_test_keyval(#{ packaged: true }); }\n",
    );
    assert_code(&f.run(&[]), 0);
    assert!(f.read("packed/keyval").contains("packaged=true\n"));
    assert!(f.read("packed.again/keyval").contains("packaged=true\n"));
    let installed = f.dir.path().join("tests/download/pkgs/packed/packed.rhai");
    assert!(
        installed.is_file(),
        "installed into the first test directory"
    );
}

#[test]
fn a_corrupt_package_is_a_clear_error_and_leaves_no_install() {
    let f = Fixture::job("job.run_test(\"pkgs/broken.tar.gz\");\njob.run_test(\"passer\");");
    std::fs::create_dir_all(f.dir.path().join("pkgs")).expect("mkdir");
    let good = make_package(&f.dir.path().join("pkgs"), "broken", "fn run_once() {}\n");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&good, &bytes[..bytes.len() / 2]).expect("truncate");
    assert_code(&f.run(&[]), 1);
    let log = normalize_status(&f.read("status.log"));
    assert!(log.contains("\t\tERROR\tbroken\tbroken\ttimestamp=T\tlocaltime=L\tcannot install test package pkgs/broken.tar.gz: "), "{log}");
    assert!(
        log.contains("\t\tGOOD\tpasser\tpasser"),
        "the job goes on: {log}"
    );
    assert!(
        !f.dir.path().join("tests/download/pkgs/broken").exists(),
        "no partial install"
    );
}

#[test]
fn a_closed_stdout_does_not_cut_a_job_short() {
    let f = Fixture::job("job.run_test(\"passer\");\njob.run_test(\"passer\", #{ tag: \"two\" });");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_autorun"))
        .args([
            f.script.to_str().expect("utf-8"),
            "--results",
            f.results().to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    assert!(normalize_status(&f.read("status.log"))
        .ends_with("END GOOD\t----\t----\ttimestamp=T\tlocaltime=L\t\n"));
}

#[test]
fn a_control_files_own_output_goes_to_the_job_log() {
    let f = Fixture::job(
        "print(\"suite starting\");\njob.run_test(\"passer\");\nlog::warning(\"suite done\");",
    );
    let out = f.run(&["-v"]);
    assert_code(&out, 0);
    let info = f.read("debug/autorun.INFO");
    assert!(
        info.contains("| suite starting\n") && info.contains("| suite done\n"),
        "{info}"
    );
    assert!(f.read("debug/autorun.WARNING").contains("| suite done\n"));
    assert!(
        !f.read("passer/debug/passer.INFO").contains("suite"),
        "the test's log holds only its own lines"
    );
    assert!(
        stderr(&out).contains("INFO   | suite starting\n"),
        "{}",
        stderr(&out)
    );
}
