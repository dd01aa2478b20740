//! The Rhai host: the only module that names `rhai::`. `Host::new` builds an engine with
//! explicit limits (the defaults differ between debug and release builds), cancellation
//! through the progress callback, and every host module registered.

pub mod api;
pub mod constraints;
pub mod ctx;
pub mod failure;
pub mod inspect;
pub mod script;
pub mod session;
pub mod stdlib;
pub mod value;

use std::sync::Arc;

pub use api::job::{JobApi, JobHandle};
pub use api::test_obj::{TestInfo, TestObj};
/// Rhai's value types, re-exported so the rest of the crate need not name `rhai`.
pub use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, Scope};

use ctx::HostCtx;

/// How many operations pass between two looks at the cancellation state.
const CHECK_EVERY: u64 = 256;

/// The engine with autorun's API, and the context its host functions share.
pub struct Host {
    engine: Engine,
    ctx: Arc<HostCtx>,
}

impl Host {
    /// Builds the engine: limits, cancellation, host modules, stdlib.
    pub fn new(ctx: Arc<HostCtx>) -> Self {
        let mut engine = Engine::new();
        engine
            .set_max_call_levels(256)
            .set_max_expr_depths(256, 256)
            .set_max_operations(0)
            .set_max_string_size(0)
            .set_max_array_size(0)
            .set_max_map_size(0)
            .set_max_modules(1_000)
            .set_max_variables(100_000)
            .set_max_functions(10_000)
            .set_strict_variables(true);
        let c = ctx.clone();
        engine.on_progress(move |ops| {
            if ops % CHECK_EVERY != 0 {
                return None;
            }
            c.check().err().map(|stop| match *stop.into_error() {
                rhai::EvalAltResult::ErrorTerminated(token, _) => token,
                _ => rhai::Dynamic::UNIT,
            })
        });
        api::register_all(&mut engine, &ctx);
        stdlib::register(&mut engine);
        Host { engine, ctx }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The shared host context.
    pub fn ctx(&self) -> &Arc<HostCtx> {
        &self.ctx
    }
}
