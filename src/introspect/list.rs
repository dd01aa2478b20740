//! `autorun list [DIR...] [--tag T] [--json]`: the tests found in directories, laid out
//! like the original's test directories (`<dir>/<name>.rhai` or `<dir>/<name>/<name>.rhai`),
//! described without running them. Control files (scripts that define neither `run_once`
//! nor `execute` and use `job`) follow in a section of their own; other scripts (helper
//! modules) are not listed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{describe, idle_host, is_unknown, params_text, report, Described, Lifecycle};
use crate::cli::ListArgs;
use crate::error::{Error, EXIT_OK, EXIT_USAGE};

/// Folders of a test directory that hold no tests: build trees, results, downloads.
const SKIP_DIRS: &[&str] = &["src", "results", "download"];

/// Runs `list` and returns the exit code.
pub(super) fn run(cmd: &ListArgs) -> Result<i32, Error> {
    let dirs = if cmd.dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        cmd.dirs.clone()
    };
    let host = idle_host();
    let mut ok = true;
    let mut tests = Vec::new();
    let mut controls = Vec::new();
    for dir in &dirs {
        let paths = match candidates(dir) {
            Ok(paths) => paths,
            Err(e) => {
                eprintln!(
                    "autorun: list: cannot read directory {}: {e}",
                    dir.display()
                );
                ok = false;
                continue;
            }
        };
        for path in paths {
            match describe(&host, &path) {
                Ok(d) if d.is_test => tests.push(d),
                Ok(d) if uses_job(&d.path) => controls.push(d),
                Ok(_) => {}
                Err(e) => {
                    report(&e);
                    ok = false;
                }
            }
        }
    }
    for d in &tests {
        if let Some(invalid) = &d.constants.invalid {
            eprintln!("autorun: {}: {invalid}", d.path.display());
            ok = false;
        } else if let Some(note) = &d.constants.note {
            eprintln!(
                "autorun: warning: {}: {} unknown: the top level does more than declare constants ({note})",
                d.path.display(),
                d.constants.unknown.join(", ")
            );
        }
    }
    if let Some(tag) = &cmd.tag {
        tests.retain(|d| !is_unknown(d, "TAGS") && d.constants.consts.tags.contains(tag));
    }
    if cmd.tag.is_some() {
        controls.clear();
    }
    tests.sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
    controls.sort_by(|a, b| a.path.cmp(&b.path));
    if cmd.json {
        let entries: Vec<Entry> = tests.iter().chain(&controls).map(Entry::from).collect();
        let text = serde_json::to_string_pretty(&entries)
            .map_err(|e| Error::Other(format!("list: cannot render JSON: {e}")))?;
        println!("{text}");
    } else if tests.is_empty() && controls.is_empty() {
        eprintln!("autorun: list: no tests found");
    } else {
        if !tests.is_empty() {
            print!("{}", table(&tests));
        }
        if !controls.is_empty() {
            print!("\nCONTROL FILES\n{}", control_table(&controls));
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_USAGE })
}

/// The `.rhai` files of `dir` and its `<name>/<name>.rhai` files, hidden entries and
/// `SKIP_DIRS` left out, in name order.
fn candidates(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = join(dir, &name);
        if path.is_file() && name.ends_with(".rhai") {
            out.push(path);
        } else if path.is_dir() && !SKIP_DIRS.contains(&name.as_str()) {
            let inner = path.join(format!("{name}.rhai"));
            if inner.is_file() {
                out.push(inner);
            }
        }
    }
    Ok(out)
}

/// `dir/name`, without a leading `./` when `dir` is the current directory.
fn join(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

/// Whether a script that is not a test drives a job (`job.run_test(...)`): that is what
/// tells a control file from a helper module.
fn uses_job(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.contains("job."))
}

/// The control files: path and the first line of the description.
fn control_table(controls: &[Described]) -> String {
    let width = controls
        .iter()
        .map(|d| d.path.display().to_string().chars().count())
        .max()
        .unwrap_or(0);
    controls
        .iter()
        .map(|d| {
            let description = d.description.lines().next().unwrap_or("-");
            let line = format!("{:<width$}  {description}", d.path.display().to_string());
            line.trim_end().to_string() + "\n"
        })
        .collect()
}

