//! `autorun check SCRIPT... [KEY=VALUE]...`: compile each script, read a test's constants
//! in the sandbox, show what it defines and accepts, and validate the arguments against
//! it as `autorun run` would. Nothing runs and nothing is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{describe, idle_host, is_unknown, params_text, report, Described};
use crate::args::{self, ArgValue, HOST_PARAMS};
use crate::error::{Error, EXIT_OK, EXIT_USAGE};

/// Width of the labels, so that values line up.
const LABEL: usize = 13;

/// Runs `check` on the command line's words and returns the exit code.
pub(super) fn run(words: &[String]) -> Result<i32, Error> {
    let (scripts, arg_words) = split_words(words, |p| p.is_file())?;
    let pairs = (!arg_words.is_empty()).then(|| args::parse_pairs(&arg_words));
    let mut ok = true;
    if let Some(Err(e)) = &pairs {
        eprintln!("autorun: {e}");
        ok = false;
    }
    let host = idle_host();
    let mut first = true;
    for path in &scripts {
        let d = match describe(&host, path) {
            Ok(d) => d,
            Err(e) => {
                report(&e);
                ok = false;
                continue;
            }
        };
        if let Some(invalid) = &d.constants.invalid {
            eprintln!("autorun: {}: {invalid}", path.display());
            ok = false;
        }
        let verdict = pairs.as_ref().map(|p| arguments(&d, p));
        if let Some(Err(e)) = &verdict {
            eprintln!("autorun: {}: {e}", path.display());
            ok = false;
        }
        if !first {
            println!();
        }
        first = false;
        print!("{}", render(&d, verdict.as_ref()));
    }
    Ok(if ok { EXIT_OK } else { EXIT_USAGE })
}

/// Splits the words into scripts and `KEY=VALUE` arguments. An existing file is a
/// script even with a `=` in its name; then a word with `=` is an argument (so
/// `control=x.rhai` is one); then a `.rhai` word is a script, which may be missing.
fn split_words(
    words: &[String],
    is_file: impl Fn(&Path) -> bool,
) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
    let mut scripts = Vec::new();
    let mut args = Vec::new();
    for word in words {
        if is_file(Path::new(word)) {
            scripts.push(PathBuf::from(word));
        } else if word.contains('=') {
            args.push(word.clone());
        } else if word.ends_with(".rhai") {
            scripts.push(PathBuf::from(word));
        } else {
            return Err(Error::Other(format!(
                "check: '{word}' is neither a script (a .rhai or existing file) nor a KEY=VALUE argument"
            )));
        }
    }
    if scripts.is_empty() {
        return Err(Error::Other(
            "check: no script given; usage: autorun check SCRIPT... [KEY=VALUE]...".into(),
        ));
    }
    Ok((scripts, args))
}

/// The arguments' verdict for one script: `Ok(text)` to show, or the error.
fn arguments(
    d: &Described,
    pairs: &Result<Vec<(String, ArgValue)>, String>,
) -> Result<String, String> {
    let pairs = pairs.as_ref().map_err(Clone::clone)?;
    if !d.is_test {
        return Ok("ok (a control file receives them as `args`; not checked)".into());
    }
    args::validate(pairs.iter().map(|(k, _)| k.as_str()), &d.params, d.open)?;
    Ok("ok".into())
}

