//! The host API as data: every function, type member and module a script can call,
//! read from the engine's own metadata (Rhai's standard library excluded), plus the few
//! things the docs table holds because the metadata cannot (`print`, `debug`).

use serde::Serialize;
use serde_json::Value;

use super::docs;
use crate::engine::stdlib;
use crate::engine::Host;

/// One parameter of a host function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// Its name (`_` when the registration gave none).
    pub name: String,
    /// Its type as scripts see it: `int`, `float`, `string`, `map`, `?` (any), …
    #[serde(rename = "type")]
    pub ty: String,
}

/// What kind of member a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FnKind {
    /// `name(args)` or `module::name(args)`.
    Function,
    /// `value.name(args)` on a host type.
    Method,
    /// `value.name`, read.
    Getter,
    /// `value.name = x`.
    Setter,
}

/// One host function (one overload).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiFn {
    /// The name, without `get$`/`set$`.
    pub name: String,
    /// Function, method, getter or setter.
    pub kind: FnKind,
    /// The parameters, without the receiver of a method.
    pub params: Vec<Param>,
    /// The return type; `None` for `()`.
    pub returns: Option<String>,
    /// The documentation, plain text.
    pub doc: String,
}

/// A host type scripts receive (`Test`, `Process`) and its members.
#[derive(Debug, Clone, Serialize)]
pub struct ApiType {
    /// The name scripts see (`type_of`).
    pub name: String,
    /// What it is.
    pub doc: String,
    /// Properties and methods.
    pub members: Vec<ApiFn>,
}

/// A module called as `name::fn(...)`.
#[derive(Debug, Clone, Serialize)]
pub struct ApiModule {
    /// The namespace.
    pub name: String,
    /// Where it comes from: `host`, or the embedded `stdlib/<name>.rhai`.
    pub source: String,
    /// The module's `//!` documentation.
    pub doc: String,
    /// Its functions, sorted by name then arity.
    pub functions: Vec<ApiFn>,
}

/// Everything a script can call beyond Rhai's standard library.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// Functions callable anywhere without a namespace.
    pub functions: Vec<ApiFn>,
    /// Host types and their members.
    pub types: Vec<ApiType>,
    /// Static modules, host modules first.
    pub modules: Vec<ApiModule>,
}

/// Describes the host API of `host` from its engine's metadata (standard library
/// excluded), with the docs table adding what is not a registration.
pub fn api(host: &Host) -> Result<Api, String> {
    let json = host
        .engine()
        .gen_fn_metadata_to_json(false)
        .map_err(|e| format!("cannot read the engine's metadata: {e}"))?;
    let meta: Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let custom_types = list(&meta, "customTypes");
    let custom: Vec<(String, String)> = custom_types
        .iter()
        .map(|t| (text(t, "typeName"), text(t, "displayName")))
        .collect();
    let mut api = Api {
        functions: docs::EXTRA_GLOBALS.iter().map(docs::extra).collect(),
        types: custom_types
            .iter()
            .zip(&custom)
            .map(|(t, (_, name))| ApiType {
                name: name.clone(),
                doc: doc_comments(t),
                members: Vec::new(),
            })
            .collect(),
        modules: Vec::new(),
    };
    for f in list(&meta, "functions").iter().filter(|f| visible(f)) {
        let (receiver, f) = convert(f, &custom);
        match receiver.and_then(|r| api.types.iter_mut().find(|t| t.name == r)) {
            Some(t) if !matches!(f.name.as_str(), "to_string" | "to_debug") => t.members.push(f),
            Some(_) => {}
            None => api.functions.push(f),
        }
    }
    let modules = meta.get("modules").and_then(Value::as_object);
    for (name, m) in modules.into_iter().flatten() {
        let functions = list(m, "functions")
            .iter()
            .filter(|f| visible(f))
            .map(|f| convert(f, &custom).1)
            .collect();
        let embedded = stdlib::MODULES.iter().any(|(n, _)| n == name);
        api.modules.push(ApiModule {
            name: name.clone(),
            source: if embedded {
                format!("stdlib/{name}.rhai")
            } else {
                "host".into()
            },
            doc: strip_doc(&text(m, "doc")),
            functions,
        });
    }
    // Rhai lists functions by name and arity only; overloads of the same arity would
    // otherwise come in hash order, which changes from one run to the next.
    api.functions.sort_by(order);
    for members in api.types.iter_mut().map(|t| &mut t.members) {
        members.sort_by(order);
    }
    for functions in api.modules.iter_mut().map(|m| &mut m.functions) {
        functions.sort_by(order);
    }
    api.types
        .sort_by_key(|t| (t.name != "Test", t.name.clone()));
    api.modules.sort_by_key(|m| {
        (
            m.source != "host",
            docs::module_rank(&m.name),
            m.name.clone(),
        )
    });
    Ok(api)
}

