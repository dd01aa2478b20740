//! Conversions between Rhai values and the host's plain values: command-line arguments in,
//! keyval text and `param-<name>` literals out.

use rhai::{Dynamic, Map};

use crate::args::ArgValue;
use crate::results::keyval::{check_keys, format_float, push_entry, Tag};

/// The Rhai value of a typed command-line argument.
pub fn from_arg(value: &ArgValue) -> Dynamic {
    match value {
        ArgValue::Bool(b) => Dynamic::from(*b),
        ArgValue::Int(i) => Dynamic::from(*i),
        ArgValue::Float(f) => Dynamic::from(*f),
        ArgValue::Str(s) => Dynamic::from(s.clone()),
        ArgValue::Json(v) => from_json(v),
    }
}

/// The Rhai value of a JSON value: integers stay integers (too large ones become floats),
/// null is `()`; the same conversion as `json::parse`.
pub fn from_json(value: &serde_json::Value) -> Dynamic {
    rhai::serde::to_dynamic(value).expect("every JSON value has a Rhai value")
}

/// A keyval value: integers as digits, floats in shortest round-trip form, strings as
/// they are, booleans `true`/`false`, anything else in Rhai literal form.
pub fn keyval_text(value: &Dynamic) -> String {
    if let Ok(i) = value.as_int() {
        i.to_string()
    } else if let Ok(f) = value.as_float() {
        format_float(f)
    } else if let Ok(b) = value.as_bool() {
        b.to_string()
    } else if value.is_string() {
        value.to_string()
    } else {
        literal(value)
    }
}

/// The Rhai literal form used for `param-<name>` keyvals: `"rw"`, `[4096, 65536]`, `1.0`.
pub fn literal(value: &Dynamic) -> String {
    if let Ok(f) = value.as_float() {
        return format_float(f);
    }
    format!("{value:?}")
}

/// Renders one `write_iteration_keyval` call straight from the script's maps (already
/// sorted by key): the `{attr}` block, the `{perf}` block, then the blank line that ends
/// the iteration for TKO. Nothing is rendered if any key is invalid.
pub fn iteration_text(attr: &Map, perf: &Map) -> Result<String, String> {
    check_keys(attr.keys().chain(perf.keys()))?;
    let mut out = String::with_capacity(32 * (attr.len() + perf.len()) + 1);
    for (map, tag) in [(attr, Tag::Attr), (perf, Tag::Perf)] {
        for (key, value) in map {
            push_entry(&mut out, key, Some(tag), &keyval_text(value))?;
        }
    }
    out.push('\n');
    Ok(out)
}

/// Renders every entry of a script map as keyval text, sorted by key.
pub fn keyval_map(map: &Map) -> std::collections::BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.to_string(), keyval_text(v)))
        .collect()
}

/// Whether a value is "truthy" the way a Python condition is: false, 0, 0.0, "", [], #{}
/// and () are false.
pub fn truthy(value: &Dynamic) -> bool {
    if let Ok(b) = value.as_bool() {
        b
    } else if let Ok(i) = value.as_int() {
        i != 0
    } else if let Ok(f) = value.as_float() {
        f != 0.0
    } else if value.is_unit() {
        false
    } else if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        !s.is_empty()
    } else if let Some(a) = value.read_lock::<rhai::Array>() {
        !a.is_empty()
    } else if let Some(m) = value.read_lock::<Map>() {
        !m.is_empty()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyval_text_follows_the_documented_rules() {
        assert_eq!(keyval_text(&Dynamic::from(3_i64)), "3");
        assert_eq!(keyval_text(&Dynamic::from(0.1_f64)), "0.1");
        assert_eq!(keyval_text(&Dynamic::from(1.0_f64)), "1.0");
        assert_eq!(keyval_text(&Dynamic::from(1e-7_f64)), "1e-7");
        assert_eq!(keyval_text(&Dynamic::from(true)), "true");
        assert_eq!(keyval_text(&Dynamic::from("rw")), "rw");
        assert_eq!(keyval_text(&Dynamic::UNIT), "()");
    }

    #[test]
    fn iteration_text_is_attr_then_perf_then_a_blank_line() {
        let map = |pairs: &[(&str, Dynamic)]| -> Map {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect()
        };
        let attr = map(&[("mode", "perf".into()), ("iter_str", "i1".into())]);
        let perf = map(&[("b", Dynamic::from(2_i64))]);
        assert_eq!(
            iteration_text(&attr, &perf).unwrap(),
            "iter_str{attr}=i1\nmode{attr}=perf\nb{perf}=2\n\n"
        );
        assert_eq!(iteration_text(&Map::new(), &Map::new()).unwrap(), "\n");
        let bad = map(&[("b c", Dynamic::from(1_i64)), ("a", Dynamic::from(1_i64))]);
        assert_eq!(
            iteration_text(&Map::new(), &bad).unwrap_err(),
            "Invalid key: b c"
        );
    }

    #[test]
    fn literals_quote_strings_and_show_arrays() {
        assert_eq!(literal(&Dynamic::from("rw")), "\"rw\"");
        let arr = from_json(&serde_json::json!([4096, 65536]));
        assert_eq!(literal(&arr), "[4096, 65536]");
        assert_eq!(literal(&Dynamic::from(2.0_f64)), "2.0");
        assert_eq!(literal(&from_arg(&ArgValue::Int(1))), "1");
    }

    #[test]
    fn json_values_keep_integers_and_map_null_to_unit() {
        let v = from_json(
            &serde_json::json!({"i": 4096, "f": 0.5, "n": null, "big": u64::MAX, "s": "x", "a": [true]}),
        );
        assert_eq!(
            format!("{v:?}"),
            r#"#{"a": [true], "big": 1.8446744073709552e19, "f": 0.5, "i": 4096, "n": (), "s": "x"}"#
        );
    }

    #[test]
    fn truthiness_is_pythonic() {
        assert!(!truthy(&Dynamic::from(0_i64)));
        assert!(!truthy(&Dynamic::from("")));
        assert!(!truthy(&Dynamic::UNIT));
        assert!(truthy(&Dynamic::from(2.5_f64)));
        assert!(truthy(&from_json(&serde_json::json!([1]))));
    }
}
