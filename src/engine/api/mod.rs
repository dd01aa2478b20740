//! Host modules scripts can call, one file per namespace, each with a `register` function.

pub(crate) mod facts;
pub(crate) mod fs;
pub mod job;
pub(crate) mod json;
pub(crate) mod log;
pub(crate) mod outcome;
pub(crate) mod process;
pub(crate) mod register;
pub mod test_obj;
pub(crate) mod utils;

use std::sync::Arc;

use rhai::Engine;

use super::ctx::HostCtx;

/// Registers every host module into `engine`.
pub(crate) fn register_all(engine: &mut Engine, ctx: &Arc<HostCtx>) {
    log::register(engine, ctx);
    outcome::register(engine);
    test_obj::register(engine);
    job::register(engine);
    utils::register(engine, ctx);
    fs::register(engine, ctx);
    json::register(engine, ctx);
}
