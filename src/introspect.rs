//! `autorun check`, `autorun list` and `autorun api`: describe scripts and the host API
//! without running any test. Scripts are compiled by the real host engine (so compile
//! errors are the ones `autorun run` would give) but their top level is only evaluated
//! in a sandbox that can compute and do nothing else (`engine::inspect`).

mod api;
mod check;
mod list;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::cli::{ApiArgs, CheckArgs, ListArgs};
use crate::engine::ctx::HostCtx;
use crate::engine::inspect::{self, Constants};
use crate::engine::script::LIFECYCLE;
use crate::engine::Host;
use crate::error::Error;

/// `autorun check SCRIPT... [KEY=VALUE]...`.
pub fn check(cmd: CheckArgs) -> Result<i32, Error> {
    check::run(&cmd.words)
}

/// `autorun list [DIR]...`.
pub fn list(cmd: ListArgs) -> Result<i32, Error> {
    list::run(&cmd)
}

/// `autorun api`.
pub fn api(cmd: ApiArgs) -> Result<i32, Error> {
    api::run(cmd.format)
}

/// A host that nothing will run on: its engine compiles scripts and describes the API.
/// No Ctrl-C handler, since no script runs.
fn idle_host() -> Host {
    Host::new(HostCtx::new(Arc::new(AtomicBool::new(false))))
}

/// A lifecycle function a script defines.
#[derive(Debug, Clone, serde::Serialize)]
struct Lifecycle {
    name: String,
    params: Vec<String>,
    doc: String,
}

impl Lifecycle {
    /// `run_once(seconds, mode)`.
    fn signature(&self) -> String {
        format!("{}({})", self.name, self.params.join(", "))
    }
}

/// What `check` and `list` know about a compiled script.
#[derive(Debug, Clone)]
struct Described {
    name: String,
    path: PathBuf,
    is_test: bool,
    description: String,
    /// Read in the sandbox; only for tests (a control file's top level is the job).
    constants: Constants,
    /// Lifecycle functions in the order the runner calls them.
    functions: Vec<Lifecycle>,
    /// Parameters the lifecycle functions declare, `args` excluded.
    params: BTreeSet<String>,
    /// Some function declares `args`, so any key is accepted.
    open: bool,
}

/// Reads, compiles and describes `path`. `Err` carries the message for stderr (the
/// caret rendering for a compile error).
fn describe(host: &Host, path: &Path) -> Result<Described, Error> {
    let mut script = crate::run::compile_script(host.engine(), path)?;
    let constants = if script.is_test() {
        inspect::read_constants(&mut script)
    } else {
        Constants::default()
    };
    let functions = LIFECYCLE
        .iter()
        .filter_map(|n| {
            script.functions().get(*n).map(|f| Lifecycle {
                name: n.to_string(),
                params: f.params.clone(),
                doc: f.doc.clone(),
            })
        })
        .collect();
    let (params, open) = script.accepted_params();
    Ok(Described {
        name: test_name(path),
        path: path.to_path_buf(),
        is_test: script.is_test(),
        description: script.description(),
        constants,
        functions,
        params,
        open,
    })
}

/// A test's name: its file name without `.rhai`, for `<name>.rhai` and `<name>/<name>.rhai` alike.
fn test_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Whether constant `name` could not be read.
fn is_unknown(d: &Described, name: &str) -> bool {
    d.constants.unknown.contains(&name)
}

/// The script's own parameters for people: `seconds, mode`, `none`, or the open form.
fn params_text(d: &Described, open_text: &str) -> String {
    let named: Vec<&str> = d.params.iter().map(String::as_str).collect();
    match (d.open, named.is_empty()) {
        (true, true) => open_text.to_string(),
        (true, false) => format!("{}; {open_text}", named.join(", ")),
        (false, true) => "none".into(),
        (false, false) => named.join(", "),
    }
}

/// Prints an error the way `autorun run` does.
fn report(e: &Error) {
    eprintln!("autorun: {e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(params: &[&str], open: bool) -> Described {
        Described {
            name: "t".into(),
            path: "t.rhai".into(),
            is_test: true,
            description: String::new(),
            constants: Constants::default(),
            functions: Vec::new(),
            params: params.iter().map(|p| p.to_string()).collect(),
            open,
        }
    }

    #[test]
    fn parameters_read_as_a_list_none_or_any_key() {
        assert_eq!(params_text(&described(&["b", "a"], false), "any"), "a, b");
        assert_eq!(params_text(&described(&[], false), "any"), "none");
        assert_eq!(params_text(&described(&[], true), "any"), "any");
        assert_eq!(params_text(&described(&["a"], true), "any"), "a; any");
    }

    #[test]
    fn a_test_is_named_after_its_file() {
        assert_eq!(test_name(Path::new("d/x/x.rhai")), "x");
        assert_eq!(test_name(Path::new("y.rhai")), "y");
        let f = Lifecycle {
            name: "run_once".into(),
            params: vec!["a".into(), "b".into()],
            doc: String::new(),
        };
        assert_eq!(f.signature(), "run_once(a, b)");
    }
}
