//! Every script in `scripts/` runs in the suite, with arguments that keep it quick.

use std::path::Path;

use crate::support::*;

/// Each example, the arguments it runs with here, and a file it must leave behind.
const EXAMPLES: &[(&str, &[&str], &str)] = &[
    ("sleeptest.rhai", &["seconds=0"], "sleeptest/keyval"),
    (
        "hashbench.rhai",
        &[
            "iterations=2",
            "size_mb=1",
            r#"constraints=["mb_per_s > 0"]"#,
        ],
        "hashbench/results/perf_measurements",
    ),
    ("toolbuild.rhai", &["lines=50"], "toolbuild/results/keyval"),
    ("flaky.rhai", &["--retry", "2"], "flaky/results/keyval"),
    ("nested.rhai", &[], "nested/sleeptest.sub/keyval"),
    ("control.rhai", &[], "nested/sleeptest.sub/keyval"),
];

#[test]
fn every_example_script_is_listed_here() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    for entry in std::fs::read_dir(&dir).expect("scripts/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".rhai") {
            assert!(
                EXAMPLES.iter().any(|(n, _, _)| *n == name),
                "scripts/{name} is not run by the suite"
            );
        }
    }
}

#[test]
fn every_example_passes() {
    for (name, args, file) in EXAMPLES {
        let f = examples(name);
        let out = f.run(args);
        assert_code(&out, 0);
        assert!(f.results().join(file).is_file(), "{name} must leave {file}");
    }
}

/// A copy of `scripts/` (examples may run each other) with `name` as the script.
fn examples(name: &str) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts"),
        dir.path(),
    );
    let _ = std::fs::remove_dir_all(dir.path().join("src"));
    let script = dir.path().join(name);
    Fixture { dir, script }
}

#[test]
fn the_control_example_runs_a_nested_suite() {
    let f = examples("control.rhai");
    let out = f.run(&[]);
    assert_code(&out, 0);
    let log = normalize_status(&f.read("status.log"));
    for line in [
        "		GOOD	sleeptest.quick	sleeptest.quick	",
        "		GOOD	sleeptest.twice	sleeptest.twice	",
        "		GOOD	hashbench	hashbench	",
        "		INFO	----	----	timestamp=T	localtime=L	Run 1 failed with transient failure on run 2
",
        "		GOOD	flaky	flaky	",
        "		START	nested/sleeptest.sub	sleeptest.sub	",
        "			GOOD	nested/sleeptest.sub	sleeptest.sub	",
        "		GOOD	nested	nested	",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    assert!(
        stdout(&out).contains("nested/sleeptest.sub"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn toolbuild_sets_up_once_per_version() {
    let f =
        Fixture::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/toolbuild.rhai"));
    assert_code(&f.run(&[]), 0);
    assert_eq!(
        std::fs::read_to_string(f.dir.path().join("src/toolbuild/.version")).expect("stamp"),
        "2\n"
    );
    assert!(f.read("toolbuild/debug/toolbuild.INFO").contains("built "));
    let again = f.dir.path().join("again");
    assert_code(
        &autorun(
            f.dir.path(),
            &[
                f.script.to_str().expect("utf-8"),
                "--results",
                again.to_str().expect("utf-8"),
            ],
        ),
        0,
    );
    let info = std::fs::read_to_string(again.join("toolbuild/debug/toolbuild.INFO")).expect("log");
    assert!(!info.contains("built "), "setup must not run again: {info}");
}

#[test]
fn flaky_needs_its_retries() {
    let f = Fixture::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/flaky.rhai"));
    assert_code(&f.run(&["--retry", "2"]), 0);
    assert!(f
        .read("flaky/keyval")
        .ends_with("test_retries_before_success=2\n"));
    let g = Fixture::from_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/flaky.rhai"));
    assert_code(&g.run(&["--retry", "1"]), 1);
}
