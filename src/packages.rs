//! Test packages: `job.run_test("pkgs/name.tar.gz")` names an archive instead of a test.
//!
//! Like the original's `_installtest`, a local archive (nothing is downloaded at run time)
//! is unpacked once into `<testdir>/download/<group>/<name>/`, whose `<name>.rhai` is the
//! test. An install appears only by an atomic rename of a directory already holding a
//! completion marker, so a crash or a broken archive never leaves a valid-looking install.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use fs2::FileExt;

/// Written last into a prepared install; a directory without it is not a finished install.
const MARKER: &str = ".autorun-installed";

/// Archive suffixes a package may have; `unpack` picks the decompressor by them.
const EXTENSIONS: [&str; 4] = [".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"];

/// Why a test package could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The URL cannot name a local package: another scheme, or no archive file name.
    #[error("test package {url}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong and how to fix it.
        reason: &'static str,
    },
    /// Reading, decompressing or unpacking the archive failed; nothing was installed.
    #[error("cannot install test package {url}: {cause}")]
    Install {
        /// The URL as given.
        url: String,
        /// The cause with its whole chain (tar hides the underlying error in its message).
        cause: String,
    },
    /// The archive unpacked but holds no test script of the package's name.
    #[error("package {url} does not contain {name}.rhai")]
    NoScript {
        /// The URL as given.
        url: String,
        /// The package's test name.
        name: String,
    },
    /// The install directory exists but was not made by a complete install.
    #[error("{} exists but is not a complete install of test package {url}; remove it and run again", dir.display())]
    Incomplete {
        /// The URL as given.
        url: String,
        /// The directory in the way.
        dir: PathBuf,
    },
}

/// Whether a test name refers to a package archive (`.tar.gz`, `.tgz`, `.tar.bz2`,
/// `.tar.xz`). Any URL scheme counts, so that [`install`] can explain why it refuses one.
pub fn is_package(name: &str) -> bool {
    extension(name).is_some()
}

/// The `(group, name)` of a package, like the original's `get_package_name`: `name` is the
/// file name without its archive extension and without trailing `.<digits>` version
/// suffixes; `group` is the folder holding the archive with every non-word character
/// replaced by `_`, or empty when the URL names no folder.
pub fn package_name(url: &str) -> Result<(String, String), PackageError> {
    let bad = |reason| PackageError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    let path = Path::new(split_scheme(url).map_or(url, |(_, rest)| rest));
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let ext =
        extension(file).ok_or_else(|| bad("not a .tar.gz, .tgz, .tar.bz2 or .tar.xz archive"))?;
    let mut name = &file[..file.len() - ext.len()];
    let is_version = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    while let Some((stem, _)) = name.rsplit_once('.').filter(|(_, v)| is_version(v)) {
        name = stem;
    }
    if name.is_empty() || name == "." || name == ".." {
        return Err(bad("no test name in the file name; name it <test>.tar.gz"));
    }
    let folder = path.parent().and_then(Path::file_name).unwrap_or_default();
    let word = |c: char| if c.is_ascii_alphanumeric() { c } else { '_' };
    let group = folder.to_string_lossy().chars().map(word).collect();
    Ok((group, name.to_owned()))
}

/// Installs the package once into `<testdir>/download/<group>/<name>/` and returns the
/// path of its test script `<that dir>/<name>.rhai`. `url` is a local path (relative to
/// `base`, the control file's folder) or `file://` + an absolute path. An existing
/// complete install is returned at once without reading the archive.
pub fn install(url: &str, base: &Path, testdir: &Path) -> Result<PathBuf, PackageError> {
    let archive = archive_path(url, base)?;
    let (group, name) = package_name(url)?;
    let failed = |cause: &dyn std::error::Error| PackageError::Install {
        url: url.to_owned(),
        cause: chain(cause),
    };
    let group_dir = testdir.join("download").join(&group);
    let dest = group_dir.join(&name);
    let script = dest.join(format!("{name}.rhai"));
    if installed(&dest, url)? {
        return Ok(script);
    }
    fs::create_dir_all(&group_dir).map_err(|e| failed(&with_path(e, &group_dir)))?;
    // Another autorun may be installing the same package: only one may extract and rename.
    // Held until return; truncating is harmless as the lock lives on the (empty) inode.
    let lock_path = group_dir.join(format!(".{name}.lock"));
    let _lock = File::create(&lock_path)
        .and_then(|f| f.lock_exclusive().map(|()| f))
        .map_err(|e| failed(&with_path(e, &lock_path)))?;
    if installed(&dest, url)? {
        return Ok(script);
    }
    tracing::debug!(url, dest = %dest.display(), "installing test package");
    // Same filesystem as `dest`, so the final rename is atomic; removed on every error path.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp"))
        .tempdir_in(&group_dir)
        .map_err(|e| failed(&with_path(e, &group_dir)))?;
    unpack(&archive, tmp.path(), &group_dir).map_err(|e| failed(&e))?;
    let root = script_root(tmp.path(), &name).ok_or_else(|| PackageError::NoScript {
        url: url.to_owned(),
        name: name.clone(),
    })?;
    finish(&root, &group_dir, &dest, url).map_err(|e| failed(&e))?;
    if root == tmp.path() {
        let _ = tmp.keep(); // It became the install itself: it must not be deleted.
    }
    Ok(script)
}

