//! How a script's error becomes a test outcome. Outcome functions (`fail`, `skip`, …) throw
//! a map `#{kind, message}`; anything else a script raises is "unhandled" and the
//! lifecycle decides whether that is FAIL or ERROR from the phase it happened in. This is
//! the one place that reads `EvalAltResult`.

use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::ctx::{INTERRUPT_TOKEN, TIMEOUT_TOKEN};
use crate::status::Status;

/// What kind of failure a script raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// A classified outcome (`fail`, `error`, `skip`, `warn`, `assert`).
    Outcome(Status),
    /// `fail_retry`: FAIL, but the loop may retry the iteration.
    FailRetry,
    /// `abort`: the job must stop.
    Abort,
    /// Any other error; FAIL inside the test body, ERROR elsewhere.
    Unhandled,
    /// The test's time budget ran out after this many seconds.
    Timeout(u64),
    /// Ctrl-C.
    Interrupted,
}

/// A script failure, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The classification.
    pub kind: FailureKind,
    /// The status-log message: first line is the reason, further lines are context.
    pub message: String,
    /// `(line, column)` of the innermost error, when known.
    pub position: Option<(usize, usize)>,
}

/// The outcome kinds a script can throw, and the status each one means.
pub const OUTCOME_KINDS: &[(&str, Option<Status>)] = &[
    ("TestFail", Some(Status::Fail)),
    ("TestError", Some(Status::Error)),
    ("TestNA", Some(Status::TestNa)),
    ("TestWarn", Some(Status::Warn)),
    ("TestFailRetry", None),
    ("JobError", None),
];

impl Failure {
    /// A failure of the given kind with a plain message.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            position: None,
        }
    }

    /// The status this failure gives the test when raised in a body phase (`in_body`:
    /// warmup, run_once, execute) or elsewhere.
    pub fn status(&self, in_body: bool) -> Status {
        match self.kind {
            FailureKind::Outcome(s) => s,
            FailureKind::FailRetry => Status::Fail,
            FailureKind::Abort | FailureKind::Interrupted => Status::Abort,
            FailureKind::Timeout(_) => Status::Error,
            FailureKind::Unhandled if in_body => Status::Fail,
            FailureKind::Unhandled => Status::Error,
        }
    }

    /// The outcome name a script sees in `e.kind` when it catches this failure.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FailureKind::Outcome(Status::Fail) => "TestFail",
            FailureKind::Outcome(Status::TestNa) => "TestNA",
            FailureKind::Outcome(Status::Warn) => "TestWarn",
            FailureKind::Outcome(_) => "TestError",
            FailureKind::FailRetry => "TestFailRetry",
            FailureKind::Abort => "JobError",
            FailureKind::Unhandled => "Unhandled",
            FailureKind::Timeout(_) => "Timeout",
            FailureKind::Interrupted => "Interrupted",
        }
    }

    /// Decodes a Rhai error raised while running `source` (the script path, for messages).
    pub fn from_rhai(err: &EvalAltResult, source: &str) -> Self {
        let mut frames = Vec::new();
        let mut inner = err;
        while let EvalAltResult::ErrorInFunctionCall(name, _, next, pos) = inner {
            frames.push(format!("  in call to '{name}' at {}", at(source, *pos)));
            inner = next;
        }
        let position = position_of(inner.position());
        match inner {
            EvalAltResult::ErrorRuntime(value, _) => {
                if let Some(f) = decode_outcome(value, position) {
                    return f;
                }
            }
            EvalAltResult::ErrorTerminated(token, _) => {
                let token = token.to_string();
                if token == INTERRUPT_TOKEN {
                    return Failure::new(FailureKind::Interrupted, "Interrupted by Ctrl-C");
                }
                if let Some(secs) = token.strip_prefix(TIMEOUT_TOKEN) {
                    let secs = secs.parse().unwrap_or(0);
                    return Failure::new(
                        FailureKind::Timeout(secs),
                        format!("Test timeout expired after {secs} s"),
                    );
                }
            }
            _ => {}
        }
        let (kind, text) = describe(inner);
        let mut message = format!(
            "Unhandled {kind}: {text} at {}",
            at(source, inner.position())
        );
        for frame in frames.iter().rev() {
            message.push('\n');
            message.push_str(frame);
        }
        Failure {
            kind: FailureKind::Unhandled,
            message,
            position,
        }
    }

    /// The value a script's `catch (e)` would see for this failure: `#{kind, message}`.
    pub fn to_map(&self) -> Map {
        let mut map = Map::new();
        map.insert("kind".into(), self.kind_name().into());
        map.insert("message".into(), self.message.clone().into());
        map
    }
}

/// Builds the Rhai error an outcome function throws: `#{kind, message}`.
pub fn outcome_error(kind: &str, message: &str) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("kind".into(), kind.into());
    map.insert("message".into(), message.into());
    EvalAltResult::ErrorRuntime(map.into(), Position::NONE).into()
}

fn decode_outcome(value: &Dynamic, position: Option<(usize, usize)>) -> Option<Failure> {
    let map = value.read_lock::<Map>()?;
    let kind = map.get("kind")?.clone().into_string().ok()?;
    let message = map
        .get("message")
        .map(|m| m.to_string())
        .unwrap_or_default();
    let kind = match OUTCOME_KINDS.iter().find(|(k, _)| *k == kind)? {
        (_, Some(status)) => FailureKind::Outcome(*status),
        ("TestFailRetry", None) => FailureKind::FailRetry,
        _ => FailureKind::Abort,
    };
    Some(Failure {
        kind,
        message,
        position,
    })
}

