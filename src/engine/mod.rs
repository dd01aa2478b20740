//! The Rhai host: the only module that names `rhai::`.

pub mod api;
pub mod ctx;
