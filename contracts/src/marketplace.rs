//! The marketplace's states and rules, pure: task and assignment states with their allowed
//! moves, task categories, and the automatic verification of a submission.

use serde::{Deserialize, Serialize};

/// `draft → open → closed | cancelled` (a draft may also be cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Draft,
    Open,
    Closed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [Self::Draft, Self::Open, Self::Closed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn can_move_to(self, next: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, next),
            (Draft, Open) | (Draft, Cancelled) | (Open, Closed) | (Open, Cancelled)
        )
    }
}

/// One worker's claim on one slot.
///
/// `claimed → submitted → verified → approved | rejected | changes_requested`;
/// `submitted → changes_requested` when a hard check fails; `changes_requested → submitted`
/// on resubmission; `claimed | changes_requested → released | expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Claimed,
    Submitted,
    Verified,
    ChangesRequested,
    Approved,
    Rejected,
    Released,
    Expired,
}

impl AssignmentStatus {
    pub const ALL: [AssignmentStatus; 8] = [
        Self::Claimed,
        Self::Submitted,
        Self::Verified,
        Self::ChangesRequested,
        Self::Approved,
        Self::Rejected,
        Self::Released,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Submitted => "submitted",
            Self::Verified => "verified",
            Self::ChangesRequested => "changes_requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn can_move_to(self, next: AssignmentStatus) -> bool {
        use AssignmentStatus::*;
        matches!(
            (self, next),
            (Claimed, Submitted)
                | (Claimed, Released)
                | (Claimed, Expired)
                | (Submitted, Verified)
                | (Submitted, ChangesRequested)
                | (Verified, Approved)
                | (Verified, Rejected)
                | (Verified, ChangesRequested)
                | (ChangesRequested, Submitted)
                | (ChangesRequested, Released)
                | (ChangesRequested, Expired)
                // Fair work (issue 21): the platform may overturn a rejection, appealed or
                // held as part of a mass rejection.
                | (Rejected, Approved)
        )
    }

    /// Holds one of the task's slots.
    pub fn takes_slot(self) -> bool {
        use AssignmentStatus::*;
        matches!(
            self,
            Claimed | Submitted | Verified | ChangesRequested | Approved
        )
    }

    /// The worker is working on it (counts toward their limit of active assignments, and
    /// accepts time entries).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Claimed | Self::ChangesRequested)
    }

    /// The status as a company's people read it (results files).
    pub fn es(self) -> &'static str {
        match self {
            Self::Claimed => "en curso",
            Self::Submitted => "entregada, en revisión automática",
            Self::Verified => "entregada, por revisar",
            Self::ChangesRequested => "cambios pedidos",
            Self::Approved => "aprobada",
            Self::Rejected => "rechazada",
            Self::Released => "devuelta",
            Self::Expired => "vencida",
        }
    }

    /// SQL list of the statuses for which `pred` holds, e.g. `('claimed', 'submitted')`.
    pub fn sql_list(pred: impl Fn(AssignmentStatus) -> bool) -> String {
        let names: Vec<String> = Self::ALL
            .into_iter()
            .filter(|s| pred(*s))
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", names.join(", "))
    }
}

/// What kind of work a task is.
pub const CATEGORIES: [&str; 7] = [
    "support",
    "data-entry",
    "data-cleaning",
    "labelling",
    "qa-testing",
    "content-moderation",
    "other",
];

/// How a task pays: by the approved hour, or a fixed price for the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingKind {
    Hourly,
    Fixed,
}

impl PricingKind {
    /// `hourly` or `fixed`, as stored; anything else is taken for fixed (it has no rate).
    pub fn parse(s: &str) -> PricingKind {
        if s == "hourly" {
            PricingKind::Hourly
        } else {
            PricingKind::Fixed
        }
    }

    /// What the work earns the worker: on an hourly task the rate for `seconds` (DESIGN §4
    /// rounding), on a fixed-price one the price, whatever the time. One rule for the accrual
    /// and for what she is shown before it.
    pub fn work_earned(
        self,
        rate: crate::money::Cop,
        price: crate::money::Cop,
        seconds: i64,
    ) -> crate::money::Cop {
        match self {
            PricingKind::Hourly => crate::money::hourly_earnings(seconds, rate),
            PricingKind::Fixed => price,
        }
    }
}