/// Whether `dest` is a complete install; anything else already there is in the way.
fn installed(dest: &Path, url: &str) -> Result<bool, PackageError> {
    match dest.symlink_metadata() {
        Err(_) => Ok(false),
        Ok(_) if dest.join(MARKER).is_file() => Ok(true),
        Ok(_) => Err(PackageError::Incomplete {
            url: url.to_owned(),
            dir: dest.to_path_buf(),
        }),
    }
}

/// Marks `root` complete, gives it the group directory's permissions (a tempdir is 0700)
/// and renames it into place.
fn finish(root: &Path, group_dir: &Path, dest: &Path, url: &str) -> io::Result<()> {
    fs::write(root.join(MARKER), format!("{url}\n"))?;
    fs::set_permissions(root, fs::metadata(group_dir)?.permissions())?;
    fs::rename(root, dest).map_err(|e| with_path(e, dest))
}

/// Where the unpacked test lives: the top of `tmp`, or its single `<name>/` directory.
fn script_root(tmp: &Path, name: &str) -> Option<PathBuf> {
    let script = format!("{name}.rhai");
    let is_file = |p: PathBuf| p.symlink_metadata().is_ok_and(|m| m.is_file());
    if is_file(tmp.join(&script)) {
        return Some(tmp.to_path_buf());
    }
    let mut entries = fs::read_dir(tmp).ok()?;
    let only = entries.next()?.ok()?;
    let is_dir = only.file_type().is_ok_and(|t| t.is_dir());
    let root = only.path();
    (entries.next().is_none() && only.file_name() == name && is_dir && is_file(root.join(&script)))
        .then_some(root)
}

/// Resolves `url` to a local archive path, refusing every scheme but `file://`.
fn archive_path(url: &str, base: &Path) -> Result<PathBuf, PackageError> {
    let reason = match split_scheme(url) {
        None => return Ok(base.join(url)),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => {
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            if rest.starts_with('/') {
                return Ok(PathBuf::from(rest));
            }
            "a file:// URL needs an absolute path, like file:///srv/pkgs/test.tar.gz"
        }
        Some(_) => "only local paths and file:// URLs are supported (nothing is downloaded at run time); download the archive and name its path",
    };
    let url = url.to_owned();
    Err(PackageError::BadUrl { url, reason })
}

/// `scheme://rest` split in two, when `url` starts with a URL scheme.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    url.split_once("://")
        .filter(|(scheme, _)| !scheme.is_empty() && !scheme.contains('/'))
}

