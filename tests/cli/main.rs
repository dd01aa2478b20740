//! The CLI integration tests: one binary, one module per area.

mod examples;
mod introspect;
mod jobs;
mod lifecycle;
mod outcomes;
mod results;
mod support;
