//! The `fs` module: reading, writing and managing files from scripts. Relative paths are
//! relative to the process's current directory, which the runner sets to the test's
//! output directory while a test runs. Errors name the function and the path.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Module};

use super::register::func;
use crate::engine::ctx::HostCtx;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// The script error for an I/O failure of `func` doing `what` to `path`.
fn fail(func: &str, what: &str, path: &str, e: &io::Error) -> Box<EvalAltResult> {
    format!("fs::{func}: cannot {what} {path}: {e}").into()
}

fn read(path: &str) -> Res<String> {
    std::fs::read_to_string(path).map_err(|e| fail("read", "read", path, &e))
}

fn write(path: &str, text: &str) -> Res<()> {
    std::fs::write(path, text).map_err(|e| fail("write", "write", path, &e))
}

fn append(path: &str, text: &str) -> Res<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| fail("append", "append to", path, &e))
}

fn mkdir(path: &str) -> Res<()> {
    std::fs::create_dir_all(path).map_err(|e| fail("mkdir", "create", path, &e))
}

fn remove(path: &str) -> Res<()> {
    let result = std::fs::symlink_metadata(path).and_then(|meta| {
        // A symlink to a directory is removed, not followed.
        if meta.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        }
    });
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(fail("remove", "remove", path, &e)),
        _ => Ok(()),
    }
}

fn list(path: &str) -> Res<Array> {
    let entries = std::fs::read_dir(path).map_err(|e| fail("list", "list", path, &e))?;
    let mut names = entries
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| fail("list", "list", path, &e))?;
    names.sort();
    Ok(names.into_iter().map(Dynamic::from).collect())
}

/// Copies a file, a symlink (as a symlink) or a directory tree from `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(drop)
    }
}

fn copy(from: &str, to: &str) -> Res<()> {
    let source = Path::new(from);
    let mut target = PathBuf::from(to);
    // Like `cp -r`: into an existing directory, the copy keeps its own name.
    if let (true, Some(name)) = (target.is_dir(), source.file_name()) {
        target.push(name);
    }
    if source.is_dir() && target.starts_with(source) {
        return Err(format!(
            "fs::copy: cannot copy {from} into itself ({})",
            target.display()
        )
        .into());
    }
    copy_tree(source, &target)
        .map_err(|e| format!("fs::copy: cannot copy {from} to {}: {e}", target.display()).into())
}

/// Registers the `fs` module: `read`, `write`, `append`, `exists`, `mkdir`, `remove`,
/// `list`, `copy` and `join`.
pub(crate) fn register(engine: &mut Engine, _ctx: &Arc<HostCtx>) {
    let mut m = Module::new();
    func(
        "read",
        &["path: string", "string"],
        "The whole content of the file at `path`, which must be UTF-8 text.
         A relative path is relative to the current directory, the test's outputdir.",
    )
    .set_into_module(&mut m, read);
    func(
        "write",
        &["path: string", "text: string", "()"],
        "Writes `text` to the file at `path`, creating it or replacing its content.
         The parent directory must exist. A relative path is relative to the test's outputdir.",
    )
    .set_into_module(&mut m, write);
    func(
        "append",
        &["path: string", "text: string", "()"],
        "Appends `text` to the file at `path`, creating it if needed.",
    )
    .set_into_module(&mut m, append);
    func(
        "exists",
        &["path: string", "bool"],
        "True when `path` exists (a symlink counts when its target exists).",
    )
    .set_into_module(&mut m, |path: &str| Path::new(path).exists());
    func(
        "mkdir",
        &["path: string", "()"],
        "Creates the directory `path` and any missing parents; an existing one is fine.",
    )
    .set_into_module(&mut m, mkdir);
    func(
        "remove",
        &["path: string", "()"],
        "Removes the file, symlink or directory (with everything in it) at `path`;
         a missing path is fine.",
    )
    .set_into_module(&mut m, remove);
    func(
        "list",
        &["path: string", "array"],
        "The names of the entries of the directory `path`, sorted, without `.` and `..`.",
    )
    .set_into_module(&mut m, list);
    func(
        "copy",
        &["from: string", "to: string", "()"],
        "Copies the file or directory tree `from` to `to`, replacing files there.
         When `to` is an existing directory, the copy goes inside it under its own name,
         like `cp -r`. Symlinks are copied as symlinks.",
    )
    .set_into_module(&mut m, copy);
    func(
        "join",
        &["a: string", "b: string", "string"],
        "The path `b` inside `a` (`fs::join(\"x\", \"y\")` is \"x/y\"); `b` when it is absolute.",
    )
    .with_volatility(false)
    .set_into_module(&mut m, |a: &str, b: &str| {
        Path::new(a).join(b).to_string_lossy().into_owned()
    });
    engine.register_static_module("fs", m.into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn host() -> Engine {
        let mut engine = Engine::new();
        register(&mut engine, &HostCtx::new(Arc::new(AtomicBool::new(false))));
        engine
    }

    /// Runs `script` with `D` replaced by a fresh temporary directory.
    fn in_tempdir<T: Clone + Send + Sync + 'static>(script: &str) -> Res<T> {
        let dir = tempfile::tempdir().expect("tempdir");
        host().eval::<T>(&script.replace('D', &dir.path().display().to_string()))
    }

    #[test]
    fn files_round_trip() {
        let got = in_tempdir::<String>(
            r#"fs::write("D/a", "one\n"); fs::append("D/a", "two"); fs::append("D/b", "x");
               fs::read("D/a") + fs::read("D/b")"#,
        );
        assert_eq!(got.expect("eval"), "one\ntwox");
    }

    #[test]
    fn directories_are_made_listed_copied_and_removed() {
        let got = in_tempdir::<rhai::Array>(
            r#"fs::mkdir("D/x/y"); fs::mkdir("D/x/y"); fs::write("D/x/y/f", "hi");
               fs::write("D/x/b", ""); fs::copy("D/x", "D/z"); fs::mkdir("D/in");
               fs::copy("D/x", "D/in"); fs::copy("D/x/b", "D/c");
               let l = [fs::list("D"), fs::list("D/x"), fs::read("D/z/y/f"), fs::read("D/in/x/y/f")];
               fs::remove("D/x"); fs::remove("D/x"); fs::remove("D/c");
               l + [fs::exists("D/x"), fs::exists("D/c"), fs::exists("D/z")]"#,
        );
        let expected = r#"[["c", "in", "x", "z"], ["b", "y"], "hi", "hi", false, false, true]"#;
        assert_eq!(format!("{:?}", got.expect("eval")), expected);
    }

    #[test]
    fn errors_name_the_path() {
        let e = in_tempdir::<String>(r#"fs::read("D/missing")"#).expect_err("missing");
        assert!(e.to_string().contains("fs::read: cannot read /"), "{e}");
        assert!(e.to_string().contains("/missing: No such file"), "{e}");
        let e = in_tempdir::<()>(r#"fs::write("D/no/dir", "")"#).expect_err("no parent");
        assert!(e.to_string().contains("fs::write: cannot write /"), "{e}");
        let e =
            in_tempdir::<()>(r#"fs::mkdir("D/a"); fs::copy("D/a", "D/a/b")"#).expect_err("loop");
        assert!(e.to_string().contains("into itself"), "{e}");
    }

    #[test]
    fn join_builds_paths() {
        let engine = host();
        assert_eq!(
            engine
                .eval::<String>(r#"fs::join("a", "b")"#)
                .expect("eval"),
            "a/b"
        );
        assert_eq!(
            engine
                .eval::<String>(r#"fs::join("a/", "/b")"#)
                .expect("eval"),
            "/b"
        );
    }
}
