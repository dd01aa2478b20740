//! `autorun check`, `autorun list` and `autorun api`: scripts are described without running
//! them, nothing is written, and the host API is generated from the engine.

use std::path::{Path, PathBuf};

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files under `dir`, relative, sorted: what a command must not add to.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    out.sort();
    out
}

/// A table row with its alignment collapsed to single spaces.
fn collapsed(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn check_shows_functions_constants_and_accepted_keys() {
    let out = autorun(&root(), &["check", "scripts/sleeptest.rhai"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    for line in [
        "scripts/sleeptest.rhai\n",
        "  kind:        test\n",
        "  description: Sleeps `seconds` (default 1) in each iteration.\n",
        "  VERSION:     1\n",
        "  TAGS:        quick, example\n",
        "  TIMEOUT:     none\n",
        "  functions:   run_once(seconds)\n",
        "  parameters:  seconds\n",
        "  host params: constraints, iterations, postprocess_profiled_run, profile_only, run_cleanup, tag, test_attributes, test_length, timeout\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("arguments:"), "{text}");
}

#[test]
fn check_validates_arguments_like_run() {
    let out = autorun(
        &root(),
        &[
            "check",
            "scripts/sleeptest.rhai",
            "seconds=0",
            "iterations=2",
        ],
    );
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("  arguments:   ok\n"),
        "{}",
        stdout(&out)
    );

    let out = autorun(&root(), &["check", "scripts/sleeptest.rhai", "second=1"]);
    assert_code(&out, 2);
    let expected = "unknown parameter 'second'; did you mean 'seconds'?";
    assert!(
        stdout(&out).contains(&format!("  arguments:   {expected}\n")),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!(
            "scripts/sleeptest.rhai: {expected}\naccepted parameters: "
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_shows_compile_errors_with_a_caret() {
    let out = autorun(
        &root(),
        &[
            "check",
            "tests/scripts/syntax_error.rhai",
            "scripts/sleeptest.rhai",
        ],
    );
    assert_code(&out, 2);
    let caret = "error: Unexpected ';'\n --> tests/scripts/syntax_error.rhai:2:13\n  |\n2 |     let x = ;\n  |             ^";
    assert!(stderr(&out).contains(caret), "{}", stderr(&out));
    assert!(!stdout(&out).contains("syntax_error"), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("scripts/sleeptest.rhai\n"),
        "the other script is still checked"
    );
}

#[test]
fn check_refuses_words_that_are_neither_scripts_nor_arguments() {
    let out = autorun(&root(), &["check", "scripts/sleeptest.rhai", "seconds"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("'seconds' is neither a script"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_describes_a_control_file() {
    let f = Fixture::inline("suite.rhai", "//! Runs the suite.\nprint(1);\n");
    let out = autorun(f.dir.path(), &["check", "suite.rhai", "x=1"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("  kind:        control file"), "{text}");
    assert!(text.contains("  description: Runs the suite.\n"), "{text}");
}

#[test]
fn check_and_list_never_run_the_top_level_with_the_host() {
    let f = Fixture::new("inspect_side_effect.rhai");
    let before = files(f.dir.path());
    let out = autorun(
        f.dir.path(),
        &["check", "inspect_side_effect.rhai", "seconds=1"],
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("  TAGS:        inspect\n"), "{text}");
    assert!(text.contains("  TIMEOUT:     unknown\n"), "{text}");
    assert!(text.contains("  note:"), "{text}");
    assert!(text.contains("  arguments:   ok\n"), "{text}");

    let out = autorun(f.dir.path(), &["list"]);
    assert_code(&out, 0);
    let rows: Vec<String> = stdout(&out).lines().map(collapsed).collect();
    assert_eq!(
        rows,
        vec![
            "NAME PATH TAGS PARAMS DESCRIPTION",
            "inspect_side_effect inspect_side_effect.rhai inspect seconds Does nothing.",
        ]
    );
    assert!(
        stderr(&out).contains(
            "warning: inspect_side_effect.rhai: VERSION, PRESERVE_SRCDIR, TIMEOUT unknown"
        ),
        "{}",
        stderr(&out)
    );
    let out = autorun(f.dir.path(), &["list", "--json"]);
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json[0]["unknown"],
        serde_json::json!(["VERSION", "PRESERVE_SRCDIR", "TIMEOUT"])
    );
    assert_eq!(files(f.dir.path()), before, "check or list wrote something");
}

#[test]
fn list_shows_every_example_with_description_and_tags() {
    let out = autorun(&root(), &["list", "scripts"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines[0];
    assert!(header.starts_with("NAME "), "{text}");
    let sleeptest = lines
        .iter()
        .find(|l| l.starts_with("sleeptest "))
        .expect("sleeptest row");
    assert_eq!(
        collapsed(sleeptest),
        "sleeptest scripts/sleeptest.rhai quick,example seconds Sleeps `seconds` (default 1) in each iteration."
    );
    // Columns line up with the header.
    for (column, value) in [
        ("PATH", "scripts/"),
        ("TAGS", "quick,"),
        ("DESCRIPTION", "Sleeps"),
    ] {
        assert_eq!(
            header.find(column),
            sleeptest.find(value),
            "{column}:\n{text}"
        );
    }
    for entry in std::fs::read_dir(root().join("scripts")).expect("scripts/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rhai") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let is_test = source.contains("fn run_once(") || source.contains("fn execute(");
        let listed = lines.iter().any(|l| l.starts_with(&format!("{name} ")));
        assert_eq!(listed, is_test, "{name}:\n{text}");
        if !is_test {
            let control = format!(
                "{} ",
                path.strip_prefix(root()).expect("under root").display()
            );
            assert!(
                lines.iter().any(|l| l.starts_with(&control)),
                "control file {name}:\n{text}"
            );
        }
    }
    let (tests, controls) = text
        .split_once("\nCONTROL FILES\n")
        .expect("a control-file section");
    assert!(
        controls.starts_with("scripts/control.rhai  A small suite in one results directory"),
        "{controls}"
    );
    let names: Vec<&str> = tests
        .lines()
        .skip(1)
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}

#[test]
fn list_filters_by_tag() {
    let out = autorun(&root(), &["list", "scripts", "--tag", "perf"]);
    assert_code(&out, 0);
    let names: Vec<String> = stdout(&out).lines().skip(1).map(collapsed).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("hashbench scripts/hashbench.rhai perf,example size_mb "),
        "{names:?}"
    );
}

#[test]
fn list_json_has_the_documented_fields() {
    let out = autorun(&root(), &["list", "scripts", "--json"]);
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let tests = json.as_array().expect("an array");
    assert!(tests.len() >= 4);
    for t in tests {
        for field in [
            "name",
            "path",
            "description",
            "tags",
            "version",
            "timeout",
            "params",
            "functions",
        ] {
            assert!(t.get(field).is_some(), "{field} missing in {t}");
        }
    }
    let sleeptest = tests
        .iter()
        .find(|t| t["name"] == "sleeptest")
        .expect("sleeptest");
    assert_eq!(sleeptest["path"], "scripts/sleeptest.rhai");
    assert_eq!(
        sleeptest["description"],
        "Sleeps `seconds` (default 1) in each iteration."
    );
    assert_eq!(sleeptest["tags"], serde_json::json!(["quick", "example"]));
    assert_eq!(sleeptest["version"], 1);
    assert_eq!(sleeptest["timeout"], serde_json::Value::Null);
    assert_eq!(sleeptest["params"], serde_json::json!(["seconds"]));
    assert_eq!(sleeptest["functions"][0]["name"], "run_once");
    assert_eq!(
        sleeptest["functions"][0]["params"],
        serde_json::json!(["seconds"])
    );
}

#[test]
fn list_finds_tests_in_their_own_folders_and_skips_build_trees() {
    let f = Fixture::inline("single.rhai", "/// One file.\nfn run_once() {}\n");
    let dir = f.dir.path();
    for (rel, source) in [
        (
            "folder/folder.rhai",
            "//! In a folder.\nconst TAGS = [\"x\"];\nfn execute(args) {}\n",
        ),
        ("folder/helper.rhai", "fn run_once() {}\n"),
        ("src/built/built.rhai", "fn run_once() {}\n"),
        ("results/old/old.rhai", "fn run_once() {}\n"),
        ("helpers.rhai", "fn helper() {}\n"),
    ] {
        std::fs::create_dir_all(dir.join(rel).parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(rel), source).expect("write");
    }
    let out = autorun(dir, &["list"]);
    assert_code(&out, 0);
    let rows: Vec<String> = stdout(&out).lines().skip(1).map(collapsed).collect();
    assert_eq!(
        rows,
        vec![
            "folder folder/folder.rhai x any key In a folder.",
            "single single.rhai - - One file.",
        ]
    );
}

#[test]
fn list_reports_scripts_that_do_not_compile_and_lists_the_rest() {
    let f = Fixture::new("syntax_error.rhai");
    std::fs::write(f.dir.path().join("good.rhai"), "fn run_once() {}\n").expect("write");
    let out = autorun(f.dir.path(), &["list", "."]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(" --> syntax_error.rhai:2:13"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("\ngood "), "{}", stdout(&out));
}

#[test]
fn api_markdown_documents_host_functions_from_the_engine() {
    let out = autorun(&root(), &["api"]);
    assert_code(&out, 0);
    let md = stdout(&out);
    for text in [
        "https://rhai.rs/book/",
        "## Global functions",
        "fail(message)\n",
        "Ends the test FAIL",
        "## Type `Test`",
        "this.write_perf_keyval(map: map)\n",
        "## `utils::`",
        "utils::run(cmd: string, opts: map) -> map\n",
        "Runs `cmd` with /bin/sh in its own process group",
        "## `assert::`",
        "stats::mean(xs) -> ?\n",
    ] {
        assert!(md.contains(text), "missing {text:?}");
    }
    // Rhai's own standard library is referenced, not listed.
    assert!(
        !md.contains("### `len`") && !md.contains("sin("),
        "standard library listed"
    );
}

#[test]
fn api_json_and_definitions_are_machine_readable() {
    let out = autorun(&root(), &["api", "--format", "json"]);
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let utils = json["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .find(|m| m["name"] == "utils")
        .expect("utils");
    assert!(utils["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .any(|f| f["name"] == "system_output"));

    let out = autorun(&root(), &["api", "--format", "rhai-defs"]);
    assert_code(&out, 0);
    let defs = stdout(&out);
    assert!(defs.starts_with("module static;\n"), "{defs}");
    for text in [
        "fn fail(message: ?);",
        "fn get testname(test: Test) -> ?;",
        "module utils {",
        "    fn run(cmd: String, opts: Map) -> Map;",
    ] {
        assert!(defs.contains(text), "missing {text:?}");
    }
}
