//! Perf constraints (`constraints=["throughput > 2"]`): each expression is evaluated in a
//! sandbox whose only variables are the last perf keyvals written in the iteration, like
//! the original's `eval(constraint, {perf…, '__builtins__': None})`. Python's `and`, `or`,
//! `not`, `True` and `False` are accepted alongside Rhai's `&&`, `||`, `!`, `true`, `false`.

use rhai::packages::{ArithmeticPackage, BasicMathPackage, LogicPackage, Package};
use rhai::{Dynamic, Engine, Map, Scope};

use super::value::truthy;

/// A sandboxed evaluator: no functions but arithmetic and comparison, no modules, no
/// `eval`, bounded work.
pub struct Constraints {
    engine: Engine,
}

impl Default for Constraints {
    fn default() -> Self {
        Self::new()
    }
}

impl Constraints {
    /// A fresh sandbox.
    pub fn new() -> Self {
        let mut engine = Engine::new_raw();
        engine.register_global_module(ArithmeticPackage::new().as_shared_module());
        engine.register_global_module(LogicPackage::new().as_shared_module());
        engine.register_global_module(BasicMathPackage::new().as_shared_module());
        engine
            .set_max_operations(10_000)
            .set_max_expr_depths(64, 0)
            .set_max_call_levels(8)
            .set_strict_variables(true)
            .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
        engine.disable_symbol("eval");
        Constraints { engine }
    }

    /// Evaluates every constraint against `perf`; returns the original's failure texts.
    pub fn evaluate(&self, constraints: &[String], perf: &Map) -> Vec<String> {
        let mut failures = Vec::new();
        for c in constraints {
            let mut scope = Scope::new();
            for (k, v) in perf {
                scope.push_constant_dynamic(k.as_str(), v.clone());
            }
            match self
                .engine
                .eval_expression_with_scope::<Dynamic>(&mut scope, &pythonic(c))
            {
                Ok(v) if truthy(&v) => {}
                Ok(_) => failures.push(format!("{c}: constraint was not met")),
                Err(_) => failures.push(format!("could not evaluate constraint: {c}")),
            }
        }
        failures
    }
}

/// The original's final message: `iteration <i>:<failures joined by ','>  ` per analysed
/// iteration that had failures.
pub fn failure_message(per_iteration: &[Vec<String>]) -> String {
    per_iteration
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.is_empty())
        .map(|(i, f)| format!("iteration {i}:{}  ", f.join(",")))
        .collect()
}

/// Rewrites Python's boolean words outside string literals into Rhai's operators.
fn pythonic(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "and" => "&&",
            "or" => "||",
            "not" => "!",
            "True" => "true",
            "False" => "false",
            w => w,
        });
        word.clear();
    };
    for ch in expr.chars() {
        if let Some(q) = quote {
            out.push(ch);
            if ch == q {
                quote = None;
            }
        } else if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            if ch == '"' || ch == '\'' {
                quote = Some(ch);
            }
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perf(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn constraints_see_only_the_perf_values() {
        let c = Constraints::new();
        let p = perf(&[
            ("throughput", Dynamic::from(1.5_f64)),
            ("count", Dynamic::from(3_i64)),
        ]);
        let got = c.evaluate(
            &[
                "throughput > 1".into(),
                "throughput > 2".into(),
                "nosuchkey > 1".into(),
                "count == 3 and not (throughput < 1)".into(),
            ],
            &p,
        );
        assert_eq!(
            got,
            vec![
                "throughput > 2: constraint was not met",
                "could not evaluate constraint: nosuchkey > 1"
            ]
        );
    }

    #[test]
    fn the_sandbox_refuses_loops_eval_and_syntax_errors() {
        let c = Constraints::new();
        let p = perf(&[("x", Dynamic::from(1_i64))]);
        for bad in ["loop { }", "eval(\"1\")", "x >", "import \"a\" as b"] {
            assert_eq!(
                c.evaluate(&[bad.into()], &p),
                vec![format!("could not evaluate constraint: {bad}")]
            );
        }
    }

    #[test]
    fn the_message_matches_the_original() {
        let msg = failure_message(&[
            vec![
                "throughput > 2: constraint was not met".into(),
                "could not evaluate constraint: nosuchkey > 1".into(),
            ],
            vec![],
            vec!["could not evaluate constraint: nosuchkey > 1".into()],
        ]);
        assert_eq!(
            msg,
            "iteration 0:throughput > 2: constraint was not met,could not evaluate constraint: nosuchkey > 1  iteration 2:could not evaluate constraint: nosuchkey > 1  "
        );
    }

    #[test]
    fn python_words_become_operators_outside_strings() {
        assert_eq!(pythonic("a and not b or True"), "a && ! b || true");
        assert_eq!(pythonic("s == 'and'"), "s == 'and'");
    }
}
