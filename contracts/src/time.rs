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

/// A duration as people read it here: `2 h 37 min`, `45 min`, `3 h` (whole minutes, rounded
/// down; under a minute is `0 min`).
pub fn duration_es(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::duration_es;

    #[test]
    fn durations_read_as_hours_and_minutes() {
        let cases = [
            (0, "0 min"),
            (59, "0 min"),
            (45 * 60, "45 min"),
            (3 * 3600, "3 h"),
            (2 * 3600 + 37 * 60 + 59, "2 h 37 min"),
            (-5, "0 min"),
        ];
        for (seconds, text) in cases {
            assert_eq!(duration_es(seconds), text, "{seconds} s");
        }
    }
}
