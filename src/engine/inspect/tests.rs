//! Unit tests of the sandbox and of the API description, on the real host engine.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::engine::ctx::HostCtx;
use crate::engine::Host;

fn host() -> Host {
    Host::new(HostCtx::new(Arc::new(AtomicBool::new(false))))
}

fn constants(source: &str) -> Constants {
    let host = host();
    let mut script =
        TestScript::compile(host.engine(), Path::new("t.rhai"), source).expect("compiles");
    read_constants(&mut script)
}

#[test]
fn a_pure_top_level_gives_every_constant() {
    let c = constants(
        "const VERSION = 1 + 2;\nconst TAGS = [\"a\", \"b\"];\nconst TIMEOUT = 60;\nconst PRESERVE_SRCDIR = true;\nfn run_once() {}",
    );
    assert_eq!(c.consts.version, 3);
    assert_eq!(c.consts.tags, vec!["a", "b"]);
    assert_eq!(c.consts.timeout, Some(60));
    assert!(c.consts.preserve_srcdir);
    assert!(c.unknown.is_empty() && c.note.is_none() && c.invalid.is_none());
    let c = constants("fn run_once() {}");
    assert_eq!(c.consts.version, 1);
    assert!(c.unknown.is_empty() && c.note.is_none());
}

#[test]
fn host_calls_stop_the_top_level_and_later_constants_are_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("marker");
    let c = constants(&format!(
        "const TAGS = [\"x\"];\nfs::write({:?}, \"oops\");\nconst VERSION = 2;\nfn run_once() {{}}",
        marker.display().to_string()
    ));
    assert!(!marker.exists(), "the sandbox wrote a file");
    assert_eq!(c.consts.tags, vec!["x"]);
    assert_eq!(c.unknown, vec!["VERSION", "PRESERVE_SRCDIR", "TIMEOUT"]);
    assert!(
        c.note.as_deref().unwrap_or("").contains("not found: fs"),
        "{c:?}"
    );
    assert!(c.invalid.is_none());
}

#[test]
fn the_sandbox_cannot_sleep_loop_forever_or_import() {
    let start = Instant::now();
    for source in [
        "sleep(30); fn run_once() {}",
        "loop {} fn run_once() {}",
        "import \"x\" as x; fn run_once() {}",
        "utils::system(\"touch nope\"); fn run_once() {}",
    ] {
        assert!(constants(source).note.is_some(), "{source}");
    }
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_constant_of_the_wrong_type_is_invalid() {
    let c = constants("const VERSION = \"x\"; fn run_once() {}");
    assert_eq!(
        c.invalid.as_deref(),
        Some("VERSION must be an integer, not string")
    );
    let c = constants("const TIMEOUT = \"x\"; fs::x(); fn run_once() {}");
    assert!(c.invalid.is_some(), "{c:?}");
}

#[test]
fn types_read_as_scripts_know_them() {
    let custom = vec![("a::b::TestObj".to_string(), "Test".to_string())];
    let result = "core::result::Result<rhai::types::dynamic::Dynamic,alloc::boxed::Box<rhai::types::error::EvalAltResult>>";
    assert_eq!(clean_type(result, &custom), "?");
    assert_eq!(
        clean_type("core::result::Result<(),alloc::boxed::Box<E>>", &custom),
        ""
    );
    assert_eq!(clean_type("Result<i64, Box<E>>", &custom), "int");
    assert_eq!(clean_type("&mut Test", &custom), "Test");
    assert_eq!(clean_type("a::b::TestObj", &custom), "Test");
    assert_eq!(clean_type("f64", &custom), "float");
    assert_eq!(clean_type("&str", &custom), "string");
    assert_eq!(clean_type("types::dynamic::Dynamic", &custom), "?");
    assert_eq!(clean_type("map", &custom), "map");
}

#[test]
fn doc_comments_become_plain_text() {
    assert_eq!(strip_doc("/// One.\n/// Two."), "One.\nTwo.");
    assert_eq!(strip_doc("//! Module.\n//!\n//! More."), "Module.\n\nMore.");
    assert_eq!(strip_doc("/** Block. */"), "Block.");
}

fn find<'a>(fns: &'a [ApiFn], name: &str, arity: usize) -> &'a ApiFn {
    fns.iter()
        .find(|f| f.name == name && f.params.len() == arity)
        .unwrap_or_else(|| panic!("{name}/{arity} missing"))
}

#[test]
fn the_api_comes_from_the_engine_with_docs_everywhere() {
    let api = api(&host()).expect("api");
    let utils = api
        .modules
        .iter()
        .find(|m| m.name == "utils")
        .expect("utils");
    let run = find(&utils.functions, "run", 2);
    assert_eq!(
        run.params[1],
        Param {
            name: "opts".into(),
            ty: "map".into()
        }
    );
    assert_eq!(run.returns.as_deref(), Some("map"));
    assert!(run.doc.starts_with("Runs `cmd`"), "{}", run.doc);
    let fail = find(&api.functions, "fail", 1);
    assert_eq!(fail.params[0].name, "message");
    assert!(fail.returns.is_none() && fail.doc.contains("FAIL"));
    let test = api.types.first().expect("types");
    assert_eq!(test.name, "Test");
    let perf = find(&test.members, "write_perf_keyval", 1);
    assert_eq!(perf.kind, FnKind::Method);
    assert!(test.members.iter().all(|m| m.name != "to_string"));
    let stats = api
        .modules
        .iter()
        .find(|m| m.name == "stats")
        .expect("stats");
    assert_eq!(stats.source, "stdlib/stats.rhai");
    assert!(stats.functions.iter().all(|f| !f.name.starts_with("anon$")));
    let names: Vec<&str> = api.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        &names[..6],
        ["utils", "fs", "json", "log", "assert", "stats"]
    );
    let undocumented: Vec<String> = api
        .functions
        .iter()
        .chain(api.types.iter().flat_map(|t| &t.members))
        .chain(api.modules.iter().flat_map(|m| &m.functions))
        .filter(|f| f.doc.is_empty() || f.params.iter().any(|p| p.name == "_"))
        .map(|f| f.name.clone())
        .collect();
    assert!(
        undocumented.is_empty(),
        "no docs or names: {undocumented:?}"
    );
}