/// One test or control file in `--json` output.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    /// `test` or `control`.
    kind: &'static str,
    name: &'a str,
    path: String,
    description: &'a str,
    /// `null` when unknown (see `unknown`).
    tags: Option<&'a [String]>,
    version: Option<i64>,
    /// `null` when not declared or unknown.
    timeout: Option<u64>,
    preserve_srcdir: Option<bool>,
    /// The test's own parameters; the host parameters are accepted by every test.
    params: Vec<&'a str>,
    /// A lifecycle function declares `args`, so any key is accepted.
    accepts_any_key: bool,
    /// Lifecycle functions in call order, with parameters and doc comments.
    functions: &'a [Lifecycle],
    /// Constants that could not be read without running the test.
    unknown: &'a [&'static str],
}

impl<'a> From<&'a Described> for Entry<'a> {
    fn from(d: &'a Described) -> Self {
        let c = &d.constants.consts;
        let known = |name: &str| !is_unknown(d, name);
        Entry {
            kind: if d.is_test { "test" } else { "control" },
            name: &d.name,
            path: d.path.display().to_string(),
            description: &d.description,
            tags: known("TAGS").then_some(c.tags.as_slice()),
            version: known("VERSION").then_some(c.version),
            timeout: c.timeout.filter(|_| known("TIMEOUT")),
            preserve_srcdir: known("PRESERVE_SRCDIR").then_some(c.preserve_srcdir),
            params: d.params.iter().map(String::as_str).collect(),
            accepts_any_key: d.open,
            functions: &d.functions,
            unknown: &d.constants.unknown,
        }
    }
}

/// The aligned table: NAME, PATH, TAGS, PARAMS, DESCRIPTION (its first line).
fn table(tests: &[Described]) -> String {
    let mut rows = vec![["NAME", "PATH", "TAGS", "PARAMS", "DESCRIPTION"].map(String::from)];
    for d in tests {
        let tags = &d.constants.consts.tags;
        let tags = if is_unknown(d, "TAGS") {
            "?".to_string()
        } else if tags.is_empty() {
            "-".to_string()
        } else {
            tags.join(",")
        };
        let description = d.description.lines().next().unwrap_or("");
        rows.push([
            d.name.clone(),
            d.path.display().to_string(),
            tags,
            params_text(d, "any key").replace("none", "-"),
            if description.is_empty() {
                "-"
            } else {
                description
            }
            .to_string(),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::inspect::Constants;

    fn test(name: &str, tags: &[&str], params: &[&str]) -> Described {
        let mut constants = Constants::default();
        constants.consts.tags = tags.iter().map(|t| t.to_string()).collect();
        Described {
            name: name.into(),
            path: format!("d/{name}.rhai").into(),
            is_test: true,
            description: format!("About {name}.\nMore."),
            constants,
            functions: Vec::new(),
            params: params.iter().map(|p| p.to_string()).collect(),
            open: false,
        }
    }

    #[test]
    fn the_table_aligns_columns_and_shows_first_description_lines() {
        let text = table(&[
            test("a", &["quick", "x"], &["seconds"]),
            test("long_name", &[], &[]),
        ]);
        let expected = [
            "NAME       PATH              TAGS     PARAMS   DESCRIPTION",
            "a          d/a.rhai          quick,x  seconds  About a.",
            "long_name  d/long_name.rhai  -        -        About long_name.",
        ];
        assert_eq!(text, expected.join("\n") + "\n");
    }

    #[test]
    fn tests_are_found_as_files_and_in_their_own_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        for f in [
            "b.rhai",
            "notes.txt",
            ".hidden.rhai",
            "c/c.rhai",
            "c/other.rhai",
            "src/s/s.rhai",
            "src/src.rhai",
            "e/x.rhai",
        ] {
            let path = p.join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "").expect("write");
        }
        let found = candidates(p).expect("reads");
        assert_eq!(found, vec![p.join("b.rhai"), p.join("c/c.rhai")]);
        assert_eq!(join(Path::new("."), "x.rhai"), PathBuf::from("x.rhai"));
    }
}
