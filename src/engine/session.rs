//! The REPL's evaluation state, with rhai's own REPL technique: one persistent `Scope`
//! (variables survive from line to line) and an accumulated AST of functions (the
//! script's, then those defined at the prompt), to which each line's statements are
//! added for one evaluation only. This module owns evaluation, the detection of input
//! that needs more lines, swapping a reloaded script's functions in, and the names the
//! line editor completes. It never prints: the REPL in `crate::repl` does.

use std::collections::BTreeSet;

use rhai::{Dynamic, Engine, EvalAltResult, LexError, ParseError, ParseErrorType, Scope, AST};

use super::failure::Failure;
use super::script::{render_caret, TestScript};

/// The name prompt input has in error messages.
const INPUT: &str = "<input>";
/// The name of functions defined at earlier prompts, in error messages.
const PROMPT: &str = "<prompt>";
/// Stands for a source name in a decoded error until the real one is known.
const MARK: &str = "\u{1}source\u{1}";

/// Why a line did not produce a value.
#[derive(Debug)]
pub enum EvalError {
    /// The input stops in the middle of something (an open brace, bracket or backtick
    /// string, a trailing operator): read another line. The rendered compile error is
    /// kept for when the user gives up on completing it.
    Incomplete(String),
    /// The input does not compile; rendered with the line and a caret.
    Compile(String),
    /// Evaluation raised; the failure is classified as the runner would.
    Runtime(Failure),
}

/// A persistent scope and the functions visible at the prompt.
pub struct Session {
    scope: Scope<'static>,
    script_fns: AST,
    prompt_fns: AST,
    script_name: String,
    script_names: BTreeSet<String>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// An empty session: no variables, no functions.
    pub fn new() -> Self {
        Session {
            scope: Scope::new(),
            script_fns: AST::empty(),
            prompt_fns: AST::empty(),
            script_name: INPUT.to_string(),
            script_names: BTreeSet::new(),
        }
    }

    /// Sets a variable, replacing one of the same name (`test`, `job`, `args`, `error`).
    pub fn set(&mut self, name: &str, value: Dynamic) {
        self.scope.set_or_push(name.to_string(), value);
    }

    /// Makes `script`'s functions the session's, replacing those of an earlier version
    /// of it. A prompt function the script also defines (same name and arity) is dropped,
    /// so that the script's new code is what runs. With `run_top_level`, the script's top
    /// level runs in the session scope, so its constants are visible at the prompt.
    pub fn load_script(
        &mut self,
        engine: &Engine,
        script: &TestScript,
        run_top_level: bool,
    ) -> Result<(), Failure> {
        let defined: BTreeSet<(String, usize)> = script
            .ast()
            .iter_functions()
            .map(|f| (f.name.to_string(), f.params.len()))
            .collect();
        self.prompt_fns
            .retain_functions(|_, _, name, arity| !defined.contains(&(name.to_string(), arity)));
        self.script_fns = script.ast().clone_functions_only();
        self.script_name = script.source_name();
        self.script_names = defined.into_iter().map(|(name, _)| name).collect();
        if run_top_level {
            engine
                .run_ast_with_scope(&mut self.scope, script.ast())
                .map_err(|e| Failure::from_rhai(&e, &self.script_name))?;
        }
        Ok(())
    }

