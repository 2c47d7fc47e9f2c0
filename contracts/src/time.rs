//! Time as the product sees it: instants in UTC to the second, stored as Unix seconds
//! (`BIGINT`, the same on both databases); calendar days and months in America/Bogota.

use chrono::{DateTime, TimeZone, Utc};

/// Bogotá: UTC−05:00, no daylight saving.
pub const BOGOTA: chrono_tz::Tz = chrono_tz::America::Bogota;

/// Now, truncated to the second.
pub fn now() -> DateTime<Utc> {
    from_unix(Utc::now().timestamp())
}

pub fn from_unix(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

pub fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}
