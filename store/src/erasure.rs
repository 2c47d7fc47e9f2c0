//! Deleting a worker's personal data (issue 22 §3; Ley 1581 art. 15, "supresión"), and the
//! ten-year retention of what the law keeps (Ley 962 de 2005, art. 28).
//!
//! [`ties`] reads what still ties her to the platform (the rule is
//! `contracts::personal_data::check_deletion`); [`anonymise`] then wipes, in the caller's
//! transaction, every personal field that no accounting record needs, table by table as
//! `data_export::SECTIONS` lists them. Kept, because accounting or the law needs them: the
//! ledger, accruals, invoices, payout lines (amounts, and the payout details they were sent
//! to), statements, documentos soporte and certificates (with the name and cédula they
//! print, so documents already issued stay byte-identical), assignments and time entries, the
//! access log and her requests. After her anonymisation those are readable by admins only,
//! and [`retention`] (run by housekeeping) removes their documents and payout details once
//! ten years old; ledger entries stay, as they hold no personal data.
//!
//! Each statement is one literal (the query test prepares every one on both databases).

use std::collections::{BTreeMap, BTreeSet};

use vereda_contracts::consent;
use vereda_contracts::money::Cop;
use vereda_contracts::personal_data::{ERASED_NAME, ERASED_PLACE, Tie, retention_cutoff};
use vereda_contracts::statements::Month;
use vereda_contracts::support_weeks::{self, Week};
use vereda_contracts::time;

use crate::db::{Db, Tx, WriteError};
use crate::{exec, exec_one, on_db, on_tx};

/// The payout method of an anonymised profile, as stored (`api::workers::PayoutMethod`'s
/// `erased` kind): it reads back, and is never accepted as input.
pub const ERASED_PAYOUT: &str = r#"{"kind":"erased"}"#;

/// Why a pending e-mail of hers was not sent.
const CANCELLED: &str = "No se envió: los datos de la persona se suprimieron.";

/// Whether her personal data was deleted (read in the caller's transaction, which should hold
/// her row), so nothing personal is written for her again.
pub async fn anonymised(tx: &mut Tx, worker_id: &str) -> Result<bool, sqlx::Error> {
    let at: Option<Option<i64>> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT anonymised_at FROM worker_profiles WHERE id = $1"
    )
    .bind(worker_id)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(matches!(at, Some(Some(_))))
}

/// What still ties the worker to the platform, read in the caller's transaction (which holds
/// her row: `locks::worker`). `minimum` is the payout batch's minimum.
pub async fn ties(tx: &mut Tx, worker_id: &str, minimum: Cop) -> Result<Vec<Tie>, sqlx::Error> {
    let mut ties = Vec::new();
    let open: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE worker_id = $1 \
         AND status IN ('claimed', 'submitted', 'verified', 'changes_requested')"
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await)?;
    if open > 0 {
        ties.push(Tie::OpenAssignments(open));
    }
    let to_accrue: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE worker_id = $1 AND status = 'approved' \
         AND accrued_at IS NULL"
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await)?;
    if to_accrue > 0 {
        ties.push(Tie::NotYetAccrued(to_accrue));
    }
    // Her payable account: credited when work accrues, debited when a batch takes it.
    let owed: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(credit), 0) - COALESCE(SUM(debit), 0) AS BIGINT) \
         FROM ledger_postings WHERE account_kind = 'worker_payable' AND account_owner = $1"
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await)?;
    if owed > 0 {
        ties.push(Tie::Owed {
            amount: Cop::from_centavos(owed),
            minimum,
        });
    }
    let (pending, in_flight): (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount - withholding), 0) AS BIGINT) \
         FROM payout_lines WHERE worker_id = $1 AND status = 'pending'"
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await)?;
    if pending > 0 {
        ties.push(Tie::InFlight(Cop::from_centavos(in_flight)));
    }
    let appeals: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM appeals WHERE worker_id = $1 AND status = 'open'"
    )
    .bind(worker_id)
    .fetch_one(&mut *c)
    .await)?;
    if appeals > 0 {
        ties.push(Tie::OpenAppeals(appeals));
    }
    ties.extend(
        support_documents_due(tx, worker_id)
            .await?
            .into_iter()
            .map(Tie::SupportDocumentDue),
    );
    Ok(ties)
}

/// Weeks whose earnings her documentos soporte do not cover yet, the week in course too (the
/// weekly run issues them each Monday): a documento soporte names her, so it must be issued
/// first. Months documented the monthly way (before weeks) are covered.
async fn support_documents_due(tx: &mut Tx, worker_id: &str) -> Result<Vec<Week>, sqlx::Error> {
    let earned: Vec<(i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT approved_at, work FROM accruals WHERE worker_id = $1"
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await)?;
    let monthly: BTreeSet<Month> =
        crate::stored_statements::monthly_documented(tx, worker_id).await?;
    let issued: BTreeMap<Week, i64> = on_tx!(tx, |c| sqlx::query_as::<_, (String, i64)>(
        "SELECT week_start, CAST(SUM(amount) AS BIGINT) FROM support_documents \
         WHERE worker_id = $1 AND week_start IS NOT NULL GROUP BY week_start"
    )
    .bind(worker_id)
    .fetch_all(&mut *c)
    .await)?
    .into_iter()
    .filter_map(|(w, a)| Week::parse(&w).map(|w| (w, a)))
    .collect();
    let now = time::unix(time::now());
    Ok(
        support_weeks::due(&earned, &monthly, &issued, Week::of(now).next())
            .into_keys()
            .collect(),
    )
}

