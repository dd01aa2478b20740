//! The job keyval's first block (SCRIPT-API §7): what TKO reads about the job, namely
//! `status_version=1`, when it started, the host, the user, the label, the autorun
//! version and the command line.

use std::collections::BTreeMap;

/// The entries written to `<results>/keyval` when the job starts.
pub(super) fn job_keyval(label: &str, cmdline: &str) -> BTreeMap<String, String> {
    [
        ("status_version", "1".to_string()),
        ("job_started", chrono::Utc::now().timestamp().to_string()),
        (
            "hostname",
            crate::engine::api::facts::hostname().unwrap_or_else(|_| "localhost".into()),
        ),
        ("user", username()),
        ("label", label.to_string()),
        ("autorun_version", env!("CARGO_PKG_VERSION").to_string()),
        ("cmdline", cmdline.replace('\n', " ")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The login name: `$USER`, else the passwd entry of our uid, else the uid itself.
fn username() -> String {
    if let Ok(user) = std::env::var("USER") {
        return user;
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}
