//! What a money run could not do for one item. A run never stops for everyone because of one
//! bad assignment, company or worker: it does the rest and reports the item, with what a
//! person should do about it, in the job's result (`GET /v1/jobs/{id}`).

use serde::{Deserialize, Serialize};

/// One item a run left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProblem {
    /// What it concerns: `assignment:<id>`, `company:<id>` or `worker:<id>`.
    pub subject: String,
    /// What went wrong (for the technician).
    pub error: String,
    /// What to do about it, in Spanish (for the finance clerk).
    pub action: String,
}

impl RunProblem {
    pub fn new(kind: &str, id: &str, error: &anyhow::Error, action: &str) -> RunProblem {
        tracing::error!(subject = %format!("{kind}:{id}"), error = %format!("{error:#}"), "left out of the run");
        // A numbering resolution that stops the document says what to do about it instead.
        let action = match error
            .chain()
            .find_map(|c| c.downcast_ref::<vereda_contracts::resolutions::ResolutionRefusal>())
        {
            Some(refusal) => format!(
                "{} Después vuelva a ejecutar la misma corrida: no se duplicará nada.",
                refusal.message_es()
            ),
            None => action.to_string(),
        };
        RunProblem {
            subject: format!("{kind}:{id}"),
            error: format!("{error:#}"),
            action,
        }
    }
}

/// True when `e` says nothing about the item being worked on — the database is unreachable,
/// the pool is exhausted, the connection broke — so the whole run must fail and be retried
/// rather than report the item as bad.
pub fn is_systemic(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            )
        ) || cause.downcast_ref::<std::io::Error>().is_some()
    })
}

/// Run `one` for every item of a batch that failed as a whole, so the good items still get
/// done; a systemic failure stops it at once. Returns what the good items gave, in order, and
/// a problem for each bad one.
pub async fn one_by_one<T, F>(
    items: &[String],
    kind: &str,
    action: &str,
    mut one: impl FnMut(String) -> F,
) -> anyhow::Result<(Vec<T>, Vec<RunProblem>)>
where
    F: Future<Output = anyhow::Result<T>>,
{
    let (mut done, mut problems) = (Vec::new(), Vec::new());
    for id in items {
        match one(id.clone()).await {
            Ok(t) => done.push(t),
            Err(e) if is_systemic(&e) => return Err(e),
            Err(e) => problems.push(RunProblem::new(kind, id, &e, action)),
        }
    }
    Ok((done, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_systemic_and_a_bad_row_is_not() {
        let io = anyhow::Error::from(sqlx::Error::PoolTimedOut).context("accrual batch");
        assert!(is_systemic(&io));
        let bad = anyhow::anyhow!("margin 15000 bp out of range");
        assert!(!is_systemic(&bad));
        let row = anyhow::Error::from(sqlx::Error::RowNotFound);
        assert!(!is_systemic(&row));
    }
}