/// Rhai's order (by name as registered, `get$`/`set$` included, then arity), then by
/// parameter types.
fn order(a: &ApiFn, b: &ApiFn) -> std::cmp::Ordering {
    let key = |f: &ApiFn| {
        let prefix = match f.kind {
            FnKind::Getter => "get$",
            FnKind::Setter => "set$",
            FnKind::Function | FnKind::Method => "",
        };
        let types: Vec<&str> = f.params.iter().map(|p| p.ty.as_str()).collect();
        (
            format!("{prefix}{}", f.name),
            f.params.len(),
            types.join(","),
        )
    };
    key(a).cmp(&key(b))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Public, named functions; closures inside stdlib modules and indexers are plumbing.
fn visible(f: &Value) -> bool {
    let name = text(f, "name");
    text(f, "access") == "public"
        && f.get("isAnonymous").and_then(Value::as_bool) != Some(true)
        && !name.starts_with("index$")
}

/// One metadata entry as an `ApiFn`, and the host type it is a member of, if any.
fn convert(f: &Value, custom: &[(String, String)]) -> (Option<String>, ApiFn) {
    let raw = text(f, "name");
    let (kind, name) = match (raw.strip_prefix("get$"), raw.strip_prefix("set$")) {
        (Some(n), _) => (FnKind::Getter, n.to_string()),
        (_, Some(n)) => (FnKind::Setter, n.to_string()),
        _ => (FnKind::Function, raw.clone()),
    };
    let mut params: Vec<Param> = list(f, "params")
        .iter()
        .map(|p| Param {
            name: text(p, "name"),
            ty: Some(clean_type(&text(p, "type"), custom))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "?".into()),
        })
        .collect();
    // The metadata lists no params at all for untyped, unnamed registrations.
    let arity = f.get("numParams").and_then(Value::as_u64).unwrap_or(0) as usize;
    params.resize_with(arity.max(params.len()), || Param {
        name: String::new(),
        ty: "?".into(),
    });
    // A method or property takes its host-type receiver as a `&mut` first parameter.
    let by_ref = list(f, "params")
        .first()
        .is_some_and(|p| text(p, "type").starts_with("&mut"));
    let receiver = params
        .first()
        .filter(|p| by_ref && custom.iter().any(|(_, d)| *d == p.ty))
        .map(|p| p.ty.clone());
    let kind = match &receiver {
        Some(_) => {
            params.remove(0);
            if kind == FnKind::Function {
                FnKind::Method
            } else {
                kind
            }
        }
        None => kind,
    };
    for p in params.iter_mut().filter(|p| p.name.is_empty()) {
        p.name = "_".into();
    }
    (receiver, finish(f, kind, name, params, custom))
}

fn finish(
    f: &Value,
    kind: FnKind,
    name: String,
    params: Vec<Param>,
    custom: &[(String, String)],
) -> ApiFn {
    let doc = doc_comments(f);
    // Script functions (the embedded stdlib) declare no return type: any value.
    let ret = match text(f, "type").as_str() {
        "script" => "?".to_string(),
        _ => clean_type(&text(f, "returnType"), custom),
    };
    ApiFn {
        name,
        kind,
        params,
        returns: (!ret.is_empty()).then_some(ret),
        doc,
    }
}

/// The `docComments` of a metadata entry as plain text.
fn doc_comments(v: &Value) -> String {
    let comments: Vec<String> = list(v, "docComments")
        .iter()
        .filter_map(|c| c.as_str().map(strip_doc))
        .collect();
    comments.join("\n")
}

/// A doc comment (`///`, `/** */` or `//!` lines) as plain text.
pub fn strip_doc(comment: &str) -> String {
    let lines: Vec<&str> = comment
        .lines()
        .map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("///")
                .or_else(|| l.strip_prefix("//!"))
                .unwrap_or(l);
            let l = l.strip_prefix("/**").unwrap_or(l);
            let l = l.strip_suffix("*/").unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).trim_end()
        })
        .collect();
    lines.join("\n").trim().to_string()
}

/// A Rust or Rhai type name as scripts know it; `""` for `()`.
pub fn clean_type(raw: &str, custom: &[(String, String)]) -> String {
    let mut ty = raw.trim();
    ty = ty
        .strip_prefix("&mut")
        .unwrap_or(ty)
        .trim_start_matches('&')
        .trim();
    // Host functions that may throw return Result<T, Box<EvalAltResult>>: the script sees T.
    for result in [
        "core::result::Result<",
        "std::result::Result<",
        "Result<",
        "RhaiResultOf<",
    ] {
        if let Some(inner) = ty.strip_prefix(result).and_then(|s| s.strip_suffix('>')) {
            return clean_type(top_level_first(inner), custom);
        }
    }
    if let Some((_, display)) = custom.iter().find(|(full, _)| full == ty) {
        return display.clone();
    }
    match ty.rsplit("::").next().unwrap_or(ty) {
        "()" | "" => String::new(),
        "Dynamic" | "?" | "_" => "?".into(),
        "i64" | "INT" | "int" => "int".into(),
        "f64" | "FLOAT" | "float" => "float".into(),
        "str" | "String" | "ImmutableString" | "string" => "string".into(),
        "Map" | "map" => "map".into(),
        "Array" | "array" => "array".into(),
        "FnPtr" | "Fn" => "Fn".into(),
        other => other.to_string(),
    }
}

/// The first type argument of a generic list such as `T, Box<E>`.
fn top_level_first(list: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in list.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return &list[..i],
            _ => {}
        }
    }
    list
}
