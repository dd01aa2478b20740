//! A compiled script: which lifecycle functions it defines and their parameter names, its
//! constants, and calls that pass each function the named arguments it declares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rhai::{CallFnOptions, Dynamic, Engine, FnPtr, Map, Scope, AST};

use super::failure::Failure;

/// The lifecycle functions, in the order the runner calls them.
pub const LIFECYCLE: &[&str] = &[
    "initialize",
    "setup",
    "warmup",
    "execute",
    "before_run_once",
    "run_once",
    "after_run_once",
    "postprocess_iteration",
    "postprocess",
    "cleanup",
];

/// A script function's signature and documentation.
#[derive(Debug, Clone, Default)]
pub struct FnInfo {
    /// Parameter names in declaration order.
    pub params: Vec<String>,
    /// The `///` doc comment, without the slashes.
    pub doc: String,
}

/// The constants a test script may declare.
#[derive(Debug, Clone, Default)]
pub struct Consts {
    /// `VERSION`, default 1: setup reruns when it changes.
    pub version: i64,
    /// `PRESERVE_SRCDIR`: keep a shipped srcdir when setup reruns.
    pub preserve_srcdir: bool,
    /// `TAGS`, for listing and filtering.
    pub tags: Vec<String>,
    /// `TIMEOUT` in seconds.
    pub timeout: Option<u64>,
}

/// A compiled script, its functions and constants.
pub struct TestScript {
    path: PathBuf,
    ast: AST,
    functions: BTreeMap<String, FnInfo>,
    consts: Consts,
}

/// A compile error, rendered with the source line and a caret.
#[derive(Debug)]
pub struct CompileError {
    /// The full rendered text.
    pub rendered: String,
}

impl TestScript {
    /// Compiles `source` read from `path` (named in every error message).
    pub fn compile(engine: &Engine, path: &Path, source: &str) -> Result<Self, CompileError> {
        let name = path.display().to_string();
        let mut ast = engine
            .compile_with_scope(&control_scope(), source)
            .map_err(|e| CompileError {
                rendered: render_caret(
                    &name,
                    source,
                    &e.to_string().replace(&format!(" ({})", e.1), ""),
                    e.1.line(),
                    e.1.position(),
                ),
            })?;
        // Rhai resolves `import` relative to the source's folder, and tests run inside
        // their outputdir, so the source must be absolute; messages use the path as given.
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        ast.set_source(absolute.to_string_lossy().as_ref());
        let functions = ast
            .iter_functions()
            .map(|f| {
                let doc = super::inspect::strip_doc(&f.comments.join("\n"));
                let params = f.params.iter().map(|p| p.to_string()).collect();
                (f.name.to_string(), FnInfo { params, doc })
            })
            .collect();
        Ok(TestScript {
            path: path.to_path_buf(),
            ast,
            functions,
            consts: Consts {
                version: 1,
                ..Consts::default()
            },
        })
    }

    /// Runs the top level once (it should only declare constants) and reads the constants.
    pub fn load_constants(&mut self, engine: &Engine) -> Result<(), Failure> {
        let mut scope = Scope::new();
        engine
            .run_ast_with_scope(&mut scope, &self.ast)
            .map_err(|e| Failure::from_rhai(&e, &self.source_name()))?;
        self.consts = read_consts(&scope)
            .map_err(|m| Failure::new(super::failure::FailureKind::Unhandled, m))?;
        Ok(())
    }

    /// The script's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name used in messages (the path as given).
    pub fn source_name(&self) -> String {
        self.path.display().to_string()
    }

    /// The compiled script.
    pub fn ast(&self) -> &AST {
        &self.ast
    }

    /// The constants read by `load_constants`.
    pub fn consts(&self) -> &Consts {
        &self.consts
    }

    /// Every script function, by name.
    pub fn functions(&self) -> &BTreeMap<String, FnInfo> {
        &self.functions
    }

    /// Whether the script defines `name`.
    pub fn has(&self, name: &str) -> bool {
        self.functions.contains_key(name)
    }

    /// A script with `run_once` or `execute` is a test; anything else is a control file.
    pub fn is_test(&self) -> bool {
        self.has("run_once") || self.has("execute")
    }

    /// The test's description: the doc comment of `run_once`, else the file's `//!` block.
    pub fn description(&self) -> String {
        let doc = self
            .functions
            .get("run_once")
            .map(|f| f.doc.clone())
            .unwrap_or_default();
        if !doc.is_empty() {
            return doc;
        }
        super::inspect::strip_doc(self.ast.doc())
    }

    /// The parameter names lifecycle functions declare (`args` excluded), and whether one
    /// of them declares `args` and so accepts any key.
    pub fn accepted_params(&self) -> (BTreeSet<String>, bool) {
        let mut names = BTreeSet::new();
        let mut open = false;
        for f in LIFECYCLE.iter().filter_map(|n| self.functions.get(*n)) {
            for p in &f.params {
                if p == "args" {
                    open = true;
                } else {
                    names.insert(p.clone());
                }
            }
        }
        (names, open)
    }

    /// The argument vector for `name`: each declared parameter by name, `()` when absent,
    /// the whole map for a parameter called `args`.
    pub fn pick_args(&self, name: &str, args: &Map) -> Vec<Dynamic> {
        let Some(f) = self.functions.get(name) else {
            return Vec::new();
        };
        f.params
            .iter()
            .map(|p| match p.as_str() {
                "args" => Dynamic::from_map(args.clone()),
                p => args.get(p).cloned().unwrap_or(Dynamic::UNIT),
            })
            .collect()
    }

