//! `autorun check`, `autorun list` and `autorun api`: describe scripts and the host API
//! without running any test.

use crate::cli::{ApiArgs, CheckArgs, ListArgs};
use crate::error::Error;

/// `autorun check SCRIPT... [KEY=VALUE]...`.
pub fn check(_cmd: CheckArgs) -> Result<i32, Error> {
    Err(Error::Other("check is being written".into()))
}

/// `autorun list [DIR]...`.
pub fn list(_cmd: ListArgs) -> Result<i32, Error> {
    Err(Error::Other("list is being written".into()))
}

/// `autorun api`.
pub fn api(_cmd: ApiArgs) -> Result<i32, Error> {
    Err(Error::Other("api is being written".into()))
}