/// Why a submission is refused on the spot, before any verification runs: things the worker
/// can put right at once, so the company is never told of work that cannot be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionRefusal {
    #[error(
        "Esta tarea pide el enlace al entregable: agregue el enlace https://… a su trabajo y \
         vuelva a entregar."
    )]
    DeliverableMissing,
    /// An hourly task pays approved time; none logged means nothing could ever be paid.
    #[error(
        "No hay tiempo registrado en esta tarea por horas: registre el tiempo que trabajó y \
         vuelva a entregar."
    )]
    NoTimeLogged,
}

impl SubmissionRefusal {
    pub fn code(self) -> &'static str {
        match self {
            SubmissionRefusal::DeliverableMissing => "deliverable_missing",
            SubmissionRefusal::NoTimeLogged => "no_time_logged",
        }
    }

    /// The request field at fault, if any.
    pub fn field(self) -> Option<&'static str> {
        match self {
            SubmissionRefusal::DeliverableMissing => Some("deliverable_url"),
            SubmissionRefusal::NoTimeLogged => None,
        }
    }
}

/// What is checked when the worker submits: a required link is there, and an hourly task
/// has time logged (whatever its `min_minutes`; that minimum is verification's).
pub fn check_submission(
    pricing: PricingKind,
    deliverable_url_required: bool,
    deliverable_url: Option<&str>,
    logged_seconds: i64,
) -> Result<(), SubmissionRefusal> {
    if deliverable_url_required && deliverable_url.is_none_or(|u| u.trim().is_empty()) {
        return Err(SubmissionRefusal::DeliverableMissing);
    }
    if pricing == PricingKind::Hourly && logged_seconds <= 0 {
        return Err(SubmissionRefusal::NoTimeLogged);
    }
    Ok(())
}

/// Why an approval is refused. Each names `approved_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefusal {
    #[error("debe estar entre 1 y los {logged} segundos registrados")]
    OutOfRange { logged: i64 },
    /// Zero seconds would accrue nothing: that is a rejection, and a rejection has a reason.
    #[error(
        "Aprobar 0 segundos equivale a rechazar el trabajo: use la decisión «reject» con un \
         motivo que la persona pueda leer."
    )]
    ZeroSeconds,
    /// An hourly submission with no time (made before submissions without time were refused).
    #[error(
        "No hay tiempo registrado que aprobar en esta tarea por horas: rechace el trabajo con \
         un motivo o pida cambios."
    )]
    NothingLogged,
    /// A fixed price pays the whole price; its hours are the logged ones, never fewer.
    #[error(
        "En una tarea de precio fijo se paga el precio completo y las horas que constan son las \
         registradas: no envíe approved_seconds. Si el trabajo no está completo, pida cambios \
         o rechácelo con un motivo."
    )]
    FixedPrice,
}

impl ApprovalRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ApprovalRefusal::OutOfRange { .. } => "validation_failed",
            ApprovalRefusal::ZeroSeconds => "zero_approval",
            ApprovalRefusal::NothingLogged => "nothing_to_approve",
            ApprovalRefusal::FixedPrice => "fixed_price_seconds",
        }
    }
}

/// The seconds an approval records: what the reviewer asked for on an hourly task (1 to the
/// logged seconds; all of them when not said), and always the logged seconds on a fixed-price
/// task, so the invoice, the statement and the e-mail print the same hours.
pub fn approved_seconds(
    pricing: PricingKind,
    logged: i64,
    asked: Option<i64>,
) -> Result<i64, ApprovalRefusal> {
    match (pricing, asked) {
        (PricingKind::Fixed, Some(_)) => Err(ApprovalRefusal::FixedPrice),
        (PricingKind::Fixed, None) => Ok(logged.max(0)),
        (PricingKind::Hourly, None) if logged <= 0 => Err(ApprovalRefusal::NothingLogged),
        (PricingKind::Hourly, None) => Ok(logged),
        (PricingKind::Hourly, Some(0)) => Err(ApprovalRefusal::ZeroSeconds),
        (PricingKind::Hourly, Some(s)) if s < 0 || s > logged => {
            Err(ApprovalRefusal::OutOfRange { logged })
        }
        (PricingKind::Hourly, Some(s)) => Ok(s),
    }
}

/// What verification looks at.
#[derive(Debug, Clone)]
pub struct SubmissionFacts<'a> {
    pub deliverable_url: Option<&'a str>,
    pub deliverable_url_required: bool,
    pub hourly: bool,
    pub min_minutes: i64,
    /// The task's hour cap (hourly tasks).
    pub max_seconds: Option<i64>,
    pub claimed_at: i64,
    pub entries: &'a [EntryFacts],
}

