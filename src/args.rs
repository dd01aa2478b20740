//! `key=value` arguments from the command line: typing without evaluating code, and the
//! strict validation of SCRIPT-API §2 (every key must be accepted by someone).

use std::collections::BTreeSet;

/// A typed command-line value.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// `true` / `false`.
    Bool(bool),
    /// Digits, optionally signed.
    Int(i64),
    /// A plain decimal number such as `0.5` or `-2.25`.
    Float(f64),
    /// Anything else, taken literally.
    Str(String),
    /// Text starting with `[`, `{` or `"`: an array, map or quoted string.
    Json(serde_json::Value),
}

/// Parameters the host itself consumes; functions that declare them still receive them.
pub const HOST_PARAMS: &[&str] = &[
    "iterations",
    "test_length",
    "profile_only",
    "postprocess_profiled_run",
    "constraints",
    "run_cleanup",
    "test_attributes",
    "tag",
    "timeout",
];

/// Host parameters that are not test parameters and so get no `param-<name>` keyval.
pub const CONSUMED_PARAMS: &[&str] = &["tag", "timeout", "run_cleanup", "test_attributes"];

/// Types one command-line value: bool, int, plain decimal float, JSON, else string.
pub fn type_value(text: &str) -> Result<ArgValue, String> {
    match text {
        "true" => return Ok(ArgValue::Bool(true)),
        "false" => return Ok(ArgValue::Bool(false)),
        _ => {}
    }
    if text.starts_with(['[', '{', '"']) {
        return serde_json::from_str(text)
            .map(ArgValue::Json)
            .map_err(|e| format!("value {text} looks like JSON but does not parse: {e}"));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if is_digits(digits) {
        return text
            .parse()
            .map(ArgValue::Int)
            .map_err(|_| format!("integer {text} does not fit in 64 bits"));
    }
    if let Some((int, frac)) = digits.split_once('.') {
        if is_digits(int) && is_digits(frac) {
            if let Ok(f) = text.parse() {
                return Ok(ArgValue::Float(f));
            }
        }
    }
    Ok(ArgValue::Str(text.to_string()))
}

/// Splits `key=value` words into typed pairs, in the order given.
pub fn parse_pairs(words: &[String]) -> Result<Vec<(String, ArgValue)>, String> {
    let mut out: Vec<(String, ArgValue)> = Vec::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            let is_name =
                !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            return Err(if is_name && !word.bytes().all(|b| b.is_ascii_digit()) {
                format!("argument '{word}' has no value; write {word}=<value>")
            } else {
                format!("argument '{word}' is not KEY=VALUE; positional arguments do not exist, so name the parameter it is for, e.g. count={word}")
            });
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "argument '{word}': '{key}' is not a parameter name (letters, digits and _ only)"
            ));
        }
        let value = type_value(value).map_err(|e| format!("argument {key}: {e}"))?;
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_string(), value)),
        }
    }
    Ok(out)
}

/// Checks every given key against the accepted ones (the host parameters plus the
/// parameters of the script's lifecycle functions); `open` means some function declares
/// `args` and so accepts anything.
pub fn validate<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    script_params: &BTreeSet<String>,
    open: bool,
) -> Result<(), String> {
    if open {
        return Ok(());
    }
    let accepted: BTreeSet<&str> = HOST_PARAMS
        .iter()
        .copied()
        .chain(script_params.iter().map(String::as_str))
        .collect();
    for key in keys {
        if accepted.contains(key) {
            continue;
        }
        let mut msg = format!("unknown parameter '{key}'");
        if let Some(best) = closest(key, &accepted) {
            msg.push_str(&format!("; did you mean '{best}'?"));
        }
        let list: Vec<&str> = accepted.iter().copied().collect();
        msg.push_str(&format!("\naccepted parameters: {}", list.join(", ")));
        return Err(msg);
    }
    Ok(())
}

fn closest<'a>(key: &str, accepted: &BTreeSet<&'a str>) -> Option<&'a str> {
    accepted
        .iter()
        .map(|a| (strsim::damerau_levenshtein(key, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_without_evaluating_code() {
        assert_eq!(type_value("2"), Ok(ArgValue::Int(2)));
        assert_eq!(type_value("-3"), Ok(ArgValue::Int(-3)));
        assert_eq!(type_value("0.5"), Ok(ArgValue::Float(0.5)));
        assert_eq!(type_value("true"), Ok(ArgValue::Bool(true)));
        assert_eq!(type_value("rw"), Ok(ArgValue::Str("rw".into())));
        assert_eq!(type_value("1e5"), Ok(ArgValue::Str("1e5".into())));
        assert_eq!(type_value(".5"), Ok(ArgValue::Str(".5".into())));
        assert_eq!(type_value("1+1"), Ok(ArgValue::Str("1+1".into())));
        assert_eq!(
            type_value("\"007\""),
            Ok(ArgValue::Json(serde_json::json!("007")))
        );
        assert_eq!(
            type_value("[4096,65536]"),
            Ok(ArgValue::Json(serde_json::json!([4096, 65536])))
        );
        assert!(type_value("[1,").unwrap_err().contains("does not parse"));
        assert!(type_value("99999999999999999999").is_err());
    }

    #[test]
    fn pairs_require_names_and_later_values_win() {
        let words = ["a=1".to_string(), "b=x".to_string(), "a=2".to_string()];
        let pairs = parse_pairs(&words).expect("valid");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), ArgValue::Int(2)),
                ("b".into(), ArgValue::Str("x".into()))
            ]
        );
        assert!(parse_pairs(&["5".to_string()])
            .unwrap_err()
            .contains("positional arguments do not exist"));
        assert!(parse_pairs(&["a-b=1".to_string()]).is_err());
    }

    #[test]
    fn unknown_keys_name_the_closest_match_and_the_accepted_ones() {
        let params: BTreeSet<String> = ["seconds".to_string()].into();
        let err = validate(["iteration"], &params, false).unwrap_err();
        assert!(
            err.starts_with("unknown parameter 'iteration'; did you mean 'iterations'?\n"),
            "{err}"
        );
        assert!(
            err.contains("accepted parameters: constraints, iterations"),
            "{err}"
        );
        assert!(err.contains("seconds"), "{err}");
        let err = validate(["zzzzzzzz"], &params, false).unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
        assert!(validate(["seconds", "iterations"], &params, false).is_ok());
        assert!(validate(["anything"], &params, true).is_ok());
    }
}
