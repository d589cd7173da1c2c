//! Time stamps as SkillMeat writes them in records and the database.

use std::time::SystemTime;

/// `t` as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}
