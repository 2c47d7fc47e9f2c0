//! Cursor pagination: `?limit=&cursor=`, answered with `next_cursor`. Ids are UUIDv7 (jobs'
//! are ULIDs), so "newest first" is `ORDER BY id DESC` and a cursor is the last id seen,
//! opaque to clients.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A parsed page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    /// Only rows with an id below this one (newest first).
    pub before_id: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let before_id = match cursor {
            None | Some("") => None,
            Some(c) => Some(
                decode(c)
                    .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor from this API"))?,
            ),
        };
        Ok(PageRequest { limit, before_id })
    }

    /// The bound for `id < $n`: the cursor, or a value above every id.
    pub fn before(&self) -> &str {
        self.before_id.as_deref().unwrap_or("~")
    }

    /// How many rows to fetch: one more than the page, to know whether another page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Trim the extra row and compute the next cursor from the last id kept.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
        if rows.len() as i64 > self.limit {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(|r| encode(id(r)));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

fn encode(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let s = String::from_utf8(bytes).ok()?;
    (uuid::Uuid::parse_str(&s).is_ok() || is_ulid(&s)).then_some(s)
}

/// A job id: apalis names jobs with ULIDs (26 characters of Crockford's base32), which sort by
/// time as UUIDv7s do.
fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"ILOU".contains(&b)))
}