fn position_of(pos: Position) -> Option<(usize, usize)> {
    Some((pos.line()?, pos.position().unwrap_or(0)))
}

fn at(source: &str, pos: Position) -> String {
    match position_of(pos) {
        Some((line, col)) => format!("{source}:{line}:{col}"),
        None => source.to_string(),
    }
}

/// A Python-like class name for an error, and its text without the position suffix.
fn describe(err: &EvalAltResult) -> (String, String) {
    use EvalAltResult as E;
    let kind = match err {
        E::ErrorRuntime(value, _) => {
            if let Some(kind) = value
                .read_lock::<Map>()
                .and_then(|m| m.get("kind").map(|k| k.to_string()))
            {
                let msg = value
                    .read_lock::<Map>()
                    .and_then(|m| m.get("message").map(|k| k.to_string()))
                    .unwrap_or_default();
                return (kind, msg);
            }
            return ("RuntimeError".into(), value.to_string());
        }
        E::ErrorArithmetic(..) => "ArithmeticError",
        E::ErrorVariableNotFound(..) | E::ErrorForbiddenVariable(..) => "VariableNotFound",
        E::ErrorFunctionNotFound(..) => "FunctionNotFound",
        E::ErrorPropertyNotFound(..) | E::ErrorIndexNotFound(..) => "KeyError",
        E::ErrorArrayBounds(..) | E::ErrorStringBounds(..) | E::ErrorBitFieldBounds(..) => {
            "IndexError"
        }
        E::ErrorMismatchDataType(..)
        | E::ErrorMismatchOutputType(..)
        | E::ErrorIndexingType(..)
        | E::ErrorFor(..)
        | E::ErrorDotExpr(..)
        | E::ErrorUnboundThis(..) => "TypeError",
        E::ErrorTooManyOperations(..)
        | E::ErrorTooManyVariables(..)
        | E::ErrorTooManyModules(..)
        | E::ErrorStackOverflow(..)
        | E::ErrorDataTooLarge(..) => "LimitError",
        E::ErrorModuleNotFound(..) | E::ErrorInModule(..) => "ModuleError",
        E::ErrorParsing(..) => "SyntaxError",
        E::ErrorAssignmentToConstant(..) | E::ErrorNonPureMethodCallOnConstant(..) => {
            "ConstantError"
        }
        _ => "Error",
    };
    // EvalAltResult is not Clone, so strip the " (line L, position C)" suffix from its text.
    let text = err.to_string();
    let suffix = format!(" ({})", err.position());
    let text = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    (kind.to_string(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str) -> Failure {
        let mut engine = rhai::Engine::new();
        engine.register_fn("fail", |m: &str| -> Result<(), Box<EvalAltResult>> {
            Err(outcome_error("TestFail", m))
        });
        let err = engine.run(script).expect_err("script must fail");
        Failure::from_rhai(&err, "t.rhai")
    }

    #[test]
    fn outcome_maps_keep_their_kind_and_message() {
        let f = run("fn f() { fail(\"boom\") } f()");
        assert_eq!(f.kind, FailureKind::Outcome(Status::Fail));
        assert_eq!(f.message, "boom");
        assert_eq!(f.position, Some((1, 10)));
    }

    #[test]
    fn thrown_outcome_maps_from_plain_rhai_are_decoded() {
        let f = run(r#"throw #{ kind: "TestNA", message: "no device" }"#);
        assert_eq!(f.kind, FailureKind::Outcome(Status::TestNa));
        assert_eq!(f.message, "no device");
        let f = run(r#"throw #{ kind: "TestFailRetry", message: "flaky" }"#);
        assert_eq!(f.kind, FailureKind::FailRetry);
    }

    #[test]
    fn other_errors_are_unhandled_with_class_and_position() {
        let f = run("let x = 1;\nlet y = x / 0;");
        assert_eq!(f.kind, FailureKind::Unhandled);
        assert_eq!(
            f.message,
            "Unhandled ArithmeticError: Division by zero: 1 / 0 at t.rhai:2:11"
        );
        let f = run("throw \"oops\"");
        assert_eq!(f.message, "Unhandled RuntimeError: oops at t.rhai:1:1");
    }

    #[test]
    fn unhandled_errors_in_functions_list_the_call_chain() {
        let f = run("fn inner() { undefined_fn() }\nfn outer() { inner() }\nouter()");
        assert!(
            f.message.starts_with(
                "Unhandled FunctionNotFound: Function not found: undefined_fn () at t.rhai:1:14"
            ),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("\n  in call to 'inner' at t.rhai:2:14"),
            "{}",
            f.message
        );
    }

    #[test]
    fn status_depends_on_phase_only_for_unhandled_errors() {
        let f = Failure::new(FailureKind::Unhandled, "x");
        assert_eq!(f.status(true), Status::Fail);
        assert_eq!(f.status(false), Status::Error);
        let f = Failure::new(FailureKind::Outcome(Status::Warn), "x");
        assert_eq!(f.status(false), Status::Warn);
        assert_eq!(
            Failure::new(FailureKind::Timeout(3), "").status(true),
            Status::Error
        );
    }
}
