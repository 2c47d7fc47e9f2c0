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

/// A span of time as people say it: `2 h 37 min`, `45 min`, `1 h`; under a minute, `40 s`.
/// Whole minutes, rounded half up. The one place: time rules, e-mails and findings use it.
pub fn duration_es(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let minutes = (seconds + 30) / 60;
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
    fn durations_read_as_people_say_them() {
        let cases = [
            (-5, "0 s"),
            (0, "0 s"),
            (40, "40 s"),
            (60, "1 min"),
            (45 * 60 + 29, "45 min"),
            (45 * 60 + 30, "46 min"),
            (3600, "1 h"),
            (2 * 3600 + 37 * 60, "2 h 37 min"),
            (9435, "2 h 37 min"),
        ];
        for (seconds, text) in cases {
            assert_eq!(duration_es(seconds), text, "{seconds} s");
        }
    }
}
