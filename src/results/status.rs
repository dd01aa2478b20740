//! The status log: one line per START, END and status of the job and of each test, in
//! the autotest client format (behaviour §3) that TKO parses.
//!
//! A job with one passing test (`\t` stands for a real tab character):
//!
//! ```text
//! START\t----\t----\ttimestamp=1795784598\tlocaltime=Nov 27 13:03:18\t
//! \tSTART\tsleeptest\tsleeptest\ttimeout=3\ttimestamp=1795784598\tlocaltime=Nov 27 13:03:18\t
//! \t\tGOOD\tsleeptest\tsleeptest\ttimestamp=1795784599\tlocaltime=Nov 27 13:03:19\tcompleted successfully
//! \tEND GOOD\tsleeptest\tsleeptest\ttimestamp=1795784599\tlocaltime=Nov 27 13:03:19\t
//! END GOOD\t----\t----\ttimestamp=1795784599\tlocaltime=Nov 27 13:03:19\t
//! ```
//!
//! Each line is: one tab per nesting level (an END lines up with its START), the status
//! code, the subdir and the operation (`----` when absent), the caller's `key=value`
//! fields in the given order, `timestamp=<epoch seconds>`, `localtime=<%b %d %H:%M:%S>`
//! in the local zone, then the message, which is always the last field, so START and
//! END lines end with a tab. Further lines of a multi-line message follow on lines of
//! their own, prefixed by two spaces and never by tabs; parsers skip them.
//!
//! This module renders and parses lines; [`StatusLog`] (in `status/log.rs`) writes them
//! to `<job>/status.log` and, for an entry with a subdir, `<job>/<subdir>/status.log`.

mod log;

pub use log::{StatusError, StatusLog};

use chrono::{DateTime, Local, TimeZone, Utc};

/// One status-log entry before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `START`, `INFO`, a status word, or `END ` followed by a status word.
    pub code: String,
    /// The test's results subdirectory, if the entry belongs to a test.
    pub subdir: Option<String>,
    /// The operation, usually the tagged test name.
    pub operation: Option<String>,
    /// Extra `key=value` fields, written in this order before `timestamp`.
    pub fields: Vec<(String, String)>,
    /// The reason; only its first line is parsed by readers.
    pub message: String,
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
}

/// The status words that may stand alone or follow `END `, worst first.
const STATUSES: [&str; 9] = [
    "TEST_NA", "ABORT", "ERROR", "FAIL", "WARN", "GOOD", "ALERT", "RUNNING", "NOSTATUS",
];

/// What stands for an absent subdir or operation.
const NONE: &str = "----";

/// Whether `code` is a valid status code (`log.is_valid_status`).
pub fn is_valid_code(code: &str) -> bool {
    let word = code.strip_prefix("END ").unwrap_or(code);
    STATUSES.contains(&word) || (word == code && (code == "START" || code == "INFO"))
}

/// Renders `ts` as `%b %d %H:%M:%S` in the local time zone, e.g. `Nov 27 13:03:18`.
pub fn localtime(ts: i64) -> String {
    format_time(ts, &Local)
}

fn format_time<Tz: TimeZone>(ts: i64, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    // Only timestamps beyond chrono's ±262,000 years fail; the epoch keeps the field parsable.
    let utc = DateTime::from_timestamp(ts, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    utc.with_timezone(zone).format("%b %d %H:%M:%S").to_string()
}

/// Characters that would break the tab-separated line structure.
fn has_bad_char(s: &str) -> bool {
    s.contains(['\t', '\n', '\r', '\x0b', '\x0c'])
}

/// `None` and `""` both render as `----`, as in the original (`subdir or '----'`).
fn checked<'a>(what: &str, value: Option<&'a str>) -> Result<&'a str, String> {
    match value {
        Some(v) if has_bad_char(v) => Err(format!("invalid character in {what}: {v:?}")),
        Some(v) if !v.is_empty() => Ok(v),
        _ => Ok(NONE),
    }
}