#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub started_at: i64,
    pub ended_at: i64,
    pub source: String,
}

/// One thing verification noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
}

fn finding(code: &str, message: impl Into<String>) -> Finding {
    Finding {
        code: code.to_string(),
        message: message.into(),
    }
}

/// Hard findings send the work back to the worker; soft ones are shown to the reviewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub hard: Vec<Finding>,
    pub soft: Vec<Finding>,
}

/// A single entry longer than this is flagged for the reviewer.
pub const LONG_ENTRY_SECS: i64 = 8 * 3600;

/// The automatic checks of a submission (issue 3 §7).
pub fn verify(f: &SubmissionFacts<'_>) -> Verdict {
    let mut v = Verdict::default();
    let url = f.deliverable_url.map(str::trim).filter(|u| !u.is_empty());
    match url {
        None if f.deliverable_url_required => v.hard.push(finding(
            "deliverable_missing",
            "Falta el enlace al entregable.",
        )),
        Some(u) if f.deliverable_url_required && !is_https_url(u) => v.hard.push(finding(
            "deliverable_not_https",
            "El enlace al entregable debe empezar por https://.",
        )),
        _ => {}
    }
    let logged: i64 = f.entries.iter().map(|e| e.ended_at - e.started_at).sum();
    if f.hourly {
        if logged <= 0 {
            v.hard.push(finding(
                "no_time_logged",
                "No hay tiempo registrado; una tarea por horas paga el tiempo aprobado.",
            ));
        } else if logged < f.min_minutes * 60 {
            v.hard.push(finding(
                "too_little_time",
                format!(
                    "Se registraron {} minutos; la tarea pide al menos {}.",
                    logged / 60,
                    f.min_minutes
                ),
            ));
        }
        if let Some(cap) = f.max_seconds
            && logged > cap
        {
            v.hard.push(finding(
                "over_cap",
                format!(
                    "Se registraron {}; el máximo de la tarea es {}.",
                    crate::time::duration_es(logged),
                    crate::time::duration_es(cap)
                ),
            ));
        }
    }
    if f.entries.iter().any(|e| e.started_at < f.claimed_at) {
        v.soft.push(finding(
            "time_before_claim",
            "Hay tiempo registrado antes de tomar la tarea.",
        ));
    }
    if f.entries.iter().any(|e| e.source == "manual") {
        v.soft.push(finding(
            "manual_entries",
            "Incluye registros de tiempo manuales.",
        ));
    }
    if f.entries.iter().any(|e| e.source == "offline") {
        v.soft.push(finding(
            "offline_entries",
            "Incluye registros de tiempo hechos sin conexión.",
        ));
    }
    if f.entries
        .iter()
        .any(|e| e.ended_at - e.started_at > LONG_ENTRY_SECS)
    {
        v.soft.push(finding(
            "long_entry",
            "Incluye un registro de más de 8 horas seguidas.",
        ));
    }
    v
}

/// Longest deliverable link, in bytes.
pub const MAX_LINK_BYTES: usize = 2000;

/// An absolute `https://` URL with a host, at most [`MAX_LINK_BYTES`], with no spaces or
/// control characters anywhere (a link that needs them percent-encodes them).
pub fn is_https_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && u.len() <= MAX_LINK_BYTES
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Why a link or a piece of free text (a note, a reason) was refused. The messages are for the
/// person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextRefusal {
    #[error(
        "debe ser un enlace https:// completo, sin espacios, de máximo {MAX_LINK_BYTES} caracteres"
    )]
    NotHttpsLink,
    #[error("tiene más de {max} caracteres")]
    TooLong { max: usize },
    /// A character such as NUL, ESC or a bare carriage return: invisible, and able to break the
    /// e-mails, PDFs and spreadsheets the text ends up in.
    #[error(
        "contiene un carácter de control (el {at}.º carácter); solo se admiten letras, signos, \
         saltos de línea y tabulaciones"
    )]
    ControlCharacter { at: usize },
}

/// A deliverable link as typed: blank is none; otherwise it must be an `https` URL
/// ([`is_https_url`]). Plain `http` is refused: the link is opened by the company's staff.
pub fn deliverable_link(raw: Option<&str>) -> Result<Option<String>, TextRefusal> {
    match raw.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) if is_https_url(u) => Ok(Some(u.to_string())),
        Some(_) => Err(TextRefusal::NotHttpsLink),
    }
}

