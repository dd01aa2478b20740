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
    for (name, source) in MODULES {
        let ast = engine
            .compile(*source)
            .unwrap_or_else(|e| panic!("embedded stdlib/{name}.rhai does not compile: {e}"));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .unwrap_or_else(|e| panic!("embedded stdlib/{name}.rhai does not load: {e}"));
        engine.register_static_module(*name, module.into());
    }
}
