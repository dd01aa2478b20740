//! Perf measurements: `<subdir>/results/perf_measurements`, one JSON object per
//! `output_perf_value` call (behaviour §2.5), byte for byte what Python's
//! `json.dumps(entry, sort_keys=True)` wrote:
//!
//! ```text
//! {"description": "page_load_time", "graph": "g1", "higher_is_better": false, "units": "ms_s", "value": [1, 2, 3]}
//! {"description": "single", "graph": null, "higher_is_better": null, "units": null, "value": 7.25}
//! ```
//!
//! Keys are sorted, separators are `, ` and `: `, strings are ASCII-only (other
//! characters as `\uXXXX`), integers stay integers, floats use Python's `repr`
//! (`7.25`, `1.0`, `1e-05`, `1e+20`, and the non-standard `NaN`/`Infinity` Python emits).
//! Characters of the description and units outside `[-.\w]` are replaced by the
//! replacement string; empty units become `null`. The graph name is written as given.

use std::fmt::Write;

use super::keyval::is_key_char;

/// One number of a perf value, keeping whether the script gave an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer, written as digits.
    Int(i64),
    /// A float, written in Python's shortest `repr` form.
    Float(f64),
}

/// The value of one measurement: a number or a list of samples.
#[derive(Debug, Clone, PartialEq)]
pub enum PerfValue {
    /// A single measurement.
    Number(Num),
    /// Several samples; TKO reports their mean and sample standard deviation.
    List(Vec<Num>),
}

/// Longest description accepted, in characters.
const MAX_DESCRIPTION: usize = 256;
/// Longest units accepted, in characters.
const MAX_UNITS: usize = 32;

/// Renders one perf measurement as a JSON line ending in `\n`, or the original's
/// `ValueError` message.
pub fn record(
    description: &str,
    value: &PerfValue,
    units: Option<&str>,
    higher_is_better: Option<bool>,
    graph: Option<&str>,
    replacement: &str,
) -> Result<String, String> {
    // Lengths are checked on the raw text, before replacement, as in the original.
    if description.chars().count() > MAX_DESCRIPTION {
        return Err("The description must be at most 256 characters.".to_string());
    }
    if units.is_some_and(|u| u.chars().count() > MAX_UNITS) {
        return Err("The units must be at most 32 characters.".to_string());
    }
    if !replacement.chars().all(is_key_char) {
        return Err(format!(
            "Invalid replacement string to mask illegal characters. May only contain \
             letters, numbers, periods, dashes, and underscores. replacement: {replacement}"
        ));
    }
    let description = sanitize(description, replacement);
    let units = units
        .filter(|u| !u.is_empty())
        .map(|u| sanitize(u, replacement));

    let mut out = String::with_capacity(128);
    out.push_str("{\"description\": ");
    push_str_literal(&mut out, &description);
    out.push_str(", \"graph\": ");
    push_opt_str(&mut out, graph);
    out.push_str(", \"higher_is_better\": ");
    out.push_str(match higher_is_better {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    });
    out.push_str(", \"units\": ");
    push_opt_str(&mut out, units.as_deref());
    out.push_str(", \"value\": ");
    match value {
        PerfValue::Number(n) => push_num(&mut out, *n),
        PerfValue::List(items) => {
            out.push('[');
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_num(&mut out, *n);
            }
            out.push(']');
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// Replaces every character outside `[-.\w]` by `replacement` (which may be empty).
fn sanitize(text: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_key_char(c) {
            out.push(c);
        } else {
            out.push_str(replacement);
        }
    }
    out
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str_literal(out, s),
        None => out.push_str("null"),
    }
}

/// A JSON string as Python's `json.dumps` writes it with the default `ensure_ascii=True`:
/// only printable ASCII stays literal, so DEL and non-ASCII become `\uXXXX` escapes.
fn push_str_literal(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String cannot fail");
                }
            }
        }
    }
    out.push('"');
}

