//! State that host functions share with the runner: the cancellation state (Ctrl-C and
//! the test's deadline), the log sink of the test that is running, and the process
//! groups started in the background, which die with the test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rhai::{Dynamic, EvalAltResult, Position};

use crate::status::{Level, LogSink};

/// Why a running script must stop now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The user pressed Ctrl-C.
    Interrupted,
    /// The test's time budget of this many seconds ran out.
    Timeout(u64),
}

/// The token carried by `ErrorTerminated` when a script is stopped by the host.
pub(crate) const INTERRUPT_TOKEN: &str = "autorun:interrupted";
/// Prefix of the token for a timeout; the seconds follow.
pub(crate) const TIMEOUT_TOKEN: &str = "autorun:timeout:";

impl Stop {
    /// The Rhai error that unwinds the script; `failure.rs` maps it back to a status.
    pub(crate) fn into_error(self) -> Box<EvalAltResult> {
        let token = match self {
            Stop::Interrupted => INTERRUPT_TOKEN.to_string(),
            Stop::Timeout(secs) => format!("{TIMEOUT_TOKEN}{secs}"),
        };
        EvalAltResult::ErrorTerminated(Dynamic::from(token), Position::NONE).into()
    }
}

/// Shared between the engine's callbacks, the host modules and the runner.
pub struct HostCtx {
    interrupted: Arc<AtomicBool>,
    deadline: Mutex<Option<(Instant, u64)>>,
    has_deadline: AtomicBool,
    sink: RwLock<Option<Arc<dyn LogSink>>>,
    background: Mutex<Vec<i32>>,
}

/// How long `sleep` waits between two looks at the cancellation state.
const SLICE: Duration = Duration::from_millis(10);

impl HostCtx {
    /// A context whose interrupt flag is `interrupted` (set by the SIGINT handler).
    pub fn new(interrupted: Arc<AtomicBool>) -> Arc<Self> {
        Arc::new(HostCtx {
            interrupted,
            deadline: Mutex::new(None),
            has_deadline: AtomicBool::new(false),
            sink: RwLock::new(None),
            background: Mutex::new(Vec::new()),
        })
    }

    /// The flag the SIGINT handler sets.
    pub fn interrupt_flag(&self) -> &Arc<AtomicBool> {
        &self.interrupted
    }

    /// Starts (or with `None`, clears) the time budget of the running test.
    pub fn set_timeout(&self, secs: Option<u64>) {
        let mut deadline = self.deadline.lock().expect("deadline lock poisoned");
        *deadline = secs.map(|s| (Instant::now() + Duration::from_secs(s), s));
        self.has_deadline
            .store(deadline.is_some(), Ordering::SeqCst);
    }

    /// `Err` when the script must stop: Ctrl-C was pressed or the deadline passed.
    pub fn check(&self) -> Result<(), Stop> {
        if self.interrupted.load(Ordering::Relaxed) {
            return Err(Stop::Interrupted);
        }
        if self.has_deadline.load(Ordering::Relaxed) {
            if let Some((at, secs)) = *self.deadline.lock().expect("deadline lock poisoned") {
                if Instant::now() >= at {
                    return Err(Stop::Timeout(secs));
                }
            }
        }
        Ok(())
    }

    /// Sleeps for `dur`, returning early with `Err` on Ctrl-C or timeout.
    pub fn sleep(&self, dur: Duration) -> Result<(), Stop> {
        let end = Instant::now() + dur;
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep(SLICE.min(end - now));
        }
    }

    /// Routes script log output to `sink` (the running test's debug logs), or nowhere.
    pub fn set_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        *self.sink.write().expect("sink lock poisoned") = sink;
    }

    /// Writes a message to the current sink; without one, to the developer trace.
    pub fn log(&self, level: Level, message: &str) {
        match &*self.sink.read().expect("sink lock poisoned") {
            Some(sink) => sink.log(level, message),
            None => tracing::info!(target: "script", level = level.as_str(), "{message}"),
        }
    }

    /// Remembers a background process group so that it dies with the test.
    pub fn track_process_group(&self, pgid: i32) {
        self.background
            .lock()
            .expect("background lock poisoned")
            .push(pgid);
    }

    /// Kills every background process group started since the last call.
    pub fn kill_background(&self) {
        self.kill_background_since(0);
    }

    fn kill_background_since(&self, mark: usize) {
        let groups: Vec<i32> = {
            let mut all = self.background.lock().expect("background lock poisoned");
            let keep = mark.min(all.len());
            all.split_off(keep)
        };
        for pgid in groups {
            // SAFETY: killpg only sends a signal; a group that already exited yields ESRCH.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }

    /// Remembers the running test's sink, deadline and background processes, so that a
    /// nested test (a subtest) can take over and `restore` can give them back.
    pub fn save(&self) -> Saved {
        Saved {
            sink: self.sink.read().expect("sink lock poisoned").clone(),
            deadline: *self.deadline.lock().expect("deadline lock poisoned"),
            background: self
                .background
                .lock()
                .expect("background lock poisoned")
                .len(),
        }
    }

    /// Kills the background processes started since `save`, and gives back the saved
    /// sink and deadline.
    pub fn restore(&self, saved: Saved) {
        self.kill_background_since(saved.background);
        *self.sink.write().expect("sink lock poisoned") = saved.sink;
        let mut deadline = self.deadline.lock().expect("deadline lock poisoned");
        *deadline = saved.deadline;
        self.has_deadline
            .store(deadline.is_some(), Ordering::SeqCst);
    }
}

/// What `HostCtx::save` remembers of the running test.
pub struct Saved {
    sink: Option<Arc<dyn LogSink>>,
    deadline: Option<(Instant, u64)>,
    background: usize,
}
