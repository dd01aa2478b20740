//! The CLI integration tests: one binary, one module per area.

mod examples;
mod introspect;
mod jobs;
mod lifecycle;
mod outcomes;
mod repl;
mod results;
mod support;