    /// Compiles and evaluates one (possibly multi-line) input against the persistent
    /// scope and the accumulated functions. Returns the value as the REPL shows it, or
    /// `None` for `()`. Functions the input defines stay defined, even when its
    /// statements fail.
    pub fn eval_line(&mut self, engine: &Engine, text: &str) -> Result<Option<String>, EvalError> {
        let ast = engine
            .compile_with_scope(&self.scope, text)
            .map_err(|e| compile_error(&e, text))?;
        let program = self.script_fns.merge(&self.prompt_fns).merge(&ast);
        self.prompt_fns = self.prompt_fns.merge(&ast.clone_functions_only());
        let value = engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &program)
            .map_err(|e| EvalError::Runtime(self.failure(&e)))?;
        Ok((!value.is_unit()).then(|| display(engine, value)))
    }

    /// How the REPL shows a value: its `to_debug` form (strings quoted, maps and arrays
    /// as literals, the test object with its state).
    pub fn display(&self, engine: &Engine, value: Dynamic) -> String {
        display(engine, value)
    }

    /// The functions defined at the prompt: name and parameter names, sorted.
    pub fn prompt_functions(&self) -> Vec<(String, Vec<String>)> {
        let mut fns: Vec<(String, Vec<String>)> = self
            .prompt_fns
            .iter_functions()
            .filter(|f| !f.name.starts_with("anon$"))
            .map(|f| {
                let params = f.params.iter().map(|p| p.to_string()).collect();
                (f.name.to_string(), params)
            })
            .collect();
        fns.sort();
        fns
    }

    /// Names worth completing that the session itself knows: its variables and every
    /// function of the script and the prompt.
    pub fn names(&self) -> BTreeSet<String> {
        let vars = self.scope.iter_raw().map(|(name, ..)| name.to_string());
        let fns = self
            .script_fns
            .iter_functions()
            .chain(self.prompt_fns.iter_functions())
            .map(|f| f.name.to_string())
            .filter(|n| !n.starts_with("anon$"));
        vars.chain(fns).collect()
    }

    /// Decodes a runtime error and names the right source for each position in its
    /// message: the input line, a function defined at the prompt, or the script.
    fn failure(&self, err: &EvalAltResult) -> Failure {
        let mut failure = Failure::from_rhai(err, MARK);
        let mut chain = Vec::new();
        let mut inner = err;
        while let EvalAltResult::ErrorInFunctionCall(name, _, next, _) = inner {
            chain.push(name.as_str());
            inner = next;
        }
        // The message names the innermost error first (inside the innermost function),
        // then each call site from the inside out (each inside its caller).
        let mut sources = vec![self.source_of(chain.last().copied())];
        for i in (0..chain.len()).rev() {
            let caller = i.checked_sub(1).map(|c| chain[c]);
            sources.push(self.source_of(caller));
        }
        let mut parts = failure.message.split(MARK);
        let mut message = parts.next().unwrap_or_default().to_string();
        for (i, part) in parts.enumerate() {
            message.push_str(sources.get(i).map_or(INPUT, String::as_str));
            message.push_str(part);
        }
        failure.message = message;
        failure
    }

    /// Where a function's code comes from; `None` is the input line itself.
    fn source_of(&self, function: Option<&str>) -> String {
        match function {
            None => INPUT.to_string(),
            Some(f) if self.prompt_fns.iter_functions().any(|p| p.name == f) => PROMPT.into(),
            Some(f) if self.script_names.contains(f) => self.script_name.clone(),
            Some(_) => INPUT.to_string(),
        }
    }
}

/// Classifies a compile error: incomplete input, or an error shown with a caret.
fn compile_error(err: &ParseError, text: &str) -> EvalError {
    let message = err.to_string().replace(&format!(" ({})", err.1), "");
    let rendered = render_caret(INPUT, text, &message, err.1.line(), err.1.position());
    if is_incomplete(err, text) {
        EvalError::Incomplete(rendered)
    } else {
        EvalError::Compile(rendered)
    }
}

/// Whether more input could complete `text`: the parser ran out of input, or stopped at
/// its very end (an unclosed block, array, map or call, a trailing `.`), or a backtick
/// string (or a `"` string continued with `\`) is still open.
fn is_incomplete(err: &ParseError, text: &str) -> bool {
    match &*err.0 {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            let opening = match (err.1.line(), err.1.position()) {
                (Some(line), Some(col)) => text
                    .split('\n')
                    .nth(line.saturating_sub(1))
                    .and_then(|l| l.chars().nth(col.saturating_sub(1))),
                _ => None,
            };
            opening == Some('`') || text.trim_end_matches([' ', '\t']).ends_with('\\')
        }
        _ => {
            let lines: Vec<&str> = text.split('\n').collect();
            let last_len = lines.last().map_or(0, |l| l.chars().count());
            match (err.1.line(), err.1.position()) {
                (Some(line), Some(col)) => {
                    line > lines.len() || (line == lines.len() && col > last_len)
                }
                (Some(line), None) => line > lines.len(),
                _ => false,
            }
        }
    }
}

fn display(engine: &Engine, value: Dynamic) -> String {
    let fallback = format!("{value:?}");
    let mut scope = Scope::new();
    scope.push("value", value);
    engine
        .eval_expression_with_scope::<String>(&mut scope, "to_debug(value)")
        .unwrap_or(fallback)
}

