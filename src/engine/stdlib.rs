//! The embedded `stdlib/` modules, compiled into the binary and callable as
//! `name::fn(...)` without `import`.

use rhai::{Engine, Module, Scope};

/// Every embedded module: its name and source.
pub const MODULES: &[(&str, &str)] = &[
    ("assert", include_str!("../../stdlib/assert.rhai")),
    ("stats", include_str!("../../stdlib/stats.rhai")),
];

/// Compiles each embedded module and registers it under its name.
pub(crate) fn register(engine: &mut Engine) {
    // Every run pays for this at start-up; the optimizer's pass over these small helpers
    // costs more (~0.2 ms) than it could ever save while they run.
    let level = engine.optimization_level();
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    for (name, source) in MODULES {
        let ast = engine
            .compile(*source)
            .unwrap_or_else(|e| panic!("embedded stdlib/{name}.rhai does not compile: {e}"));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .unwrap_or_else(|e| panic!("embedded stdlib/{name}.rhai does not load: {e}"));
        engine.register_static_module(*name, module.into());
    }
    engine.set_optimization_level(level);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use rhai::{Dynamic, Map};

    use crate::engine::ctx::HostCtx;
    use crate::engine::Host;

    fn eval(script: &str) -> Dynamic {
        let host = Host::new(HostCtx::new(Arc::new(AtomicBool::new(false))));
        host.engine().eval::<Dynamic>(script).expect(script)
    }

    fn caught(script: &str) -> Map {
        eval(&format!(
            "let r = #{{}}; try {{ {script}; }} catch (e) {{ r = e; }} r"
        ))
        .cast::<Map>()
    }

    #[test]
    fn stats_summarise_arrays_of_numbers() {
        assert_eq!(eval("stats::mean([1, 2, 3])").as_float(), Ok(2.0));
        assert_eq!(eval("stats::stddev([1, 2, 3])").as_float(), Ok(1.0));
        assert_eq!(eval("stats::stddev([5])").as_float(), Ok(0.0));
        assert_eq!(eval("stats::median([3, 1, 2, 10])").as_float(), Ok(2.5));
        assert_eq!(
            eval("stats::percentile([1, 2, 3, 4, 5], 100)").as_float(),
            Ok(5.0)
        );
        assert_eq!(eval("stats::min([3, 1, 2])").as_int(), Ok(1));
        assert_eq!(eval("stats::max([3.5, 1.0])").as_float(), Ok(3.5));
        assert!(eval("stats::max([])").is_unit());
        assert_eq!(eval("stats::mean([])").as_float(), Ok(0.0));
    }

    #[test]
    fn assert_checks_fail_the_test_with_both_values() {
        let e = caught("assert::eq(1 + 1, 3)");
        assert_eq!(e["kind"].to_string(), "TestFail");
        assert_eq!(e["message"].to_string(), "expected 3, got 2");
        assert_eq!(
            caught("assert::eq(\"a\", \"b\")")["message"].to_string(),
            "expected \"b\", got \"a\""
        );
        assert_eq!(
            caught("assert::ne(1, 1)")["message"].to_string(),
            "expected anything but 1"
        );
        assert_eq!(
            caught("assert::close(1.0, 2.0, 0.5)")["message"].to_string(),
            "expected 2.0 ± 0.5, got 1.0"
        );
        assert_eq!(
            caught("assert::contains([1, 2], 3)")["message"].to_string(),
            "expected [1, 2] to contain 3"
        );
        assert_eq!(
            caught("assert::that(false, \"nope\")")["message"].to_string(),
            "nope"
        );
        assert!(caught("assert::eq(2, 2); assert::close(1.0, 1.1, 0.5); assert::contains(\"abc\", \"b\"); assert::contains(#{ a: 1 }, \"a\")").is_empty());
        assert_eq!(
            caught("assert::contains(#{ a: 1 }, \"b\")")["message"].to_string(),
            "expected #{\"a\": 1} to contain \"b\""
        );
    }
}
