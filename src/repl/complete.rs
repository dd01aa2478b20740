//! Tab completion at the prompt: commands, host functions (`sleep`, `utils::run`), the
//! script's and the prompt's functions and variables, and `test.` members. The choice of
//! candidates is a pure function of the known words and the line, so it is tested
//! without a terminal; `ReplHelper` only hands it to rustyline.

use std::collections::BTreeSet;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::commands::COMMANDS;

/// What can be completed right now.
#[derive(Debug, Clone, Default)]
pub(crate) struct Words {
    /// Names usable on their own: variables, functions, `module::function`s.
    pub(crate) names: BTreeSet<String>,
    /// What may follow `test.`: properties, methods, the script's own state.
    pub(crate) members: BTreeSet<String>,
    /// The script's functions, for `:call`.
    pub(crate) functions: BTreeSet<String>,
}

/// Characters that make up the word being completed (`utils::ru`, `test.wri`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == ':' || c == '.'
}

/// Where the completed word starts, and the candidates that replace it.
pub(crate) fn candidates(words: &Words, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let pos = before.len();
    if before.trim_start().starts_with(':') {
        return command_candidates(words, before);
    }
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !is_word_char(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    if word.is_empty() {
        return (pos, Vec::new());
    }
    if let Some(member) = word.strip_prefix("test.") {
        let found = words
            .members
            .iter()
            .filter(|m| m.starts_with(member))
            .map(|m| format!("test.{m}"))
            .collect();
        return (start, found);
    }
    let found = words
        .names
        .iter()
        .filter(|n| n.starts_with(word))
        .cloned()
        .collect();
    (start, found)
}

/// `:com` completes a command; `:call fn` completes a script function.
fn command_candidates(words: &Words, before: &str) -> (usize, Vec<String>) {
    let start = before.len() - before.trim_start().len();
    let typed = &before[start..];
    match typed.split_once(char::is_whitespace) {
        None => {
            let found = COMMANDS
                .iter()
                .map(|(name, ..)| *name)
                .filter(|c| c.starts_with(typed))
                .map(String::from)
                .collect();
            (start, found)
        }
        Some((":call", rest)) if !rest.trim_start().contains(char::is_whitespace) => {
            let name = rest.trim_start();
            let at = before.len() - name.len();
            let found = words
                .functions
                .iter()
                .filter(|f| f.starts_with(name))
                .cloned()
                .collect();
            (at, found)
        }
        Some(_) => (before.len(), Vec::new()),
    }
}

/// The rustyline helper: completion only (no hints, highlighting or validation, since
/// incomplete input is detected by compiling it).
#[derive(Default)]
pub(crate) struct ReplHelper {
    /// The words completion chooses from; refreshed before each prompt.
    pub(crate) words: Words,
}

impl Completer for ReplHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(candidates(&self.words, line, pos))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        Words {
            names: set(&["sleep", "utils::run", "utils::run_x", "count"]),
            members: set(&["write_perf_keyval", "outputdir", "slept"]),
            functions: set(&["initialize", "run_once"]),
        }
    }

    #[test]
    fn host_functions_and_modules_complete() {
        assert_eq!(
            candidates(&words(), "let r = utils::ru", 17),
            (8, vec!["utils::run".into(), "utils::run_x".into()])
        );
        assert_eq!(candidates(&words(), "sl", 2), (0, vec!["sleep".into()]));
    }

    #[test]
    fn test_members_complete_after_the_dot() {
        assert_eq!(
            candidates(&words(), "print(test.wr", 13),
            (6, vec!["test.write_perf_keyval".into()])
        );
    }

    #[test]
    fn commands_and_call_targets_complete() {
        let (at, found) = candidates(&words(), ":it", 3);
        assert_eq!((at, found), (0, vec![":iterate".to_string()]));
        assert_eq!(
            candidates(&words(), ":call ru", 8),
            (6, vec!["run_once".into()])
        );
        assert!(candidates(&words(), ":call run_once se", 17).1.is_empty());
    }
}