/// Free text a person typed (a submission note, a time-entry note, a review reason): trimmed,
/// Windows line ends made `\n`, blank is none. At most `max_chars` characters, and no control
/// characters other than line feeds and tabs.
pub fn free_text(raw: Option<&str>, max_chars: usize) -> Result<Option<String>, TextRefusal> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let text = text.replace("\r\n", "\n");
    if let Some(at) = text
        .chars()
        .position(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextRefusal::ControlCharacter { at: at + 1 });
    }
    if text.chars().count() > max_chars {
        return Err(TextRefusal::TooLong { max: max_chars });
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_moves() {
        use AssignmentStatus::*;
        assert!(Claimed.can_move_to(Submitted));
        assert!(Verified.can_move_to(Approved));
        assert!(
            !Submitted.can_move_to(Approved),
            "a review waits for verification"
        );
        assert!(!Approved.can_move_to(Rejected));
        assert!(!Released.can_move_to(Claimed));
        for s in AssignmentStatus::ALL {
            assert_eq!(AssignmentStatus::parse(s.as_str()), Some(s));
            // Leaving a slot-holding state for a free one frees exactly one slot.
            if s.is_active() {
                assert!(s.takes_slot());
            }
        }
        assert_eq!(
            AssignmentStatus::sql_list(AssignmentStatus::is_active),
            "('claimed', 'changes_requested')"
        );
    }

    fn facts<'a>(url: Option<&'a str>, entries: &'a [EntryFacts]) -> SubmissionFacts<'a> {
        SubmissionFacts {
            deliverable_url: url,
            deliverable_url_required: true,
            hourly: true,
            min_minutes: 10,
            max_seconds: Some(3600),
            claimed_at: 1_000,
            entries,
        }
    }

    fn entry(start: i64, end: i64, source: &str) -> EntryFacts {
        EntryFacts {
            started_at: start,
            ended_at: end,
            source: source.into(),
        }
    }

    #[test]
    fn hard_checks_send_work_back() {
        let good = [entry(2_000, 3_000, "timer")];
        assert_eq!(
            verify(&facts(Some("https://docs.example/x"), &good)),
            Verdict::default()
        );
        let v = verify(&facts(None, &good));
        assert_eq!(v.hard[0].code, "deliverable_missing");
        let v = verify(&facts(Some("http://x.co/a"), &good));
        assert_eq!(v.hard[0].code, "deliverable_not_https");
        let v = verify(&facts(
            Some("https://x.co"),
            &[entry(2_000, 2_100, "timer")],
        ));
        assert_eq!(v.hard[0].code, "too_little_time");
        let v = verify(&facts(
            Some("https://x.co"),
            &[entry(2_000, 6_000, "timer")],
        ));
        assert_eq!(v.hard[0].code, "over_cap");
    }

    #[test]
    fn soft_findings_are_for_the_reviewer() {
        let entries = [entry(500, 1_500, "manual"), entry(1_600, 2_000, "offline")];
        let v = verify(&facts(Some("https://x.co"), &entries));
        assert!(v.hard.is_empty());
        let codes: Vec<_> = v.soft.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["time_before_claim", "manual_entries", "offline_entries"]
        );
    }

    #[test]
    fn submissions_need_their_link_and_hourly_time() {
        use PricingKind::*;
        assert_eq!(
            check_submission(Hourly, true, Some("https://x.co"), 60),
            Ok(())
        );
        assert_eq!(
            check_submission(Hourly, true, None, 60),
            Err(SubmissionRefusal::DeliverableMissing)
        );
        assert_eq!(
            check_submission(Fixed, true, Some(" "), 0),
            Err(SubmissionRefusal::DeliverableMissing)
        );
        assert_eq!(check_submission(Fixed, false, None, 0), Ok(()));
        assert_eq!(
            check_submission(Hourly, false, None, 0),
            Err(SubmissionRefusal::NoTimeLogged)
        );
        assert_eq!(
            SubmissionRefusal::DeliverableMissing.field(),
            Some("deliverable_url")
        );
    }

    #[test]
    fn approvals_never_record_zero_hourly_seconds_nor_fewer_fixed_ones() {
        use PricingKind::*;
        assert_eq!(approved_seconds(Hourly, 7200, None), Ok(7200));
        assert_eq!(approved_seconds(Hourly, 7200, Some(3600)), Ok(3600));
        assert_eq!(approved_seconds(Hourly, 7200, Some(7200)), Ok(7200));
        assert_eq!(
            approved_seconds(Hourly, 7200, Some(0)),
            Err(ApprovalRefusal::ZeroSeconds)
        );
        assert_eq!(
            approved_seconds(Hourly, 7200, Some(7201)),
            Err(ApprovalRefusal::OutOfRange { logged: 7200 })
        );
        assert_eq!(
            approved_seconds(Hourly, 7200, Some(-1)),
            Err(ApprovalRefusal::OutOfRange { logged: 7200 })
        );
        assert_eq!(
            approved_seconds(Hourly, 0, None),
            Err(ApprovalRefusal::NothingLogged)
        );
        assert_eq!(approved_seconds(Fixed, 5400, None), Ok(5400));
        assert_eq!(approved_seconds(Fixed, 0, None), Ok(0));
        assert_eq!(
            approved_seconds(Fixed, 5400, Some(3600)),
            Err(ApprovalRefusal::FixedPrice)
        );
        assert_eq!(
            approved_seconds(Fixed, 5400, Some(5400)),
            Err(ApprovalRefusal::FixedPrice)
        );
    }

    #[test]
    fn hourly_work_with_no_time_never_passes_verification() {
        let mut f = facts(Some("https://x.co"), &[]);
        f.min_minutes = 0;
        assert_eq!(verify(&f).hard[0].code, "no_time_logged");
        f.hourly = false;
        assert!(verify(&f).hard.is_empty());
    }

    #[test]
    fn https_urls() {
        assert!(is_https_url("https://docs.google.com/spreadsheets/d/1"));
        assert!(!is_https_url("https://"));
        assert!(!is_https_url("https:// x"));
        assert!(!is_https_url("https://x.co/a b"));
        assert!(!is_https_url("https://x.co/a\u{0}"));
        assert!(!is_https_url("http://x.co/a"));
        assert!(!is_https_url("javascript:alert(1)"));
    }

    #[test]
    fn links_are_https_or_nothing() {
        assert_eq!(deliverable_link(None), Ok(None));
        assert_eq!(deliverable_link(Some("  ")), Ok(None));
        assert_eq!(
            deliverable_link(Some(" https://x.co/a ")),
            Ok(Some("https://x.co/a".to_string()))
        );
        for bad in [
            "http://x.co/a",
            "http://localhost:8080/a",
            "ftp://x.co",
            "https://x.co/\u{1b}[2J",
            "https://x.co/a\nb",
        ] {
            assert_eq!(
                deliverable_link(Some(bad)),
                Err(TextRefusal::NotHttpsLink),
                "{bad:?}"
            );
        }
        let long = format!("https://x.co/{}", "a".repeat(MAX_LINK_BYTES));
        assert_eq!(
            deliverable_link(Some(&long)),
            Err(TextRefusal::NotHttpsLink)
        );
    }

    #[test]
    fn free_text_keeps_lines_and_refuses_control_characters() {
        assert_eq!(free_text(Some(" \n "), 10), Ok(None));
        assert_eq!(
            free_text(Some("uno\r\ndos\tfin"), 20),
            Ok(Some("uno\ndos\tfin".to_string()))
        );
        assert_eq!(
            free_text(Some("ab\u{0}c"), 20),
            Err(TextRefusal::ControlCharacter { at: 3 })
        );
        for bad in ["\u{1b}[31mrojo", "a\rb", "a\u{7f}", "a\u{85}b", "a\u{8}"] {
            assert!(
                matches!(
                    free_text(Some(bad), 20),
                    Err(TextRefusal::ControlCharacter { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            free_text(Some("ñandú"), 4),
            Err(TextRefusal::TooLong { max: 4 })
        );
        assert_eq!(free_text(Some("ñandú"), 5), Ok(Some("ñandú".to_string())));
    }

    #[test]
    fn work_earned_is_the_rate_for_the_time_or_the_price() {
        use crate::money::Cop;
        // DESIGN §4's worked example: 9,435 s at 18,500 an hour.
        let (rate, price) = (Cop::pesos(18_500), Cop::pesos(120_000));
        assert_eq!(
            PricingKind::Hourly.work_earned(rate, price, 9435),
            Cop::pesos(48_485)
        );
        assert_eq!(PricingKind::Fixed.work_earned(rate, price, 9435), price);
        assert_eq!(PricingKind::Fixed.work_earned(rate, price, 0), price);
    }
}
