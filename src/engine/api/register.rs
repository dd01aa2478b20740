//! How host functions are registered so that `autorun api` can document them: with
//! parameter names and a doc comment in Rhai's metadata. `func` starts a module function
//! (`utils::run`, `fs::read`, …); `HostFn` registers a global function, method or
//! property exactly as `Engine::register_fn` would, plus names and docs.

use std::any::{Any, TypeId};

use rhai::{Engine, FnNamespace, FuncRegistration, RhaiNativeFunc};

/// Starts registering the module function `name`: `params` are `name: type` strings
/// followed by the return type, `doc` is plain text (each line becomes a `///` line).
/// Both feed `autorun api`. Functions are marked volatile: they act on the outside world,
/// so the optimizer must never run them ahead of time.
pub(crate) fn func(name: &str, params: &[&str], doc: &str) -> FuncRegistration {
    FuncRegistration::new(name)
        .with_namespace(FnNamespace::Internal)
        .with_volatility(true)
        .with_params_info(params)
        .with_comments([doc_comment(doc)])
}

/// Plain text as the `///` doc-comment block Rhai's metadata expects.
pub(crate) fn doc_comment(doc: &str) -> String {
    let lines: Vec<String> = doc.lines().map(|l| format!("/// {}", l.trim())).collect();
    lines.join("\n")
}

/// A host function with parameter names and a doc for `autorun api`, registered into the
/// engine's global namespace exactly as `Engine::register_fn` would (same namespace,
/// purity and volatility). The types, the return type included, are read from the
/// closure's signature, so only the names are given: one per parameter, in order, without
/// the `&mut` receiver of a method or property. Used by every global registration
/// (`outcome.rs`, `log.rs`, `job.rs`, `test_obj.rs`).
pub(crate) struct HostFn<'a> {
    name: &'a str,
    reg: FuncRegistration,
    params: &'a [&'a str],
    doc: &'a str,
}

impl<'a> HostFn<'a> {
    /// The function or method `name`.
    pub(crate) fn new(name: &'a str, params: &'a [&'a str], doc: &'a str) -> Self {
        Self::with(name, FuncRegistration::new(name), params, doc)
    }

    /// The getter of the property `prop` (`value.prop`).
    pub(crate) fn getter(prop: &'a str, doc: &'a str) -> Self {
        Self::with(prop, FuncRegistration::new_getter(prop), &[], doc)
    }

    /// The setter of the property `prop` (`value.prop = value`).
    pub(crate) fn setter(prop: &'a str, doc: &'a str) -> Self {
        Self::with(prop, FuncRegistration::new_setter(prop), &["value"], doc)
    }

    fn with(name: &'a str, reg: FuncRegistration, params: &'a [&'a str], doc: &'a str) -> Self {
        HostFn {
            name,
            reg,
            params,
            doc,
        }
    }

    /// Registers `func` with these names and this doc.
    pub(crate) fn register<A, const N: usize, const X: bool, R, const F: bool, FN>(
        self,
        engine: &mut Engine,
        func: FN,
    ) where
        A: 'static,
        // Rhai's `Variant` (not exported), which every such type implements.
        R: Any + Clone + Send + Sync,
        FN: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        // `name: type` per parameter, then the return type: what `register_fn` records as
        // `_: type`, with the names filled in.
        let mut names = self.params.iter();
        let mut info: Vec<String> = FN::param_names()
            .iter()
            .map(|ty| match ty.strip_prefix("&mut ") {
                Some(receiver) => format!("this: &mut {}", engine.map_type_name(receiver)),
                None => format!(
                    "{}: {}",
                    names.next().copied().unwrap_or("_"),
                    engine.map_type_name(ty)
                ),
            })
            .collect();
        debug_assert!(
            names.next().is_none() && !info.iter().any(|p| p.starts_with("_:")),
            "{}: parameter names {:?} do not match {info:?}",
            self.name,
            self.params,
        );
        if FN::return_type() != TypeId::of::<()>() {
            info.push(engine.map_type_name(FN::return_type_name()).to_string());
        }
        self.reg
            .with_params_info(info)
            .with_comments([doc_comment(self.doc)])
            .register_into_engine(engine, func);
    }
}