fn push_num(out: &mut String, n: Num) {
    match n {
        Num::Int(i) => write!(out, "{i}").expect("writing to a String cannot fail"),
        Num::Float(f) => out.push_str(&python_float_repr(f)),
    }
}

/// Python's `repr(float)` as `json.dumps` uses it. Rust's `{:?}` picks the same digits
/// and the same switch to exponent form (below 1e-4, from 1e16); only the exponent is
/// spelled differently (`1e-7` versus `1e-07`).
fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let text = format!("{f:?}");
    match text.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_writes_the_documented_lines() {
        let list = PerfValue::List(vec![Num::Int(1), Num::Int(2), Num::Int(3)]);
        assert_eq!(
            record(
                "page load time",
                &list,
                Some("ms/s"),
                Some(false),
                Some("g1"),
                "_"
            )
            .unwrap(),
            "{\"description\": \"page_load_time\", \"graph\": \"g1\", \"higher_is_better\": \
             false, \"units\": \"ms_s\", \"value\": [1, 2, 3]}\n"
        );
        let single = PerfValue::Number(Num::Float(7.25));
        assert_eq!(
            record("single", &single, None, None, None, "_").unwrap(),
            "{\"description\": \"single\", \"graph\": null, \"higher_is_better\": null, \
             \"units\": null, \"value\": 7.25}\n"
        );
    }

    #[test]
    fn empty_units_are_null_and_true_is_lowercase() {
        let v = PerfValue::Number(Num::Int(-4));
        assert_eq!(
            record("d", &v, Some(""), Some(true), None, "_").unwrap(),
            "{\"description\": \"d\", \"graph\": null, \"higher_is_better\": true, \
             \"units\": null, \"value\": -4}\n"
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e20, "1e+20"),
            (1e100, "1e+100"),
            (1e15, "1000000000000000.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, text) in cases {
            assert_eq!(python_float_repr(f), text);
        }
        let list = PerfValue::List(vec![Num::Float(1.0), Num::Int(2), Num::Float(1e20)]);
        let line = record("x", &list, None, None, None, "_").unwrap();
        assert!(line.ends_with("\"value\": [1.0, 2, 1e+20]}\n"), "{line}");
    }

    #[test]
    fn sanitizing_replaces_each_character() {
        let v = PerfValue::Number(Num::Int(1));
        let line = record("a b/ü", &v, Some("k B"), None, Some("gé \"q\""), "--").unwrap();
        assert_eq!(
            line,
            "{\"description\": \"a--b----\", \"graph\": \"g\\u00e9 \\\"q\\\"\", \
             \"higher_is_better\": null, \"units\": \"k--B\", \"value\": 1}\n"
        );
        let line = record("a b", &v, Some("/"), None, None, "").unwrap();
        assert!(line.starts_with("{\"description\": \"ab\""), "{line}");
        assert!(line.contains("\"units\": \"\""), "{line}");
    }

    #[test]
    fn strings_escape_like_python_ensure_ascii() {
        let mut out = String::new();
        push_str_literal(&mut out, "t\t\\\u{1}\u{7f}😀");
        assert_eq!(out, "\"t\\t\\\\\\u0001\\u007f\\ud83d\\ude00\"");
    }

    #[test]
    fn limits_and_replacement_give_the_original_messages() {
        let v = PerfValue::Number(Num::Int(1));
        let long = "x".repeat(257);
        assert_eq!(
            record(&long, &v, None, None, None, "_").unwrap_err(),
            "The description must be at most 256 characters."
        );
        assert!(record(&"x".repeat(256), &v, Some(&"u".repeat(32)), None, None, "_").is_ok());
        assert_eq!(
            record("d", &v, Some(&"u".repeat(33)), None, None, "_").unwrap_err(),
            "The units must be at most 32 characters."
        );
        assert_eq!(
            record("d", &v, None, None, None, "/").unwrap_err(),
            "Invalid replacement string to mask illegal characters. May only contain letters, \
             numbers, periods, dashes, and underscores. replacement: /"
        );
    }
}
