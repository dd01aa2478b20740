//! The `json` module: JSON text to Rhai values and back.

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Module};

use super::register::func;
use crate::engine::ctx::HostCtx;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn parse(text: &str) -> Res<Dynamic> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("json::parse: invalid JSON: {e}"))?;
    rhai::serde::to_dynamic(value)
}

fn to_string(value: &Dynamic, pretty: bool) -> Res<String> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(|e| format!("json::to_string: cannot encode {}: {e}", value.type_name()).into())
}

/// Registers the `json` module: `parse` and `to_string`.
pub(crate) fn register(engine: &mut Engine, _ctx: &Arc<HostCtx>) {
    let mut m = Module::new();
    func(
        "parse",
        &["text: string", "?"],
        "The value of the JSON `text`: objects become maps, arrays arrays, integers ints,
         other numbers floats, null (). Invalid JSON is an error naming line and column.",
    )
    .with_volatility(false)
    .set_into_module(&mut m, parse);
    let doc = "The value as compact JSON text (`pretty` true: indented, one item per line).
        Maps become objects, arrays arrays, () null, chars and strings strings; a function
        pointer becomes its name and a value of a host type its type name.";
    func("to_string", &["value: ?", "string"], doc)
        .with_volatility(false)
        .set_into_module(&mut m, |value: Dynamic| to_string(&value, false));
    func("to_string", &["value: ?", "pretty: bool", "string"], doc)
        .with_volatility(false)
        .set_into_module(&mut m, |value: Dynamic, pretty: bool| {
            to_string(&value, pretty)
        });
    engine.register_static_module("json", m.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn eval<T: Clone + Send + Sync + 'static>(script: &str) -> Res<T> {
        let mut engine = Engine::new();
        register(&mut engine, &HostCtx::new(Arc::new(AtomicBool::new(false))));
        engine.eval::<T>(script)
    }

    #[test]
    fn values_round_trip() {
        let text = r#"{"a":[1,2.5,"x",null,true],"b":{"c":-3}}"#;
        let script = format!("json::to_string(json::parse({text:?}))");
        assert_eq!(eval::<String>(&script).expect("eval"), text);
        let types = r#"let v = json::parse("[1, 1.0, 1e2]"); v.map(|x| type_of(x))"#;
        let got = eval::<rhai::Array>(types).expect("eval");
        assert_eq!(format!("{got:?}"), r#"["i64", "f64", "f64"]"#);
    }

    #[test]
    fn pretty_output_is_indented() {
        let got = eval::<String>(r#"json::to_string(#{a: [1]}, true)"#).expect("eval");
        assert_eq!(got, "{\n  \"a\": [\n    1\n  ]\n}");
    }

    #[test]
    fn parse_errors_name_line_and_column() {
        let e = eval::<Dynamic>(r#"json::parse("{\n  \"a\": }")"#).expect_err("invalid");
        assert!(
            e.to_string()
                .contains("json::parse: invalid JSON: expected value at line 2 column 8"),
            "{e}"
        );
    }
}
