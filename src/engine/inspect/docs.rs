//! What the engine's metadata cannot say. Host functions carry their own parameter names
//! and docs (`HostFn` and `func` in `engine::api::register`), and host types their doc
//! (`CustomType::build`), so this only holds Rhai's `print` and `debug` statements, which
//! are not functions, and the order of the modules in the listing.

use super::api::{ApiFn, FnKind, Param};

/// Names and doc of one function.
pub(super) struct Entry {
    /// The name.
    pub(super) name: &'static str,
    /// Parameter names by position.
    pub(super) params: &'static [&'static str],
    /// Plain text.
    pub(super) doc: &'static str,
}

const fn e(name: &'static str, params: &'static [&'static str], doc: &'static str) -> Entry {
    Entry { name, params, doc }
}

/// Functions scripts call that are not registered functions: Rhai's `print` and `debug`
/// statements, whose output autorun routes into the test's logs.
pub(super) const EXTRA_GLOBALS: &[Entry] = &[
    e("print", &["value"], "Writes `value` as a line to the test's INFO log (Rhai's `print`, routed by autorun)."),
    e("debug", &["value"], "Writes `value` and its line number to the test's DEBUG log (Rhai's `debug`, routed by autorun)."),
];

/// An `EXTRA_GLOBALS` entry as an `ApiFn`.
pub(super) fn extra(entry: &Entry) -> ApiFn {
    ApiFn {
        name: entry.name.to_string(),
        kind: FnKind::Function,
        params: entry
            .params
            .iter()
            .map(|n| Param {
                name: n.to_string(),
                ty: "?".into(),
            })
            .collect(),
        returns: None,
        doc: entry.doc.to_string(),
    }
}

/// Where a host module goes in the listing: the order of the README's table.
pub(super) fn module_rank(name: &str) -> usize {
    const ORDER: &[&str] = &["utils", "fs", "json", "log", "assert", "stats"];
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}
