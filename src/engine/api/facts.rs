//! The `utils` functions that report on or change the host rather than run commands:
//! hostname, CPUs, memory, environment, clock, page cache, and keyval files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rhai::{Dynamic, EvalAltResult, Map, Module};

use super::register::func;
use crate::engine::ctx::HostCtx;
use crate::engine::value::keyval_map;
use crate::results::keyval::{self, KeyvalFile, ParsedValue};
use crate::status::Level;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// The host's name (gethostname(2)); also the job keyval's `hostname`.
pub(crate) fn hostname() -> std::io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

fn memtotal_kb() -> Res<i64> {
    const PATH: &str = "/proc/meminfo";
    let text = std::fs::read_to_string(PATH)
        .map_err(|e| format!("utils::memtotal_kb: cannot read {PATH}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("utils::memtotal_kb: no MemTotal line in {PATH}").into())
}

fn env_var(name: &str) -> Res<Option<String>> {
    // std::env::var_os may panic on such names.
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(format!("utils::env: invalid variable name '{name}'").into());
    }
    Ok(std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
}

/// Flushes dirty pages with sync(2), then asks the kernel to drop its page, dentry and
/// inode caches. Failing to drop them (not root) is only logged, as in the original.
pub(crate) fn drop_caches(ctx: &HostCtx) {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    // Not being root is common and harmless here, as in the original.
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "3\n") {
        ctx.log(
            Level::Debug,
            &format!("utils::drop_caches: cannot drop caches: {e}"),
        );
    }
}

pub(super) fn register_host(module: &mut Module, ctx: &Arc<HostCtx>) {
    let c = Arc::clone(ctx);
    func(
        "drop_caches",
        &["()"],
        "Flushes dirty pages (sync) and asks the kernel to drop its page, dentry and inode
         caches; failing to drop them (not root) is ignored.",
    )
    .set_into_module(module, move || drop_caches(&c));
    func("hostname", &["string"], "The host's name.").set_into_module(module, || -> Res<String> {
        hostname().map_err(|e| format!("utils::hostname: {e}").into())
    });
    func(
        "cpu_count",
        &["int"],
        "The number of CPUs this process may run on.",
    )
    .set_into_module(module, || {
        std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
    });
    func(
        "memtotal_kb",
        &["int"],
        "Total memory in kB (MemTotal of /proc/meminfo).",
    )
    .set_into_module(module, memtotal_kb);
    func(
        "env",
        &["name: string", "?"],
        "The environment variable `name` as a string, or () when it is not set.",
    )
    .set_into_module(module, |name: &str| -> Res<Dynamic> {
        Ok(env_var(name)?.map_or(Dynamic::UNIT, Dynamic::from))
    });
    func(
        "env",
        &["name: string", "default: ?", "?"],
        "The environment variable `name` as a string, or `default` when it is not set.",
    )
    .set_into_module(module, |name: &str, default: Dynamic| -> Res<Dynamic> {
        Ok(env_var(name)?.map_or(default, Dynamic::from))
    });
    func(
        "now",
        &["float"],
        "The current time in seconds since the Unix epoch (a float).",
    )
    .set_into_module(module, || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
}

/// The keyval file `path` names: `<path>/keyval` when `path` is a directory.
fn keyval_file(path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_dir() {
        path.join("keyval")
    } else {
        path.to_path_buf()
    }
}

fn read_keyval(path: &str) -> Res<Map> {
    let file = keyval_file(path);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(format!("utils::read_keyval: cannot read {}: {e}", file.display()).into())
        }
    };
    let entries =
        keyval::parse(&text).map_err(|e| format!("utils::read_keyval: {}: {e}", file.display()))?;
    let value = |v| match v {
        ParsedValue::Int(i) => Dynamic::from_int(i),
        ParsedValue::Float(f) => Dynamic::from_float(f),
        ParsedValue::Str(s) => Dynamic::from(s),
    };
    Ok(entries
        .into_iter()
        .map(|(k, v)| (k.into(), value(v)))
        .collect())
}

fn write_keyval(path: &str, map: &Map) -> Res<()> {
    let file = keyval_file(path);
    let fail = |e: String| format!("utils::write_keyval: {}: {e}", file.display());
    let block = keyval::format_block(&keyval_map(map), None).map_err(fail)?;
    KeyvalFile::open(&file)
        .and_then(|mut f| f.append(&block))
        .map_err(|e| fail(format!("cannot append: {e}")).into())
}

pub(super) fn register_keyval(module: &mut Module) {
    func(
        "read_keyval",
        &["path: string", "map"],
        "The keys and values of the keyval file `path` (`<path>/keyval` for a directory).
         Digits read as ints, digits.digits as floats, anything else as strings; a missing
         file reads as #{}. Lines that are not `key=value` are an error.",
    )
    .set_into_module(module, read_keyval);
    func(
        "write_keyval",
        &["path: string", "map: map", "()"],
        "Appends `map` to the keyval file `path` (`<path>/keyval` for a directory) as
         `key=value` lines sorted by key: ints as digits, floats in shortest round-trip
         form, bools true/false, strings as they are, other values in Rhai literal form.
         Keys may hold letters, digits, `_`, `-` and `.`; a bad key writes nothing.",
    )
    .set_into_module(module, |path: &str, map: Map| write_keyval(path, &map));
}

#[cfg(test)]
mod tests {
    use super::super::utils::tests::{eval, host};

    #[test]
    fn host_facts() {
        assert!(!eval::<String>("utils::hostname()").is_empty());
        assert!(eval::<i64>("utils::cpu_count()") >= 1);
        assert!(eval::<i64>("utils::memtotal_kb()") > 0);
        assert!(eval::<f64>("utils::now()") > 1.6e9);
        assert_eq!(
            eval::<String>(r#"utils::env("PATH")"#),
            std::env::var("PATH").expect("PATH")
        );
        assert!(eval::<bool>(r#"utils::env("AUTORUN_SURELY_UNSET") == ()"#));
        assert_eq!(eval::<i64>(r#"utils::env("AUTORUN_SURELY_UNSET", 7)"#), 7);
        eval::<()>("utils::drop_caches()");
    }

    #[test]
    fn keyvals_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = format!(
            r#"utils::write_keyval("{0}", #{{b: 1, a: 0.5, c: "x y", d: true, e: [1]}});
               utils::write_keyval("{0}/keyval", #{{b: "007"}});
               [utils::read_keyval("{0}"), utils::read_keyval("{0}/none")]"#,
            dir.path().display()
        );
        let got = eval::<rhai::Array>(&script);
        let text = std::fs::read_to_string(dir.path().join("keyval")).expect("keyval");
        assert_eq!(text, "a=0.5\nb=1\nc=x y\nd=true\ne=[1]\nb=007\n");
        assert_eq!(
            format!("{got:?}"),
            r#"[#{"a": 0.5, "b": 7, "c": "x y", "d": "true", "e": "[1]"}, #{}]"#
        );
        let (engine, _) = host();
        let e = engine.eval::<()>(r#"utils::write_keyval("/nonexistent/x", #{"a b": 1})"#);
        let e = e.expect_err("bad key").to_string();
        assert!(
            e.contains("utils::write_keyval: /nonexistent/x: Invalid key: a b"),
            "{e}"
        );
    }
}
