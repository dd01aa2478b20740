//! autorun: runs system tests and benchmarks written as Rhai scripts, with the autotest
//! client lifecycle, arguments, keyvals, perf values, constraints and status log.

pub mod engine;
pub mod results;
pub mod status;