    /// Calls `name` as a method on `this` with prepared arguments, without re-running the
    /// top level.
    pub fn call_with(
        &self,
        engine: &Engine,
        this: &mut Dynamic,
        name: &str,
        argv: Vec<Dynamic>,
    ) -> Result<Dynamic, Failure> {
        let options = CallFnOptions::new()
            .eval_ast(false)
            .rewind_scope(true)
            .bind_this_ptr(this);
        engine
            .call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &self.ast, name, argv)
            .map_err(|e| Failure::from_rhai(&e, &self.source_name()))
    }

    /// Calls an iteration hook (a function pointer or closure) with the test object.
    pub fn call_hook(&self, engine: &Engine, hook: &FnPtr, this: &Dynamic) -> Result<(), Failure> {
        hook.call::<Dynamic>(engine, &self.ast, (this.clone(),))
            .map(drop)
            .map_err(|e| Failure::from_rhai(&e, &self.source_name()))
    }

    /// Calls `name` with the named arguments it declares; a missing function is a no-op.
    pub fn call(
        &self,
        engine: &Engine,
        this: &mut Dynamic,
        name: &str,
        args: &Map,
    ) -> Result<Dynamic, Failure> {
        if !self.has(name) {
            return Ok(Dynamic::UNIT);
        }
        let argv = self.pick_args(name, args);
        self.call_with(engine, this, name, argv)
    }
}

/// The variables a control file's top level sees, declared so that strict-variable
/// compilation accepts them (`job`, `args`).
fn control_scope() -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push("job", Dynamic::UNIT);
    scope.push("args", Map::new());
    scope
}

fn read_consts(scope: &Scope) -> Result<Consts, String> {
    let mut c = Consts {
        version: 1,
        ..Consts::default()
    };
    if let Some(v) = scope.get("VERSION") {
        c.version = v
            .as_int()
            .map_err(|t| format!("VERSION must be an integer, not {t}"))?;
    }
    if let Some(v) = scope.get("PRESERVE_SRCDIR") {
        c.preserve_srcdir = v
            .as_bool()
            .map_err(|t| format!("PRESERVE_SRCDIR must be true or false, not {t}"))?;
    }
    if let Some(v) = scope.get("TAGS") {
        let arr = v
            .read_lock::<rhai::Array>()
            .ok_or("TAGS must be an array of strings, e.g. [\"quick\"]")?;
        c.tags = arr.iter().map(|t| t.to_string()).collect();
    }
    if let Some(v) = scope.get("TIMEOUT") {
        let secs = v
            .as_int()
            .map_err(|t| format!("TIMEOUT must be an integer number of seconds, not {t}"))?;
        c.timeout = Some(
            u64::try_from(secs).map_err(|_| format!("TIMEOUT must not be negative, got {secs}"))?,
        );
    }
    Ok(c)
}

/// Renders an error at `line`:`col` of `source` like rustc: message, location, the source
/// line and a caret under the column.
pub fn render_caret(
    name: &str,
    source: &str,
    message: &str,
    line: Option<usize>,
    col: Option<usize>,
) -> String {
    let Some(line) = line else {
        return format!("error: {message}\n --> {name}");
    };
    let col = col.unwrap_or(1).max(1);
    let text = source.lines().nth(line - 1).unwrap_or("");
    let width = line.to_string().len();
    let pad = " ".repeat(width);
    format!(
        "error: {message}\n{pad}--> {name}:{line}:{col}\n{pad} |\n{line} | {text}\n{pad} | {}^",
        " ".repeat(col - 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(src: &str) -> TestScript {
        let engine = Engine::new();
        let mut s = TestScript::compile(&engine, Path::new("t.rhai"), src).expect("compiles");
        s.load_constants(&engine).expect("loads");
        s
    }

    #[test]
    fn parameters_docs_and_constants_are_read_without_running_functions() {
        let s = script("const VERSION = 3;\nconst TAGS = [\"quick\"];\n/// Sleeps.\n/// Twice.\nfn run_once(seconds, args) { throw \"not called\" }\nfn cleanup(force) {}");
        assert_eq!(s.consts().version, 3);
        assert_eq!(s.consts().tags, vec!["quick"]);
        assert_eq!(s.functions()["run_once"].params, vec!["seconds", "args"]);
        assert_eq!(s.description(), "Sleeps.\nTwice.");
        let (names, open) = s.accepted_params();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            vec!["force", "seconds"]
        );
        assert!(open);
        assert!(s.is_test());
    }

    #[test]
    fn arguments_are_picked_by_name_and_missing_ones_are_unit() {
        let s = script("fn run_once(b, a) { `${a}-${b}` }");
        let mut args = Map::new();
        args.insert("a".into(), Dynamic::from(1_i64));
        args.insert("c".into(), Dynamic::from(3_i64));
        let mut this = Dynamic::UNIT;
        let r = s
            .call(&Engine::new(), &mut this, "run_once", &args)
            .expect("call");
        assert_eq!(r.to_string(), "1-");
        assert!(s
            .call(&Engine::new(), &mut this, "missing", &args)
            .expect("no-op")
            .is_unit());
    }

    #[test]
    fn compile_errors_show_the_line_and_a_caret() {
        let err = TestScript::compile(
            &Engine::new(),
            Path::new("bad.rhai"),
            "fn run_once() {\n  let x = ;\n}",
        )
        .err()
        .expect("fails");
        assert_eq!(
            err.rendered,
            "error: Unexpected ';'\n --> bad.rhai:2:11\n  |\n2 |   let x = ;\n  |           ^"
        );
    }

    #[test]
    fn bad_constants_are_named() {
        let engine = Engine::new();
        let mut s = TestScript::compile(&engine, Path::new("t.rhai"), "const VERSION = \"x\";")
            .expect("compiles");
        let err = s.load_constants(&engine).expect_err("bad");
        assert_eq!(err.message, "VERSION must be an integer, not string");
    }
}
