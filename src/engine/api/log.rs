//! Logging into the test's debug logs (`print`, `debug`, `log::*`) and an interruptible
//! `sleep` that replaces Rhai's built-in one.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Engine, EvalAltResult, FuncRegistration, Module};

use super::register::HostFn;
use crate::engine::ctx::HostCtx;
use crate::status::Level;

type Res = Result<(), Box<EvalAltResult>>;

/// Registers `print`/`debug` routing, the `log` module and `sleep`.
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<HostCtx>) {
    let c = ctx.clone();
    engine.on_print(move |s| c.log(Level::Info, s));
    let c = ctx.clone();
    engine.on_debug(move |s, _, pos| match pos.line() {
        Some(line) => c.log(Level::Debug, &format!("[line {line}] {s}")),
        None => c.log(Level::Debug, s),
    });

    let mut module = Module::new();
    for (name, level) in [
        ("debug", Level::Debug),
        ("info", Level::Info),
        ("warning", Level::Warning),
        ("error", Level::Error),
    ] {
        let c = ctx.clone();
        let doc = format!("/// Writes a message to the test's {} log.", level.as_str());
        FuncRegistration::new(name)
            .with_params_info(["message: Dynamic"])
            .with_comments([doc.as_str()])
            .set_into_module(&mut module, move |msg: rhai::Dynamic| {
                c.log(level, &msg.to_string())
            });
    }
    engine.register_static_module("log", module.into());

    const SLEEP: &str = "Sleeps `seconds` (int or float, not negative). Interrupted by the \
        test's timeout and by Ctrl-C; replaces Rhai's built-in `sleep`, which is not.";
    let c = ctx.clone();
    HostFn::new("sleep", &["seconds"], SLEEP)
        .register(engine, move |secs: rhai::INT| sleep(&c, secs as f64));
    let c = ctx.clone();
    HostFn::new("sleep", &["seconds"], SLEEP)
        .register(engine, move |secs: rhai::FLOAT| sleep(&c, secs));
}

/// Sleeps, waking early (with the error that stops the script) on Ctrl-C or timeout.
fn sleep(ctx: &HostCtx, secs: f64) -> Res {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("sleep: seconds must be a non-negative number, not {secs}").into());
    }
    ctx.sleep(Duration::from_secs_f64(secs))
        .map_err(|stop| stop.into_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;
    use std::time::Instant;

    struct Capture(Mutex<Vec<String>>);
    impl crate::status::LogSink for Capture {
        fn log(&self, level: Level, message: &str) {
            self.0
                .lock()
                .expect("lock")
                .push(format!("{}:{message}", level.as_str()));
        }
    }

    #[test]
    fn print_debug_and_log_go_to_the_sink_at_their_level() {
        let ctx = HostCtx::new(Arc::new(AtomicBool::new(false)));
        let sink = Arc::new(Capture(Mutex::new(Vec::new())));
        ctx.set_sink(Some(sink.clone()));
        let mut engine = Engine::new();
        register(&mut engine, &ctx);
        engine
            .run("print(\"a\"); log::warning(\"b\"); log::error(42); debug(\"c\");")
            .expect("run");
        let got = sink.0.lock().expect("lock").clone();
        assert_eq!(
            got,
            vec!["INFO:a", "WARNING:b", "ERROR:42", "DEBUG:[line 1] \"c\""]
        );
    }

    #[test]
    fn sleep_stops_early_when_interrupted() {
        let flag = Arc::new(AtomicBool::new(true));
        let ctx = HostCtx::new(flag);
        let mut engine = Engine::new();
        register(&mut engine, &ctx);
        let start = Instant::now();
        let err = engine.run("sleep(5)").expect_err("interrupted");
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(
            matches!(*err, EvalAltResult::ErrorTerminated(..)),
            "{err:?}"
        );
        assert!(engine.run("sleep(-1)").is_err());
    }
}
