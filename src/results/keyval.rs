//! Keyval files: `key=value` lines, appended in blocks that are sorted by key.
//!
//! Three files use this format: the job's `keyval`, each test's `<subdir>/keyval`, and
//! each test's `results/keyval`. In `results/keyval` every key carries an `{attr}` or
//! `{perf}` type tag and every write ends with one empty line, which closes one TKO
//! iteration (behaviour §2.4), even when both blocks are empty:
//!
//! ```text
//! count{perf}=1
//! throughput{perf}=1.5
//!
//! iter_str{attr}=i1
//! mode{attr}=perf
//!
//! ```
//!
//! Writing: keys match `[-.\w]+` (ASCII letters, digits, `_`, `-`, `.`) and are written in
//! code-point order, one `key=value\n` line each. Values are text the caller has already
//! rendered (floats through [`format_float`]); a value may not contain a newline. A `#`
//! in a value is written as is but starts a comment when the file is read back, exactly
//! as in the original. The original wrote the keys sorted before a bad key and then
//! raised; autorun checks the whole block first and writes nothing when it is invalid.
//!
//! Reading ([`parse`]): everything from the first `#` of a line is a comment, trailing
//! whitespace is stripped, empty lines are skipped, every other line must be
//! `key=value`; values of the form `^\d+$` are integers, `^(\d+\.)?\d+$` floats, anything
//! else (`-1`, `1e5`, `.5`) stays text. The last of duplicate keys wins.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Renders a float in the shortest form that reads back as the same float (`0.1`, `1.0`, `1e-7`).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        // Rust's Debug says `NaN`; keyvals use the lowercase spelling like `inf`.
        "nan".to_string()
    } else {
        format!("{f:?}")
    }
}

/// The type tag of an iteration keyval, written as a suffix of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// An attribute: `key{attr}=value`.
    Attr,
    /// A performance value: `key{perf}=value`.
    Perf,
}

impl Tag {
    /// The suffix appended to a tagged key: `{attr}` or `{perf}`.
    pub fn suffix(self) -> &'static str {
        match self {
            Tag::Attr => "{attr}",
            Tag::Perf => "{perf}",
        }
    }
}

/// A value read back from a keyval file, converted as `read_keyval` does.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedValue {
    /// All digits (`01` reads as 1).
    Int(i64),
    /// Digits, a dot and digits (`007.25` reads as 7.25).
    Float(f64),
    /// Anything else, including integers too large for i64.
    Str(String),
}

/// Whether `c` may appear in a key: Python 2's ASCII `[-.\w]`.
pub(crate) fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether `key` is a valid untagged key (`^[-.\w]+$`).
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(is_key_char)
}

/// Renders one sorted block of `key=value\n` lines, with `tag`'s suffix on every key.
pub fn format_block(
    entries: &BTreeMap<String, String>,
    tag: Option<Tag>,
) -> Result<String, String> {
    // Every key is checked before any value so that the error names the first bad key.
    check_keys(entries.keys())?;
    let mut out = String::new();
    for (key, value) in entries {
        push_entry(&mut out, key, tag, value)?;
    }
    Ok(out)
}

/// Fails with `Invalid key: <key>` on the first key that is not `[-.\w]+`.
pub fn check_keys<K: AsRef<str>>(keys: impl IntoIterator<Item = K>) -> Result<(), String> {
    match keys.into_iter().find(|k| !is_valid_key(k.as_ref())) {
        Some(key) => Err(format!("Invalid key: {}", key.as_ref())),
        None => Ok(()),
    }
}

/// Appends one `key[{tag}]=value\n` line to `out`; the key must already be checked. A
/// value with a newline would split the record, so it is refused.
pub fn push_entry(
    out: &mut String,
    key: &str,
    tag: Option<Tag>,
    value: &str,
) -> Result<(), String> {
    if value.contains('\n') {
        return Err(format!("Invalid value for {key}: contains a newline"));
    }
    out.push_str(key);
    out.push_str(tag.map_or("", Tag::suffix));
    out.push('=');
    out.push_str(value);
    out.push('\n');
    Ok(())
}