/// Anonymise the worker in the caller's transaction, after [`ties`] found nothing. The
/// e-mail `keep_mail` (her confirmation, queued before her address goes) is left to be sent;
/// every other message of hers loses its address and text, and those not sent yet are not
/// sent. `helped_by`: the admin who filed for her (none: she did). Answers whether she was
/// anonymised now (false: she already was).
pub async fn anonymise(
    tx: &mut Tx,
    worker_id: &str,
    keep_mail: Option<&str>,
    helped_by: Option<&str>,
    now: i64,
) -> Result<bool, WriteError> {
    // Documents print her name and cédula as they were: pin what they show today, so they
    // render the same bytes once the profile is wiped.
    exec!(
        tx,
        sqlx::query(
            "UPDATE statements SET \
             worker_name = COALESCE(worker_name, (SELECT name FROM users WHERE worker_id = $1)), \
             worker_document = COALESCE(worker_document, \
               (SELECT document_id FROM worker_profiles WHERE id = $1)) \
             WHERE worker_id = $1 AND (worker_name IS NULL OR worker_document IS NULL)"
        )
        .bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query(
            "UPDATE support_documents SET \
             worker_name = COALESCE(worker_name, (SELECT name FROM users WHERE worker_id = $1)), \
             worker_document = COALESCE(worker_document, \
               (SELECT document_id FROM worker_profiles WHERE id = $1)) \
             WHERE worker_id = $1"
        )
        .bind(worker_id)
    )?;

    // Her profile: contact, cédula, place and payout destination go; the row stays, as
    // everything kept refers to it.
    let profile = exec!(
        tx,
        sqlx::query(
            "UPDATE worker_profiles SET document_id = NULL, phone = NULL, municipality = $2, \
             department = $2, municipality_code = NULL, department_code = NULL, \
             payout_method = $3, payout_key = NULL, payout_method_changed_at = $4, \
             anonymised_at = $4, updated_at = $4 WHERE id = $1 AND anonymised_at IS NULL"
        )
        .bind(worker_id)
        .bind(ERASED_PLACE)
        .bind(ERASED_PAYOUT)
        .bind(now)
    )?;
    if profile == 0 {
        return Ok(false);
    }
    // Her account: an address nobody can write to (unique by its id), a name that says what
    // happened, a password that never verifies; closed, so it is never reactivated.
    exec_one!(
        tx,
        sqlx::query(
            "UPDATE users SET email = 'suprimida+' || id || '@vereda.invalid', name = $2, \
             password_hash = '!suprimida', deactivated_at = COALESCE(deactivated_at, $3), \
             removed_at = COALESCE(removed_at, $3), updated_at = $3 WHERE worker_id = $1"
        )
        .bind(worker_id)
        .bind(ERASED_NAME)
        .bind(now)
    )?;
    // Her ways in, and what was kept only to serve her: sessions, password links, replayed
    // answers (they may repeat her data), mail preferences, skills, a timer.
    exec!(
        tx,
        sqlx::query(
            "DELETE FROM auth_tokens WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)"
        )
        .bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query(
            "DELETE FROM password_links \
             WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)"
        )
        .bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)"
        )
        .bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query(
            "DELETE FROM email_preferences \
             WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)"
        )
        .bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query("DELETE FROM worker_skills WHERE worker_id = $1").bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query("DELETE FROM running_timers WHERE worker_id = $1").bind(worker_id)
    )?;
    // Her fiscal profile keeps what explains the withholding on her payouts (concept,
    // declarante, the date she signed the art. 383 statement): a tax audit asks for it. The
    // ARL risk class only shaped the social-security estimate, stored in each statement.
    exec!(
        tx,
        sqlx::query("UPDATE fiscal_profiles SET arl_class = NULL WHERE worker_id = $1")
            .bind(worker_id)
    )?;
    // Her sensitive data held under consent (issue 22 §1) goes, and the consent ledger, which
    // only ever grows, records that her consent ended: withdrawn, as she or the admin who
    // filed for her would have withdrawn it.
    exec!(
        tx,
        sqlx::query("DELETE FROM worker_groups WHERE worker_id = $1").bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query("DELETE FROM worker_baselines WHERE worker_id = $1").bind(worker_id)
    )?;
    exec!(
        tx,
        sqlx::query(
            "INSERT INTO consents (id, worker_id, purpose, action, policy_version, text_hash, \
             channel, helped_by, at) SELECT $1, $2, $3, 'withdrawn', $4, $5, $6, $7, $8 \
             WHERE (SELECT c.action FROM consents c WHERE c.worker_id = $2 AND c.purpose = $3 \
               ORDER BY c.at DESC, c.id DESC LIMIT 1) = 'given'"
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(worker_id)
        .bind(consent::PURPOSE)
        .bind(consent::POLICY_VERSION)
        .bind(consent::text_hash())
        .bind(if helped_by.is_some() {
            "assisted"
        } else {
            "app"
        })
        .bind(helped_by)
        .bind(now)
    )?;
    // Her e-mails: the ones not sent yet are not sent; the copies lose address and text.
    exec!(
        tx,
        sqlx::query(
            "UPDATE outbox_messages SET status = 'failed', last_error = $3, lease_until = NULL \
             WHERE user_id = (SELECT id FROM users WHERE worker_id = $1) AND status = 'pending' \
             AND ($2 IS NULL OR id <> $2)"
        )
        .bind(worker_id)
        .bind(keep_mail)
        .bind(CANCELLED)
    )?;
    exec!(
        tx,
        sqlx::query(
            "UPDATE outbox_messages SET recipient = '', body_text = '', body_html = '' \
             WHERE user_id = (SELECT id FROM users WHERE worker_id = $1) \
             AND status IN ('sent', 'failed') AND ($2 IS NULL OR id <> $2)"
        )
        .bind(worker_id)
        .bind(keep_mail)
    )?;
    Ok(true)
}

