//! Where the REPL's lines come from: any `BufRead` (stdin when it is not a terminal,
//! tests), or rustyline on a terminal, with history kept in a file and tab completion.

use std::io::BufRead;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use super::complete::{ReplHelper, Words};

/// What reading a line gave.
pub(crate) enum Read {
    /// A line, without its newline.
    Line(String),
    /// Ctrl-C at the prompt: drop what was typed so far.
    Interrupted,
    /// End of input (Ctrl-D, or the end of a pipe).
    Eof,
}

/// A source of input lines.
pub(crate) trait LineSource {
    /// Reads one line, showing `prompt` when the source is interactive.
    fn read(&mut self, prompt: &str) -> Read;
    /// Remembers a complete entry in the history.
    fn remember(&mut self, _entry: &str) {}
    /// Whether this source completes words (and so wants `set_words` before prompts).
    fn completes(&self) -> bool {
        false
    }
    /// The words to complete from at the next prompt.
    fn set_words(&mut self, _words: Words) {}
}

/// Lines from a reader, without prompts or history: scripted sessions and tests.
pub(crate) struct Piped<R> {
    reader: R,
}

impl<R: BufRead> Piped<R> {
    /// Reads lines from `reader`.
    pub(crate) fn new(reader: R) -> Self {
        Piped { reader }
    }
}

impl<R: BufRead> LineSource for Piped<R> {
    fn read(&mut self, _prompt: &str) -> Read {
        let mut line = String::new();
        loop {
            match self.reader.read_line(&mut line) {
                Ok(0) => return Read::Eof,
                Ok(_) => {
                    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
                    return Read::Line(trimmed.strip_suffix('\r').unwrap_or(trimmed).into());
                }
                // A signal (Ctrl-C sent to the process) interrupted the read; the flag it
                // set is cleared before the next evaluation, so just read on.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("cannot read the REPL's input: {e}");
                    return Read::Eof;
                }
            }
        }
    }
}

/// A terminal: rustyline with history and completion.
pub(crate) struct Terminal {
    editor: Editor<ReplHelper, FileHistory>,
    history: Option<PathBuf>,
}

impl Terminal {
    /// Opens the line editor and loads the history file, if there is one.
    pub(crate) fn new() -> Result<Self, String> {
        let config = Config::builder()
            .auto_add_history(false)
            .history_ignore_space(true)
            .completion_type(CompletionType::List)
            .max_history_size(2000)
            .map_err(|e| format!("cannot configure the line editor: {e}"))?
            .build();
        let mut editor =
            Editor::with_config(config).map_err(|e| format!("cannot open the line editor: {e}"))?;
        editor.set_helper(Some(ReplHelper::default()));
        let history = history_path();
        if let Some(path) = &history {
            // A missing file is the first session; anything else only loses history.
            if path.exists() {
                if let Err(e) = editor.load_history(path) {
                    eprintln!("warning: cannot read REPL history {}: {e}", path.display());
                }
            }
        }
        Ok(Terminal { editor, history })
    }
}

impl LineSource for Terminal {
    fn read(&mut self, prompt: &str) -> Read {
        match self.editor.readline(prompt) {
            Ok(line) => Read::Line(line),
            Err(ReadlineError::Interrupted) => Read::Interrupted,
            Err(ReadlineError::Eof) => Read::Eof,
            Err(e) => {
                eprintln!("autorun: cannot read from the terminal: {e}");
                Read::Eof
            }
        }
    }

    fn remember(&mut self, entry: &str) {
        let _ = self.editor.add_history_entry(entry);
    }

    fn completes(&self) -> bool {
        true
    }

    fn set_words(&mut self, words: Words) {
        if let Some(helper) = self.editor.helper_mut() {
            helper.words = words;
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let Some(path) = &self.history else {
            return;
        };
        let saved = match path.parent() {
            Some(dir) => std::fs::create_dir_all(dir).map_err(|e| e.to_string()),
            None => Ok(()),
        }
        .and_then(|()| self.editor.save_history(path).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            eprintln!(
                "warning: cannot save REPL history to {}: {e}",
                path.display()
            );
        }
    }
}

/// `$XDG_STATE_HOME/autorun/history`, else `~/.local/state/autorun/history`; `None`
/// when neither variable gives an absolute directory.
pub(crate) fn history_path() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_STATE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".local/state")))
        .map(|state| state.join("autorun/history"))
}
