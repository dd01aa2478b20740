//! Outcome functions: each ends the test with a status by throwing `#{kind, message}`,
//! which scripts may catch and inspect (`e.kind`, `e.message`).

use rhai::{Dynamic, Engine, EvalAltResult};

use crate::engine::failure::outcome_error;
use crate::engine::value::truthy;

type Res = Result<(), Box<EvalAltResult>>;

/// Registers `fail`, `error`, `skip`, `warn`, `fail_retry`, `abort` and `assert`.
pub(crate) fn register(engine: &mut Engine) {
    for (name, kind) in [
        ("fail", "TestFail"),
        ("error", "TestError"),
        ("skip", "TestNA"),
        ("warn", "TestWarn"),
        ("fail_retry", "TestFailRetry"),
        ("abort", "JobError"),
    ] {
        engine.register_fn(name, move |msg: Dynamic| -> Res {
            Err(outcome_error(kind, &msg.to_string()))
        });
    }
    engine.register_fn("assert", |cond: Dynamic| -> Res {
        check(&cond, "Assertion failed.")
    });
    engine.register_fn("assert", |cond: Dynamic, msg: Dynamic| -> Res {
        check(&cond, &msg.to_string())
    });
}

fn check(cond: &Dynamic, msg: &str) -> Res {
    if truthy(cond) {
        Ok(())
    } else {
        Err(outcome_error("TestError", msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Map;

    fn caught(script: &str) -> Map {
        let mut engine = Engine::new();
        register(&mut engine);
        engine
            .eval::<Map>(&format!(
                "let r = #{{}}; try {{ {script}; }} catch (e) {{ r = e; }} r"
            ))
            .expect("eval")
    }

    #[test]
    fn each_outcome_throws_its_kind_and_message() {
        for (call, kind) in [
            ("fail(\"m\")", "TestFail"),
            ("error(\"m\")", "TestError"),
            ("skip(\"m\")", "TestNA"),
            ("warn(\"m\")", "TestWarn"),
            ("fail_retry(\"m\")", "TestFailRetry"),
            ("abort(\"m\")", "JobError"),
            ("assert(false, \"m\")", "TestError"),
        ] {
            let e = caught(call);
            assert_eq!(e["kind"].to_string(), kind, "{call}");
            assert_eq!(e["message"].to_string(), "m", "{call}");
        }
        assert_eq!(
            caught("assert(0)")["message"].to_string(),
            "Assertion failed."
        );
        assert!(caught("assert(1 == 1)").is_empty());
    }
}