/// What one retention run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    /// Statements, certificates (with their stored PDFs) and fiscal and social-security
    /// records of anonymised workers, past ten years.
    pub documents_removed: u64,
    /// Payout lines and documentos soporte whose payout details or printed name and cédula
    /// were wiped, past ten years.
    pub payout_details_removed: u64,
    /// Sent or failed e-mails of anonymised workers whose address and text were wiped (her
    /// confirmation, once sent).
    pub mail_blanked: u64,
}

/// The retention step at the instant `now`: for anonymised workers, remove the documents and
/// personal payout details dated more than ten years before it. Ledger entries, accruals,
/// invoices and the numbered documentos soporte stay (their numbers must stay gapless).
pub async fn retention(db: &Db, now: i64) -> Result<Retained, sqlx::Error> {
    let cutoff = retention_cutoff(now);
    let mut tx = db.begin().await?;
    let mut documents = exec!(
        &mut tx,
        sqlx::query(
            "DELETE FROM document_files WHERE kind = 'withholding_certificate' \
             AND subject_id IN (SELECT c.id FROM withholding_certificates c \
               JOIN worker_profiles w ON w.id = c.worker_id \
               WHERE w.anonymised_at IS NOT NULL AND c.generated_at < $1)"
        )
        .bind(cutoff)
    )?;
    documents += exec!(
        &mut tx,
        sqlx::query(
            "DELETE FROM withholding_certificates WHERE generated_at < $1 AND worker_id IN \
             (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
    )?;
    documents += exec!(
        &mut tx,
        sqlx::query(
            "DELETE FROM statements WHERE generated_at < $1 AND worker_id IN \
             (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
    )?;
    documents += exec!(
        &mut tx,
        sqlx::query(
            "DELETE FROM fiscal_profiles WHERE changed_at < $1 AND worker_id IN \
             (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
    )?;
    documents += exec!(
        &mut tx,
        sqlx::query(
            "DELETE FROM social_security_payments WHERE recorded_at < $1 AND worker_id IN \
             (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
    )?;
    let mut payout = exec!(
        &mut tx,
        sqlx::query(
            "UPDATE payout_lines SET method = $2 WHERE created_at < $1 AND method <> $2 \
             AND worker_id IN (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
        .bind(ERASED_PAYOUT)
    )?;
    payout += exec!(
        &mut tx,
        sqlx::query(
            "UPDATE support_documents SET worker_name = NULL, worker_document = NULL \
             WHERE issued_at < $1 AND (worker_name IS NOT NULL OR worker_document IS NOT NULL) \
             AND worker_id IN (SELECT id FROM worker_profiles WHERE anonymised_at IS NOT NULL)"
        )
        .bind(cutoff)
    )?;
    tx.commit().await?;
    let mail = blank_mail(db).await?;
    Ok(Retained {
        documents_removed: documents,
        payout_details_removed: payout,
        mail_blanked: mail,
    })
}

/// Wipe the address and text of anonymised workers' e-mails once they are sent or failed
/// for good: her confirmation, which left after her anonymisation.
async fn blank_mail(db: &Db) -> Result<u64, sqlx::Error> {
    on_db!(db, |p| sqlx::query(
        "UPDATE outbox_messages SET recipient = '', body_text = '', body_html = '' \
         WHERE status IN ('sent', 'failed') AND recipient <> '' AND user_id IN \
         (SELECT u.id FROM users u JOIN worker_profiles w ON w.id = u.worker_id \
          WHERE w.anonymised_at IS NOT NULL)"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}
