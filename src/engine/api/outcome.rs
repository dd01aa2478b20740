//! Outcome functions: each ends the test with a status by throwing `#{kind, message}`,
//! which scripts may catch and inspect (`e.kind`, `e.message`).

use rhai::{Dynamic, Engine, EvalAltResult};

use super::register::HostFn;
use crate::engine::failure::outcome_error;
use crate::engine::value::truthy;

type Res = Result<(), Box<EvalAltResult>>;

/// Registers `fail`, `error`, `skip`, `warn`, `fail_retry`, `abort` and `assert`.
pub(crate) fn register(engine: &mut Engine) {
    for (name, kind, doc) in [
        (
            "fail",
            "TestFail",
            "Ends the test FAIL with `message` (the original's TestFail). Like every outcome \
             it throws `#{kind, message}` (here kind \"TestFail\"), which `try`/`catch` can \
             intercept.",
        ),
        (
            "error",
            "TestError",
            "Ends the test ERROR with `message` (TestError).",
        ),
        (
            "skip",
            "TestNA",
            "Ends the test TEST_NA with `message`: it does not apply here (TestNAError).",
        ),
        (
            "warn",
            "TestWarn",
            "Ends the test WARN with `message` (TestWarn).",
        ),
        (
            "fail_retry",
            "TestFailRetry",
            "Ends the iteration FAIL but lets the job retry it, up to `--retry N` times \
             (TestFailRetry).",
        ),
        (
            "abort",
            "JobError",
            "Aborts the job: the test ends ABORT, the rest of the job is skipped and autorun \
             exits 3 (JobError).",
        ),
    ] {
        HostFn::new(name, &["message"], doc).register(engine, move |msg: Dynamic| -> Res {
            Err(outcome_error(kind, &msg.to_string()))
        });
    }
    const ASSERT: &str = "Ends the test ERROR with `message` (default `Assertion failed.`) \
        unless `cond` is truthy (the original's assert_).";
    HostFn::new("assert", &["cond"], ASSERT).register(engine, |cond: Dynamic| -> Res {
        check(&cond, "Assertion failed.")
    });
    HostFn::new("assert", &["cond", "message"], ASSERT)
        .register(engine, |cond: Dynamic, msg: Dynamic| -> Res {
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