/// The host API's names from the engine's metadata (Rhai's standard library excluded):
/// global functions and `module::function`s, and the members of the test object
/// (`Test` properties and methods) separately.
pub fn host_names(engine: &Engine) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut globals = BTreeSet::new();
    let mut members = BTreeSet::new();
    let Ok(json) = engine.gen_fn_metadata_to_json(false) else {
        return (globals, members);
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&json) else {
        return (globals, members);
    };
    let empty = Vec::new();
    let list = |v: &serde_json::Value| v.as_array().unwrap_or(&empty).clone();
    for f in list(&meta["functions"]) {
        let Some(name) = f["name"].as_str() else {
            continue;
        };
        let receiver = f["params"][0]["type"].as_str().unwrap_or_default();
        let name = name.trim_start_matches("get$").trim_start_matches("set$");
        if name.contains('$') || name.starts_with("anon") {
            continue;
        }
        if receiver == "&mut Test" {
            members.insert(name.to_string());
        } else if !receiver.starts_with("&mut") {
            globals.insert(name.to_string());
        }
    }
    if let Some(modules) = meta["modules"].as_object() {
        for (module, m) in modules {
            for f in list(&m["functions"]) {
                if let Some(name) = f["name"].as_str().filter(|n| !n.contains('$')) {
                    globals.insert(format!("{module}::{name}"));
                }
            }
        }
    }
    (globals, members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn eval(s: &mut Session, engine: &Engine, text: &str) -> Result<Option<String>, EvalError> {
        s.eval_line(engine, text)
    }

    #[test]
    fn variables_and_functions_persist_across_lines() {
        let engine = Engine::new();
        let mut s = Session::new();
        assert_eq!(eval(&mut s, &engine, "let x = 40;").expect("ok"), None);
        assert_eq!(
            eval(&mut s, &engine, "fn add(a, b) { a + b }").expect("ok"),
            None
        );
        assert_eq!(
            eval(&mut s, &engine, "add(x, 2)").expect("ok").as_deref(),
            Some("42")
        );
        assert_eq!(
            eval(&mut s, &engine, "\"a\" + x").expect("ok").as_deref(),
            Some("\"a40\"")
        );
    }

    #[test]
    fn open_blocks_strings_and_trailing_operators_ask_for_more() {
        let engine = Engine::new();
        let mut s = Session::new();
        for text in [
            "fn f() {",
            "fn f() {\n  let x = 1;",
            "[1,",
            "#{a: 1",
            "1 +",
            "`multi",
            "foo(",
            "if true { // open",
        ] {
            assert!(
                matches!(eval(&mut s, &engine, text), Err(EvalError::Incomplete(_))),
                "{text}"
            );
        }
        for text in ["let x = ;", "}", "\"abc", "1 + 2)"] {
            assert!(
                matches!(eval(&mut s, &engine, text), Err(EvalError::Compile(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn compile_errors_show_the_input_with_a_caret() {
        let engine = Engine::new();
        let Err(EvalError::Compile(r)) = Session::new().eval_line(&engine, "let x = ;") else {
            panic!("not a compile error")
        };
        assert_eq!(
            r,
            "error: Unexpected ';'\n --> <input>:1:9\n  |\n1 | let x = ;\n  |         ^"
        );
    }

    #[test]
    fn runtime_errors_name_the_script_or_the_input() {
        let engine = Engine::new();
        let script = TestScript::compile(
            &engine,
            Path::new("t.rhai"),
            "fn boom() {\n  1 / 0\n}\nfn run_once() {}",
        )
        .expect("compiles");
        let mut s = Session::new();
        s.load_script(&engine, &script, false).expect("loads");
        let Err(EvalError::Runtime(f)) = s.eval_line(&engine, "boom()") else {
            panic!("no error")
        };
        assert_eq!(
            f.message,
            "Unhandled ArithmeticError: Division by zero: 1 / 0 at t.rhai:2:5\n  in call to 'boom' at <input>:1:1"
        );
    }

    #[test]
    fn host_names_come_from_the_engines_metadata() {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let host = crate::engine::Host::new(crate::engine::ctx::HostCtx::new(flag));
        let (globals, members) = host_names(host.engine());
        for name in [
            "sleep",
            "fail",
            "utils::run",
            "fs::read",
            "assert::eq",
            "stats::mean",
        ] {
            assert!(globals.contains(name), "{name} not in {globals:?}");
        }
        for name in ["write_perf_keyval", "outputdir", "iteration", "runsubtest"] {
            assert!(members.contains(name), "{name} not in {members:?}");
        }
    }

    #[test]
    fn reloading_replaces_script_functions_and_keeps_variables() {
        let engine = Engine::new();
        let compile =
            |src: &str| TestScript::compile(&engine, Path::new("t.rhai"), src).expect("compiles");
        let mut s = Session::new();
        s.load_script(&engine, &compile("fn v() { 1 }"), false)
            .expect("loads");
        eval(&mut s, &engine, "let keep = v();").expect("ok");
        eval(&mut s, &engine, "fn v() { 100 }").expect("ok");
        assert_eq!(
            eval(&mut s, &engine, "v()").expect("ok").as_deref(),
            Some("100")
        );
        s.load_script(&engine, &compile("fn v() { 2 }"), false)
            .expect("loads");
        assert_eq!(
            eval(&mut s, &engine, "keep + v()").expect("ok").as_deref(),
            Some("3")
        );
        assert!(s.prompt_functions().is_empty());
    }
}
