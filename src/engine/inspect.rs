//! Looking at scripts and at the host API without running anything: a test's constants
//! read in a sandbox, and the host functions described from the engine's own metadata
//! (for `autorun check`, `autorun list` and `autorun api`).

mod api;
mod docs;

pub use api::{api, clean_type, strip_doc, Api, ApiFn, ApiModule, ApiType, FnKind, Param};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage,
    BasicMathPackage, BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine, Scope};

use super::script::{Consts, TestScript};

/// The constants a test may declare, in the order `autorun check` shows them.
pub const CONSTANTS: &[&str] = &["VERSION", "PRESERVE_SRCDIR", "TAGS", "TIMEOUT"];

/// A test's constants as far as they could be read without running the test.
#[derive(Debug, Clone, Default)]
pub struct Constants {
    /// The values; a constant that was not declared, or is unknown, has its default.
    pub consts: Consts,
    /// Constants the sandbox could not read because the top level stopped before them.
    pub unknown: Vec<&'static str>,
    /// Why the top level could not be evaluated in the sandbox (it did more than
    /// declare constants); `None` when it ran to the end.
    pub note: Option<String>,
    /// A constant of the wrong type: `autorun run` refuses such a script.
    pub invalid: Option<String>,
}

/// An engine that can only compute: operators, strings, arrays, maps, math and script
/// functions. No host modules, no `import` (the resolver refuses every path), no
/// `sleep` (it lives in Rhai's LanguageCorePackage, left out on purpose), output
/// discarded and bounded work, so a top level that does anything else just fails.
fn sandbox() -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(ArithmeticPackage::new().as_shared_module());
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(BasicStringPackage::new().as_shared_module());
    engine.register_global_module(MoreStringPackage::new().as_shared_module());
    engine.register_global_module(BasicArrayPackage::new().as_shared_module());
    engine.register_global_module(BasicMapPackage::new().as_shared_module());
    engine.register_global_module(BasicIteratorPackage::new().as_shared_module());
    engine.register_global_module(BasicFnPackage::new().as_shared_module());
    engine.register_global_module(BasicMathPackage::new().as_shared_module());
    engine
        .set_strict_variables(false)
        .set_max_operations(100_000)
        .set_max_call_levels(64)
        .set_max_expr_depths(256, 256)
        .set_max_string_size(1 << 20)
        .set_max_array_size(100_000)
        .set_max_map_size(100_000)
        .set_module_resolver(DummyModuleResolver::new());
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
}

/// Reads the constants of a compiled test by evaluating its top level in the sandbox.
/// Never fails: what cannot be read is reported in `unknown`, `note` or `invalid`.
pub fn read_constants(script: &mut TestScript) -> Constants {
    let engine = sandbox();
    let mut scope = Scope::new();
    match engine.run_ast_with_scope(&mut scope, script.ast()) {
        // The top level is pure: let the script read its own constants, so that type
        // errors are worded exactly as `autorun run` words them.
        Ok(()) => match script.load_constants(&engine) {
            Ok(()) => Constants {
                consts: script.consts().clone(),
                ..Constants::default()
            },
            Err(f) => Constants {
                unknown: CONSTANTS.to_vec(),
                invalid: Some(f.message),
                ..Constants::default()
            },
        },
        Err(e) => {
            let mut c = partial(&scope);
            c.note = Some(e.to_string());
            c
        }
    }
}

/// The constants declared before the top level stopped; the others are unknown.
fn partial(scope: &Scope) -> Constants {
    let mut c = Constants {
        consts: Consts {
            version: 1,
            ..Consts::default()
        },
        ..Constants::default()
    };
    for name in CONSTANTS {
        let Some(v) = scope.get(name) else {
            c.unknown.push(name);
            continue;
        };
        let ok = match *name {
            "VERSION" => v.as_int().map(|n| c.consts.version = n).is_ok(),
            "PRESERVE_SRCDIR" => v.as_bool().map(|b| c.consts.preserve_srcdir = b).is_ok(),
            "TAGS" => string_array(v).map(|t| c.consts.tags = t).is_some(),
            _ => v
                .as_int()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .map(|n| c.consts.timeout = Some(n))
                .is_some(),
        };
        if !ok && c.invalid.is_none() {
            c.invalid = Some(format!("{name} has the wrong type ({})", v.type_name()));
        }
    }
    c
}

fn string_array(v: &Dynamic) -> Option<Vec<String>> {
    let arr = v.read_lock::<rhai::Array>()?;
    Some(arr.iter().map(|t| t.to_string()).collect())
}

#[cfg(test)]
mod tests;