/// The report for one script, ending in a newline.
fn render(d: &Described, verdict: Option<&Result<String, String>>) -> String {
    let mut out = format!("{}\n", d.path.display());
    let mut line = |label: &str, value: &str| {
        let mut lines = value.lines();
        let first = lines.next().unwrap_or("");
        let head = format!("  {:<LABEL$}{first}", format!("{label}: "));
        let _ = writeln!(out, "{}", head.trim_end());
        for more in lines {
            let _ = writeln!(out, "{}", format!("  {:<LABEL$}{more}", "").trim_end());
        }
    };
    let description = if d.description.is_empty() {
        "(none: add a //! block, or a /// comment on run_once)"
    } else {
        &d.description
    };
    if !d.is_test {
        line(
            "kind",
            "control file (defines neither run_once nor execute)",
        );
        line("description", description);
        if let Some(v) = verdict {
            line("arguments", &first_line(v));
        }
        return out;
    }
    line("kind", "test");
    line("description", description);
    let c = &d.constants;
    let known = |name: &str, value: String| {
        if is_unknown(d, name) {
            "unknown".to_string()
        } else {
            value
        }
    };
    // PRESERVE_SRCDIR only matters with VERSION, and is rare: it rides on that line.
    let mut version = known("VERSION", c.consts.version.to_string());
    if c.consts.preserve_srcdir {
        version.push_str(", PRESERVE_SRCDIR = true");
    }
    line("VERSION", &version);
    let tags = if c.consts.tags.is_empty() {
        "none".to_string()
    } else {
        c.consts.tags.join(", ")
    };
    line("TAGS", &known("TAGS", tags));
    let timeout = c.consts.timeout.map_or("none".into(), |t| format!("{t} s"));
    line("TIMEOUT", &known("TIMEOUT", timeout));
    if let Some(note) = &c.note {
        line(
            "note",
            &format!("the top level does more than compute constants, so the ones it had not declared yet are unknown:\n{note}"),
        );
    }
    let sigs: Vec<String> = d.functions.iter().map(|f| f.signature()).collect();
    line("functions", &sigs.join("\n"));
    line(
        "parameters",
        &params_text(d, "any key (a function declares args)"),
    );
    line("host params", &sorted_host_params());
    if let Some(v) = verdict {
        line("arguments", &first_line(v));
    }
    out
}

/// The host parameters, sorted as the validation message sorts them.
fn sorted_host_params() -> String {
    let mut host: Vec<&str> = HOST_PARAMS.to_vec();
    host.sort_unstable();
    host.join(", ")
}

/// The verdict's first line: the accepted keys that follow an error are shown above.
fn first_line(v: &Result<String, String>) -> String {
    let text = match v {
        Ok(t) | Err(t) => t,
    };
    text.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::inspect::Constants;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_split_into_scripts_and_arguments() {
        let exists = |p: &Path| p == Path::new("odd=name");
        let (s, a) =
            split_words(&words(&["a.rhai", "x=1", "odd=name", "c=b.rhai"]), exists).expect("valid");
        assert_eq!(s, vec![PathBuf::from("a.rhai"), PathBuf::from("odd=name")]);
        assert_eq!(a, words(&["x=1", "c=b.rhai"]));
        let err = split_words(&words(&["a.rhai", "oops"]), |_| false).unwrap_err();
        assert!(err.to_string().contains("'oops' is neither"), "{err}");
        assert!(split_words(&words(&["x=1"]), |_| false).is_err());
    }

    #[test]
    fn a_test_report_lists_constants_functions_and_parameters() {
        let mut constants = Constants::default();
        constants.consts.version = 2;
        constants.consts.tags = vec!["quick".into()];
        constants.unknown = vec!["TIMEOUT"];
        let d = Described {
            name: "t".into(),
            path: "t.rhai".into(),
            is_test: true,
            description: "Does it.\nTwice.".into(),
            constants,
            functions: vec![super::super::Lifecycle {
                name: "run_once".into(),
                params: vec!["seconds".into()],
                doc: String::new(),
            }],
            params: ["seconds".to_string()].into(),
            open: false,
        };
        let text = render(&d, Some(&Err("unknown parameter 'x'\naccepted: …".into())));
        let expected = "t.rhai\n  kind:        test\n  description: Does it.\n               Twice.\n  VERSION:     2\n  TAGS:        quick\n  TIMEOUT:     unknown\n  functions:   run_once(seconds)\n  parameters:  seconds\n";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.ends_with("  arguments:   unknown parameter 'x'\n"),
            "{text}"
        );
    }
}
