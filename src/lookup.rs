//! Finding a test by name (SCRIPT-API §6): a path to a `.rhai` file relative to the
//! caller, else a name in the test directories, where later directories override earlier
//! ones (the original's `site_tests` over `tests`): `<dir>/<name>.rhai` or
//! `<dir>/<name>/<name>.rhai`; `group:name` means `group/name`.

use std::path::{Path, PathBuf};

/// The test directories a control file in `base` uses when none are given: `tests` and
/// `site_tests` next to it, those that exist, in that order.
pub fn default_testdirs(base: &Path) -> Vec<PathBuf> {
    ["tests", "site_tests"]
        .iter()
        .map(|d| base.join(d))
        .filter(|d| d.is_dir())
        .collect()
}

/// The test's name as the results directory and status log show it: the last path
/// component without `.rhai`.
pub fn test_name(name: &str) -> String {
    let path = name.replace(':', "/");
    let last = path.rsplit('/').next().unwrap_or(&path);
    last.strip_suffix(".rhai").unwrap_or(last).to_string()
}

/// Finds the script for `name`: relative to `base` when it names a `.rhai` file, else in
/// `testdirs`, the last match winning.
pub fn resolve(name: &str, base: &Path, testdirs: &[PathBuf]) -> Option<PathBuf> {
    if name.ends_with(".rhai") {
        let direct = base.join(name);
        if direct.is_file() {
            return Some(direct);
        }
    }
    let path = name.replace(':', "/");
    let path = path.strip_suffix(".rhai").unwrap_or(&path);
    let last = test_name(path);
    testdirs.iter().rev().find_map(|dir| {
        [
            dir.join(format!("{path}.rhai")),
            dir.join(path).join(format!("{last}.rhai")),
        ]
        .into_iter()
        .find(|p| p.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "fn run_once() {}").expect("write");
    }

    #[test]
    fn later_test_directories_override_earlier_ones() {
        let d = tempfile::tempdir().expect("tempdir");
        let (tests, site) = (d.path().join("tests"), d.path().join("site_tests"));
        touch(&tests.join("sleeptest/sleeptest.rhai"));
        touch(&site.join("sleeptest.rhai"));
        touch(&tests.join("only.rhai"));
        let dirs = default_testdirs(d.path());
        assert_eq!(dirs, vec![tests.clone(), site.clone()]);
        assert_eq!(
            resolve("sleeptest", d.path(), &dirs),
            Some(site.join("sleeptest.rhai"))
        );
        assert_eq!(
            resolve("only", d.path(), &dirs),
            Some(tests.join("only.rhai"))
        );
        assert_eq!(resolve("missing", d.path(), &dirs), None);
    }

    #[test]
    fn relative_paths_and_groups_are_found() {
        let d = tempfile::tempdir().expect("tempdir");
        touch(&d.path().join("mine/t.rhai"));
        touch(&d.path().join("tests/kernel/build/build.rhai"));
        let dirs = default_testdirs(d.path());
        assert_eq!(
            resolve("mine/t.rhai", d.path(), &dirs),
            Some(d.path().join("mine/t.rhai"))
        );
        assert_eq!(
            resolve("kernel:build", d.path(), &dirs),
            Some(d.path().join("tests/kernel/build/build.rhai"))
        );
        assert_eq!(test_name("kernel:build"), "build");
        assert_eq!(test_name("mine/t.rhai"), "t");
    }
}
