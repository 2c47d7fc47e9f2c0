//! Writing to the journal. Every entry carries its effect key: a second delivery of the same
//! job finds the key and posts nothing, so money effects happen once however often the queue
//! delivers.

use std::collections::HashSet;

use crate::db::Tx;
use crate::on_tx;
use sqlx::AssertSqlSafe;
use vereda_contracts::ledger::{Entry, Posting};

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether [`post`] wrote an entry or found its effect key already there.
#[must_use = "an entry found already posted means its effect happened before: say what that means here"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    New,
    Already,
}

impl Posted {
    pub fn is_new(self) -> bool {
        self == Posted::New
    }

    /// For a caller whose own compare-and-set has just proved the effect new (a line that
    /// was pending, a note that was requested): finding the entry already posted means the
    /// ledger and the documents disagree, and the transaction must not commit.
    pub fn expect_new(self, effect: &str) -> anyhow::Result<()> {
        match self {
            Posted::New => Ok(()),
            Posted::Already => anyhow::bail!(
                "the ledger already has the entry of {effect}, whose state change was new: \
                 the ledger and the documents disagree (see GET /v1/ledger/audit)"
            ),
        }
    }
}

/// Post `entry` in `tx`. Returns false, posting nothing, when an entry with its effect key
/// already exists. An entry that does not balance is an error (and the caller's transaction
/// must roll back).
pub async fn post(tx: &mut Tx, entry: Entry, at: i64) -> anyhow::Result<Posted> {
    let entry = entry.checked()?;
    let entry_id = new_id();
    let inserted = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO ledger_entries (id, effect_key, kind, description, posted_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (effect_key) DO NOTHING"
    )
    .bind(&entry_id)
    .bind(&entry.effect_key)
    .bind(entry.kind)
    .bind(&entry.description)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(Posted::Already);
    }
    for p in &entry.postings {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO ledger_postings \
             (id, entry_id, account, account_kind, account_owner, debit, credit, posted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(new_id())
        .bind(&entry_id)
        .bind(p.account.name())
        .bind(p.account.kind())
        .bind(p.account.owner())
        .bind(p.debit)
        .bind(p.credit)
        .bind(at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(Posted::New)
}

/// `rows` groups of `cols` placeholders numbered from `$first`: `($1, $2), ($3, $4)`.
pub fn placeholders(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for k in 0..cols {
            if k > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(first + r * cols + k).to_string());
        }
        s.push(')');
    }
    s
}

/// `$first, …` for an `IN (…)` list of `n` values.
pub fn in_list(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Entries per multi-row statement: their postings (three or four each, eight columns) stay
/// well under SQLite's and PostgreSQL's limits on bound parameters.
const POST_CHUNK: usize = 500;

/// Post many entries in `tx` with a few multi-row statements instead of one round trip per
/// row. Returns, in order, whether each entry was posted (false: its effect key already
/// existed and nothing was written for it). Any unbalanced entry is an error before anything
/// is written.
pub async fn post_many(tx: &mut Tx, entries: Vec<Entry>, at: i64) -> anyhow::Result<Vec<Posted>> {
    let entries = entries
        .into_iter()
        .map(Entry::checked)
        .collect::<Result<Vec<_>, _>>()?;
    let mut posted = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(POST_CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
        let sql = format!(
            "INSERT INTO ledger_entries (id, effect_key, kind, description, posted_at) VALUES {} \
             ON CONFLICT (effect_key) DO NOTHING RETURNING id",
            placeholders(chunk.len(), 5, 1)
        );
        let inserted: Vec<String> = on_tx!(tx, |c| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql.as_str()));
            for (e, id) in chunk.iter().zip(&ids) {
                q = q
                    .bind(id)
                    .bind(&e.effect_key)
                    .bind(e.kind)
                    .bind(&e.description)
                    .bind(at);
            }
            q.fetch_all(&mut *c).await
        })?;
        let inserted: HashSet<String> = inserted.into_iter().collect();
        let rows: Vec<(&String, &Posting)> = chunk
            .iter()
            .zip(&ids)
            .filter(|(_, id)| inserted.contains(*id))
            .flat_map(|(e, id)| e.postings.iter().map(move |p| (id, p)))
            .collect();
        posted.extend(ids.iter().map(|id| {
            if inserted.contains(id) {
                Posted::New
            } else {
                Posted::Already
            }
        }));
        if rows.is_empty() {
            continue;
        }
        let sql = format!(
            "INSERT INTO ledger_postings \
             (id, entry_id, account, account_kind, account_owner, debit, credit, posted_at) VALUES {}",
            placeholders(rows.len(), 8, 1)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            for (entry_id, p) in &rows {
                q = q
                    .bind(new_id())
                    .bind(*entry_id)
                    .bind(p.account.name())
                    .bind(p.account.kind())
                    .bind(p.account.owner())
                    .bind(p.debit)
                    .bind(p.credit)
                    .bind(at);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(posted)
}
