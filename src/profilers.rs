//! The profiler manager the execute loop talks to (behaviour §6.1). No profilers are built
//! in yet, so `present()` is false and the profiling run is skipped, as in the original
//! with none added; `add` reports `<name> not present` like the original's
//! ProfilerNotPresentError.

/// The job's profilers.
#[derive(Debug, Default)]
pub struct ProfilerManager {
    names: Vec<String>,
    active: bool,
}

impl ProfilerManager {
    /// Adds a profiler by name; none exist yet, so this is always an error.
    pub fn add(&mut self, name: &str) -> Result<(), String> {
        Err(format!("{name} not present"))
    }

    /// Removes every profiler called `name`.
    pub fn delete(&mut self, name: &str) {
        self.names.retain(|n| n != name);
    }

    /// The names of the profilers added, in order.
    pub fn list(&self) -> &[String] {
        &self.names
    }

    /// Whether any profiler was added.
    pub fn present(&self) -> bool {
        !self.names.is_empty()
    }

    /// Whether profilers are present and started.
    pub fn active(&self) -> bool {
        self.present() && self.active
    }

    /// Starts every profiler.
    pub fn start(&mut self) {
        self.active = true;
    }

    /// Stops every profiler.
    pub fn stop(&mut self) {
        self.active = false;
    }
}