/// Parses an untagged keyval file (`read_keyval(path)`).
pub fn parse(text: &str) -> Result<BTreeMap<String, ParsedValue>, String> {
    parse_with(text, None)
}

/// Parses a file whose every key carries `tag` (`read_keyval(path, type_tag)`); the
/// returned keys have no suffix. As in the original this is not a filter: a line with
/// another tag is an error.
pub fn parse_tagged(text: &str, tag: Tag) -> Result<BTreeMap<String, ParsedValue>, String> {
    parse_with(text, Some(tag))
}

/// What Python 2's `str.rstrip()` removes.
const PY_WHITESPACE: &[char] = &[' ', '\t', '\n', '\r', '\x0b', '\x0c'];

fn parse_with(text: &str, tag: Option<Tag>) -> Result<BTreeMap<String, ParsedValue>, String> {
    let mut out = BTreeMap::new();
    for raw in text.split('\n') {
        let uncommented = raw.find('#').map_or(raw, |at| &raw[..at]);
        let line = uncommented.trim_end_matches(PY_WHITESPACE);
        if line.is_empty() {
            continue;
        }
        let (key, value) =
            split_line(line, tag).ok_or_else(|| format!("Invalid format line: {line}"))?;
        out.insert(key.to_string(), convert(value));
    }
    Ok(out)
}