/// Renders `entry` as status-log text at nesting level `indent`, ending in a newline.
pub fn render(entry: &Entry, indent: usize) -> Result<String, String> {
    if !is_valid_code(&entry.code) {
        return Err(format!("invalid status code: {:?}", entry.code));
    }
    let subdir = checked("subdir", entry.subdir.as_deref())?;
    let operation = checked("operation", entry.operation.as_deref())?;
    let mut lines = entry.message.split('\n');
    let first = lines.next().unwrap_or_default().replace('\t', "        ");
    if has_bad_char(&first) {
        return Err(format!("invalid character in message: {first:?}"));
    }
    for (key, value) in &entry.fields {
        if has_bad_char(key) || has_bad_char(value) {
            return Err(format!("invalid character in field {key:?}={value:?}"));
        }
        if key == "timestamp" || key == "localtime" {
            return Err(format!("field name {key} is reserved"));
        }
    }
    let mut out = "\t".repeat(indent);
    for part in [entry.code.as_str(), subdir, operation] {
        out.push_str(part);
        out.push('\t');
    }
    for (key, value) in &entry.fields {
        out.push_str(&format!("{key}={value}\t"));
    }
    let ts = entry.timestamp;
    out.push_str(&format!("timestamp={ts}\tlocaltime={}\t", localtime(ts)));
    out.push_str(&first);
    out.push('\n');
    for line in lines {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// A status-log line read back: the first line of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEntry {
    /// Number of leading tabs.
    pub indent: usize,
    /// The status code.
    pub code: String,
    /// The subdir, `None` for `----`.
    pub subdir: Option<String>,
    /// The operation, `None` for `----`.
    pub operation: Option<String>,
    /// The `key=value` fields other than `timestamp` and `localtime`, in line order.
    pub fields: Vec<(String, String)>,
    /// The `timestamp` field, if present (`localtime` is derived from it).
    pub timestamp: Option<i64>,
    /// The message (last field).
    pub message: String,
}

/// Parses one line; `None` for continuation lines and malformed ones.
pub fn parse_line(line: &str) -> Option<ParsedEntry> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.starts_with("  ") {
        return None;
    }
    let body = line.trim_start_matches('\t');
    let parts: Vec<&str> = body.split('\t').collect();
    if parts.len() < 4 || !is_valid_code(parts[0]) {
        return None;
    }
    let absent = |s: &str| (s != NONE).then(|| s.to_string());
    let (message, middle) = parts[3..].split_last()?;
    let mut fields = Vec::new();
    let mut timestamp = None;
    for part in middle {
        match part.split_once('=')? {
            ("timestamp", v) => timestamp = Some(v.parse().ok()?),
            ("localtime", _) => {}
            (k, v) => fields.push((k.to_string(), v.to_string())),
        }
    }
    Some(ParsedEntry {
        indent: line.len() - body.len(),
        code: parts[0].to_string(),
        subdir: absent(parts[1]),
        operation: absent(parts[2]),
        fields,
        timestamp,
        message: message.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    const TS: i64 = 1795784598;

    fn entry(code: &str, subdir: Option<&str>, message: &str) -> Entry {
        Entry {
            code: code.to_string(),
            subdir: subdir.map(str::to_string),
            operation: subdir.map(str::to_string),
            fields: Vec::new(),
            message: message.to_string(),
            timestamp: TS,
        }
    }

    #[test]
    fn localtime_uses_strftime_b_d_h_m_s() {
        assert_eq!(format_time(TS, &Utc), "Nov 27 13:03:18");
        let plus_two = FixedOffset::east_opt(2 * 3600).expect("valid offset");
        assert_eq!(format_time(TS, &plus_two), "Nov 27 15:03:18");
        assert_eq!(format_time(0, &Utc), "Jan 01 00:00:00");
    }

    #[test]
    fn start_lines_end_with_a_tab() {
        let lt = localtime(TS);
        assert_eq!(
            render(&entry("START", None, ""), 0).unwrap(),
            format!("START\t----\t----\ttimestamp={TS}\tlocaltime={lt}\t\n")
        );
    }

    #[test]
    fn fields_come_first_and_indent_is_tabs() {
        let mut e = entry("GOOD", Some("sleeptest"), "completed successfully");
        e.fields = vec![("timeout".into(), "3".into()), ("a".into(), "b".into())];
        let lt = localtime(TS);
        assert_eq!(
            render(&e, 2).unwrap(),
            format!(
                "\t\tGOOD\tsleeptest\tsleeptest\ttimeout=3\ta=b\ttimestamp={TS}\t\
                 localtime={lt}\tcompleted successfully\n"
            )
        );
    }

    #[test]
    fn continuation_lines_get_two_spaces_and_keep_tabs() {
        let e = entry("FAIL", None, "Unhandled\terror\nTraceback:\n\tline 1");
        let lt = localtime(TS);
        assert_eq!(
            render(&e, 1).unwrap(),
            format!(
                "\tFAIL\t----\t----\ttimestamp={TS}\tlocaltime={lt}\tUnhandled        error\n\
                 \x20 Traceback:\n\x20 \tline 1\n"
            )
        );
    }

    #[test]
    fn codes_are_validated() {
        let ok = [
            "START",
            "INFO",
            "GOOD",
            "END GOOD",
            "TEST_NA",
            "END NOSTATUS",
            "ALERT",
        ];
        assert!(ok.iter().all(|c| is_valid_code(c)));
        let bad = ["END START", "END INFO", "START GOOD", "good", "END ", ""];
        assert!(!bad.iter().any(|c| is_valid_code(c)));
        let err = render(&entry("END INFO", None, ""), 0).unwrap_err();
        assert_eq!(err, "invalid status code: \"END INFO\"");
    }

    #[test]
    fn bad_characters_are_refused_naming_the_field() {
        let spoilt = |spoil: fn(&mut Entry)| {
            let mut e = entry("INFO", None, "");
            spoil(&mut e);
            render(&e, 0).unwrap_err()
        };
        let subdir = spoilt(|e| e.subdir = Some("a\tb".into()));
        assert_eq!(subdir, "invalid character in subdir: \"a\\tb\"");
        let operation = spoilt(|e| e.operation = Some("op\r".into()));
        assert_eq!(operation, "invalid character in operation: \"op\\r\"");
        let message = spoilt(|e| e.message = "a\x0cb\nc".into());
        assert_eq!(message, "invalid character in message: \"a\\u{c}b\"");
        let field = spoilt(|e| e.fields = vec![("k".into(), "\x0b".into())]);
        assert_eq!(field, "invalid character in field \"k\"=\"\\u{b}\"");
        let reserved = spoilt(|e| e.fields = vec![("timestamp".into(), "1".into())]);
        assert_eq!(reserved, "field name timestamp is reserved");
    }

    #[test]
    fn rendered_lines_parse_back() {
        let mut e = entry("END FAIL", Some("t.tag"), "why\nmore");
        e.fields = vec![("warnings.disable".into(), "NETWORK".into())];
        let text = render(&e, 3).unwrap();
        let mut lines = text.lines();
        let parsed = parse_line(lines.next().unwrap()).unwrap();
        assert_eq!(
            parsed,
            ParsedEntry {
                indent: 3,
                code: "END FAIL".into(),
                subdir: Some("t.tag".into()),
                operation: Some("t.tag".into()),
                fields: e.fields.clone(),
                timestamp: Some(TS),
                message: "why".into(),
            }
        );
        assert_eq!(parse_line(lines.next().unwrap()), None);
        let start = parse_line(&render(&entry("START", None, ""), 0).unwrap()).unwrap();
        assert_eq!(
            (start.subdir, start.operation, start.message),
            (None, None, String::new())
        );
    }

    #[test]
    fn malformed_lines_do_not_parse() {
        assert_eq!(parse_line("GOOD\t----\tmsg"), None);
        assert_eq!(parse_line("BOGUS\t----\t----\tmsg"), None);
        assert_eq!(parse_line("GOOD\t----\t----\tnofield\tmsg"), None);
        assert_eq!(parse_line("GOOD\t----\t----\ttimestamp=x\tmsg"), None);
    }
}