fn extension(name: &str) -> Option<&'static str> {
    EXTENSIONS
        .into_iter()
        .find(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// Decompresses `archive` by its extension and unpacks it into `dest`.
fn unpack(archive: &Path, dest: &Path, scratch: &Path) -> io::Result<()> {
    let mut reader = BufReader::new(File::open(archive).map_err(|e| with_path(e, archive))?);
    match extension(&archive.to_string_lossy()) {
        Some(".tar.bz2") => untar(bzip2::read::MultiBzDecoder::new(reader), dest),
        Some(".tar.xz") => {
            // lzma-rs only decodes into a writer; an unnamed file keeps memory use flat.
            let mut tar = tempfile::tempfile_in(scratch)?;
            lzma_rs::xz_decompress(&mut reader, &mut tar)
                .map_err(|e| io::Error::other(format!("xz: {e}")))?;
            tar.seek(SeekFrom::Start(0))?;
            untar(BufReader::new(tar), dest)
        }
        _ => untar(flate2::read::MultiGzDecoder::new(reader), dest),
    }
}

/// Unpacks a tar stream into `dest`, failing on any entry that would land outside it.
fn untar<R: Read>(reader: R, dest: &Path) -> io::Result<()> {
    // Header and trailer errors mean a bad archive; errors while unpacking speak for themselves.
    let damaged = |e| io::Error::other(format!("damaged or not a tar archive: {}", chain(&e)));
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let path = entry.path()?.into_owned();
        let inside = path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        // `unpack_in` would silently skip or re-root such entries; a package with them is
        // broken or hostile, so refuse it whole.
        if !inside || !entry.unpack_in(dest)? {
            let msg = format!("entry {} points outside the package", path.display());
            return Err(io::Error::other(msg));
        }
    }
    // tar stops at the end-of-archive blocks; reading on lets the decoder check its trailer.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(damaged)?;
    Ok(())
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The error and its sources joined by `: `.
fn chain(e: &dyn std::error::Error) -> String {
    let texts: Vec<String> = std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect();
    texts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SCRIPT: &[u8] = b"fn run_once() { }\n";

    /// A tar stream; names ending in `/` are directories. Headers are raw so that hostile
    /// names like `../evil`, which `tar::Builder` refuses, can be written.
    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            let dir = name.ends_with('/');
            header.set_entry_type(if dir {
                tar::EntryType::Directory
            } else {
                tar::EntryType::Regular
            });
            header.set_mode(if dir { 0o755 } else { 0o644 });
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, *data).expect("append");
        }
        builder.into_inner().expect("finish tar")
    }

    fn compress(file: &str, tar: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match extension(file).expect("archive extension") {
            ".tar.bz2" => {
                let mut enc = bzip2::write::BzEncoder::new(out, bzip2::Compression::default());
                enc.write_all(tar).expect("bzip2");
                out = enc.finish().expect("bzip2");
            }
            ".tar.xz" => lzma_rs::xz_compress(&mut &tar[..], &mut out).expect("xz"),
            _ => {
                let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::default());
                enc.write_all(tar).expect("gzip");
                out = enc.finish().expect("gzip");
            }
        }
        out
    }

    /// A root with `pkgs/<file>` built from `entries`, and a `tests/` test directory.
    fn fixture(file: &str, entries: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().expect("tempdir");
        fs::create_dir(root.path().join("pkgs")).expect("mkdir");
        let bytes = compress(file, &tar_of(entries));
        fs::write(root.path().join("pkgs").join(file), bytes).expect("write archive");
        let testdir = root.path().join("tests");
        (root, testdir)
    }

    fn installs(file: &str) {
        let (root, testdir) = fixture(file, &[("mytest.rhai", SCRIPT)]);
        let url = format!("pkgs/{file}");
        let script = install(&url, root.path(), &testdir).expect("install");
        assert_eq!(script, testdir.join("download/pkgs/mytest/mytest.rhai"));
        assert_eq!(fs::read(&script).expect("read script"), SCRIPT);
    }

    #[test]
    fn installs_tar_gz() {
        installs("mytest.tar.gz");
    }

    #[test]
    fn installs_tar_bz2() {
        installs("mytest.tar.bz2");
    }

    #[test]
    fn installs_tar_xz() {
        installs("mytest.tar.xz");
    }

    #[test]
    fn installs_from_a_file_url() {
        let (root, testdir) = fixture("mytest.1.tgz", &[("mytest.rhai", SCRIPT)]);
        let url = format!("file://{}", root.path().join("pkgs/mytest.1.tgz").display());
        let script = install(&url, Path::new("/nonexistent"), &testdir).expect("install");
        assert_eq!(fs::read(script).expect("read script"), SCRIPT);
    }

    #[test]
    fn a_single_top_directory_becomes_the_install() {
        let entries: &[(&str, &[u8])] = &[
            ("mytest/", b""),
            ("mytest/mytest.rhai", SCRIPT),
            ("mytest/data.txt", b"x"),
        ];
        let (root, testdir) = fixture("mytest.tar.gz", entries);
        let script = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect("install");
        let dir = testdir.join("download/pkgs/mytest");
        assert_eq!(script, dir.join("mytest.rhai"));
        assert_eq!(fs::read(dir.join("data.txt")).expect("data"), b"x");
        assert!(dir.join(MARKER).is_file());
    }

    #[test]
    fn a_second_install_does_not_extract_again() {
        let (root, testdir) = fixture("mytest.tar.gz", &[("mytest.rhai", SCRIPT)]);
        let script = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect("install");
        fs::write(&script, "changed").expect("modify");
        fs::remove_file(root.path().join("pkgs/mytest.tar.gz")).expect("remove archive");
        let again = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect("reinstall");
        assert_eq!(again, script);
        assert_eq!(fs::read_to_string(&script).expect("read"), "changed");
    }

    #[test]
    fn concurrent_installs_agree() {
        let (root, testdir) = fixture("mytest.tar.bz2", &[("mytest.rhai", SCRIPT)]);
        let paths: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| install("pkgs/mytest.tar.bz2", root.path(), &testdir)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread").expect("install"))
                .collect()
        });
        assert!(paths.iter().all(|p| fs::read(p).expect("read") == SCRIPT));
    }

    /// Directories left in the group directory (only the lock file may remain).
    fn leftover_dirs(testdir: &Path) -> Vec<PathBuf> {
        let group = fs::read_dir(testdir.join("download/pkgs")).expect("group dir");
        group
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .collect()
    }

    #[test]
    fn a_truncated_archive_installs_nothing() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let (root, testdir) = fixture("mytest.tar.gz", &[("mytest.rhai", SCRIPT), ("big", &data)]);
        let archive = root.path().join("pkgs/mytest.tar.gz");
        let bytes = fs::read(&archive).expect("read archive");
        fs::write(&archive, &bytes[..bytes.len() / 2]).expect("truncate");
        let err = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect_err("truncated");
        assert!(
            err.to_string()
                .starts_with("cannot install test package pkgs/mytest.tar.gz: "),
            "{err}"
        );
        assert!(!testdir.join("download/pkgs/mytest").exists());
        assert_eq!(leftover_dirs(&testdir), Vec::<PathBuf>::new());
    }

    #[test]
    fn an_archive_without_the_script_is_refused() {
        let (root, testdir) = fixture("mytest.tar.xz", &[("other.rhai", SCRIPT)]);
        let err = install("pkgs/mytest.tar.xz", root.path(), &testdir).expect_err("no script");
        assert_eq!(
            err.to_string(),
            "package pkgs/mytest.tar.xz does not contain mytest.rhai"
        );
        assert_eq!(leftover_dirs(&testdir), Vec::<PathBuf>::new());
    }

    #[test]
    fn hostile_entries_do_not_escape() {
        for evil in ["../evil", "/autorun-package-test-evil"] {
            let entries: &[(&str, &[u8])] = &[("mytest.rhai", SCRIPT), (evil, b"pwned")];
            let (root, testdir) = fixture("mytest.tar.gz", entries);
            let err = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect_err(evil);
            let text = err.to_string();
            assert!(text.contains(&format!("{evil} points outside")), "{text}");
            assert!(!testdir.join("download/pkgs/evil").exists() && !Path::new(evil).exists());
            assert!(!testdir.join("download/pkgs/mytest").exists());
        }
    }

    #[test]
    fn a_directory_without_the_marker_is_refused() {
        let (root, testdir) = fixture("mytest.tar.gz", &[("mytest.rhai", SCRIPT)]);
        fs::create_dir_all(testdir.join("download/pkgs/mytest")).expect("mkdir");
        let err = install("pkgs/mytest.tar.gz", root.path(), &testdir).expect_err("foreign");
        assert!(err.to_string().contains("remove it"), "{err}");
    }

    #[test]
    fn only_local_urls_are_accepted() {
        let err = install(
            "http://example.com/pkgs/mytest.tar.gz",
            Path::new("."),
            Path::new("."),
        )
        .expect_err("http");
        let text = err.to_string();
        assert!(
            text.contains("http://example.com/pkgs/mytest.tar.gz") && text.contains("file://"),
            "{text}"
        );
        assert!(install("file://pkgs/mytest.tar.gz", Path::new("."), Path::new(".")).is_err());
    }

    #[test]
    fn names_and_groups_follow_the_original() {
        let name = |url: &str| package_name(url).expect(url);
        assert_eq!(
            name("/x/pkgs/mytest.tar.bz2"),
            ("pkgs".into(), "mytest".into())
        );
        assert_eq!(name("mytest.1.tar.gz"), (String::new(), "mytest".into()));
        assert_eq!(
            name("file:///srv/my-pkgs/t.2.10.tgz"),
            ("my_pkgs".into(), "t".into())
        );
        assert_eq!(name("a/my.test.tar.xz").1, "my.test");
        assert!(package_name("pkgs/.1.tar.gz").is_err());
        assert!(is_package("a/b.tar.xz") && is_package("b.tgz") && !is_package("b.rhai"));
        assert!(!is_package(".tar.gz"));
    }
}