/// Matches `^([-.\w]+)(\{tag\})?=(.*)$`, returning the key and the value.
fn split_line(line: &str, tag: Option<Tag>) -> Option<(&str, &str)> {
    let key_len = line.find(|c| !is_key_char(c)).unwrap_or(line.len());
    if key_len == 0 {
        return None;
    }
    let (key, rest) = line.split_at(key_len);
    let rest = match tag {
        Some(tag) => rest.strip_prefix(tag.suffix())?,
        None => rest,
    };
    Some((key, rest.strip_prefix('=')?))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn convert(value: &str) -> ParsedValue {
    if all_digits(value) {
        // Python ints are unbounded; text is the lossless fallback.
        return value
            .parse()
            .map_or_else(|_| ParsedValue::Str(value.to_string()), ParsedValue::Int);
    }
    let looks_float = value
        .split_once('.')
        .is_some_and(|(whole, frac)| all_digits(whole) && all_digits(frac));
    if looks_float {
        if let Ok(f) = value.parse() {
            return ParsedValue::Float(f);
        }
    }
    ParsedValue::Str(value.to_string())
}

/// An append-only record file (a keyval file, or any file of whole-line records) kept
/// open while it is written.
#[derive(Debug)]
pub struct KeyvalFile {
    path: PathBuf,
    file: File,
}

impl KeyvalFile {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        Ok(KeyvalFile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one whole record with a single write, then flushes.
    pub fn append(&mut self, text: &str) -> io::Result<()> {
        // One write per record: a run killed mid-way leaves whole records only, and
        // O_APPEND keeps concurrent writers from interleaving inside a record.
        self.file.write_all(text.as_bytes())?;
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn floats_render_shortest_and_always_as_floats() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (1e-7, "1e-7"),
            (1e20, "1e20"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (f, text) in cases {
            assert_eq!(format_float(f), text);
        }
    }

    #[test]
    fn blocks_are_sorted_by_code_point() {
        let entries = map(&[("b", "2"), ("a", "1"), ("_", "u"), ("Z", "z"), ("-", "d")]);
        assert_eq!(
            format_block(&entries, None).unwrap(),
            "-=d\nZ=z\n_=u\na=1\nb=2\n"
        );
    }

    #[test]
    fn tagged_blocks_suffix_every_key() {
        let entries = map(&[("count", "1"), ("throughput", "1.5")]);
        assert_eq!(
            format_block(&entries, Some(Tag::Perf)).unwrap(),
            "count{perf}=1\nthroughput{perf}=1.5\n"
        );
    }

    #[test]
    fn an_invalid_key_rejects_the_whole_block() {
        let entries = map(&[("a", "1"), ("b c", "2"), ("z", "3")]);
        assert_eq!(
            format_block(&entries, None).unwrap_err(),
            "Invalid key: b c"
        );
        assert_eq!(
            format_block(&map(&[("", "1")]), None).unwrap_err(),
            "Invalid key: "
        );
        assert_eq!(
            format_block(&map(&[("é", "1")]), None).unwrap_err(),
            "Invalid key: é"
        );
    }

    #[test]
    fn keys_are_checked_before_values() {
        let entries = map(&[("a", "x\ny"), ("b c", "2")]);
        assert_eq!(
            format_block(&entries, None).unwrap_err(),
            "Invalid key: b c"
        );
        let entries = map(&[("a", "x\ny")]);
        assert_eq!(
            format_block(&entries, None).unwrap_err(),
            "Invalid value for a: contains a newline"
        );
    }

    #[test]
    fn parse_converts_like_read_keyval() {
        let text = "i=01\nf=1.50\ng=007.25\nneg=-1\ne=1e5\ndot=1.\nlead=.5\nabc=x\n";
        let got = parse(text).unwrap();
        assert_eq!(got["i"], ParsedValue::Int(1));
        assert_eq!(got["f"], ParsedValue::Float(1.5));
        assert_eq!(got["g"], ParsedValue::Float(7.25));
        for (key, text) in [("neg", "-1"), ("e", "1e5"), ("dot", "1."), ("lead", ".5")] {
            assert_eq!(got[key], ParsedValue::Str(text.to_string()));
        }
        assert_eq!(got["abc"], ParsedValue::Str("x".to_string()));
    }

    #[test]
    fn parse_strips_comments_and_trailing_whitespace_only() {
        let text = "# header\np=a#b\no=  x  \r\n\n   \na=b=c\nempty=\ndup=1\ndup=2";
        let got = parse(text).unwrap();
        assert_eq!(got["p"], ParsedValue::Str("a".into()));
        assert_eq!(got["o"], ParsedValue::Str("  x".into()));
        assert_eq!(got["a"], ParsedValue::Str("b=c".into()));
        assert_eq!(got["empty"], ParsedValue::Str(String::new()));
        assert_eq!(got["dup"], ParsedValue::Int(2));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn huge_integers_stay_text() {
        let got = parse("big=99999999999999999999\n").unwrap();
        assert_eq!(got["big"], ParsedValue::Str("99999999999999999999".into()));
    }

    #[test]
    fn parse_rejects_malformed_lines() {
        assert_eq!(
            parse("a=1\nno equals\n").unwrap_err(),
            "Invalid format line: no equals"
        );
        assert_eq!(parse("=1").unwrap_err(), "Invalid format line: =1");
        assert_eq!(
            parse("a b=1  # c").unwrap_err(),
            "Invalid format line: a b=1"
        );
        assert_eq!(
            parse("x{perf}=1").unwrap_err(),
            "Invalid format line: x{perf}=1"
        );
    }

    #[test]
    fn parse_tagged_drops_the_suffix_and_is_not_a_filter() {
        let got = parse_tagged("count{perf}=1\nt{perf}=1.5\n", Tag::Perf).unwrap();
        assert_eq!(got["count"], ParsedValue::Int(1));
        assert_eq!(got["t"], ParsedValue::Float(1.5));
        assert_eq!(
            parse_tagged("a{perf}=1\nm{attr}=x\n", Tag::Perf).unwrap_err(),
            "Invalid format line: m{attr}=x"
        );
    }

    #[test]
    fn written_blocks_read_back() {
        let entries = map(&[("version", "1"), ("param-mode", "\"rw\""), ("ratio", "0.1")]);
        let got = parse(&format_block(&entries, None).unwrap()).unwrap();
        assert_eq!(got["version"], ParsedValue::Int(1));
        assert_eq!(got["param-mode"], ParsedValue::Str("\"rw\"".into()));
        assert_eq!(got["ratio"], ParsedValue::Float(0.1));
    }

    #[test]
    fn keyval_file_appends_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyval");
        let mut file = KeyvalFile::open(&path).unwrap();
        file.append("a=1\n").unwrap();
        file.append("\n").unwrap();
        drop(file);
        let mut again = KeyvalFile::open(&path).unwrap();
        again.append("b=2\n").unwrap();
        assert_eq!(again.path(), path);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a=1\n\nb=2\n");
    }
}
