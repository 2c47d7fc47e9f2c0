//! Personal data under Ley 1581 (issue 22): which of a worker's personal fields each kind of
//! read exposes, so every read by someone other than her is logged with what it showed, and she
//! can see it in Spanish ("quién consultó mis datos"); her requests about it, deletion included.

use crate::money::Cop;

/// A personal field of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Phone,
    DocumentId,
    Place,
    PayoutMethod,
    Income,
    /// Tax status and social-security (PILA) payments.
    Fiscal,
    /// Sensitive, held under her consent: programme groups and household income before
    /// joining.
    Programme,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::DocumentId,
        Field::Place,
        Field::PayoutMethod,
        Field::Income,
        Field::Fiscal,
        Field::Programme,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::DocumentId => "document_id",
            Field::Place => "place",
            Field::PayoutMethod => "payout_method",
            Field::Income => "income",
            Field::Fiscal => "fiscal",
            Field::Programme => "programme",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// As she reads it: "su cédula".
    pub fn label_es(self) -> &'static str {
        match self {
            Field::Name => "su nombre",
            Field::Email => "su correo",
            Field::Phone => "su celular",
            Field::DocumentId => "su cédula",
            Field::Place => "su municipio",
            Field::PayoutMethod => "su medio de pago",
            Field::Income => "sus ingresos",
            Field::Fiscal => "sus datos tributarios y de seguridad social",
            Field::Programme => "sus grupos del programa y el ingreso de su hogar antes de Vereda",
        }
    }
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Her profile (one, a list page, or the answer to an edit).
    Profile,
    /// An income statement (JSON, CSV or PDF).
    Statement,
    /// A certificate of income and withholdings.
    Certificate,
    /// A payout batch's bank file, which carries her cédula and account.
    BankFile,
    /// A payout batch's lines: her name, amount and payout method.
    PayoutBatch,
    /// Her fiscal profile or her social-security payments.
    Fiscal,
    /// A copy of everything held about her.
    Export,
    /// Her consent and what she gave under it.
    Consent,
}

impl Read {
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Read::Profile => &[Name, Email, Phone, DocumentId, Place, PayoutMethod],
            Read::Statement | Read::Certificate => &[Name, DocumentId, Income],
            Read::BankFile => &[Name, DocumentId, PayoutMethod, Income],
            Read::PayoutBatch => &[Name, PayoutMethod, Income],
            Read::Fiscal => &[Fiscal],
            Read::Export => &Field::ALL,
            Read::Consent => &[Programme],
        }
    }

    /// The fields as stored in the log: comma-separated names.
    pub fn fields_list(self) -> String {
        self.fields()
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A logged list of fields read back, in Spanish ("su nombre, su cédula y sus ingresos");
/// unknown names are left out.
pub fn fields_es(stored: &str) -> String {
    let labels: Vec<&str> = stored
        .split(',')
        .filter_map(Field::parse)
        .map(Field::label_es)
        .collect();
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} y {last}", rest.join(", ")),
    }
}

/// What a worker asks of her data (Ley 1581 arts. 14–15): a consulta (a copy of it), a
/// reclamo for a correction, or a reclamo for deletion (supresión: her personal data is
/// anonymised at once, issue 22 §3, unless work or money still ties her to the platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Copy,
    Correction,
    Deletion,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Copy,
        RequestKind::Correction,
        RequestKind::Deletion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Copy => "copy",
            RequestKind::Correction => "correction",
            RequestKind::Deletion => "deletion",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            RequestKind::Copy => "consulta (copia de sus datos)",
            RequestKind::Correction => "reclamo (corrección de sus datos)",
            RequestKind::Deletion => "reclamo (supresión de sus datos)",
        }
    }

    /// Business days to answer: consultas 10, reclamos 15 (arts. 14 and 15). A deletion is a
    /// reclamo, though it is answered the moment it is filed.
    pub fn answer_days(self) -> u32 {
        match self {
            RequestKind::Copy => 10,
            RequestKind::Correction | RequestKind::Deletion => 15,
        }
    }

    /// Business days one extension adds: 5 for a consulta, 8 for a reclamo.
    pub fn extension_days(self) -> u32 {
        match self {
            RequestKind::Copy => 5,
            RequestKind::Correction | RequestKind::Deletion => 8,
        }
    }
}

/// When a request filed at `filed_at` must be answered.
pub fn request_due(kind: RequestKind, filed_at: i64) -> i64 {
    crate::business_days::deadline(filed_at, kind.answer_days())
}

/// Longest request detail, reason or answer, in characters.
pub const MAX_REQUEST_CHARS: usize = 4000;

/// Why a step on a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    #[error("is required: say what is wrong and what it should say")]
    DetailRequired,
    #[error("This request was already answered.")]
    AlreadyAnswered,
    #[error("This request was already extended once; the law allows one extension.")]
    AlreadyExtended,
    #[error("is required")]
    TextRequired(&'static str),
}

impl RequestRefusal {
    /// What she reads, when the catalogue's sentence for the field would say too little.
    pub fn es(&self) -> Option<&'static str> {
        match self {
            RequestRefusal::DetailRequired => Some("Diga qué dato está mal y cómo debe quedar."),
            RequestRefusal::TextRequired("reason") => {
                Some("Escriba el motivo de la prórroga: la persona lo leerá.")
            }
            RequestRefusal::TextRequired("answer") => {
                Some("Escriba la respuesta: la persona la leerá.")
            }
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            RequestRefusal::AlreadyAnswered => "request_answered",
            RequestRefusal::AlreadyExtended => "request_extended",
            RequestRefusal::DetailRequired | RequestRefusal::TextRequired(_) => "validation_failed",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            RequestRefusal::DetailRequired => Some("detail"),
            RequestRefusal::TextRequired(f) => Some(f),
            _ => None,
        }
    }
}

/// A correction says what to correct; a copy needs nothing more.
pub fn check_request(kind: RequestKind, detail: Option<&str>) -> Result<(), RequestRefusal> {
    if kind == RequestKind::Correction && detail.is_none_or(|d| d.trim().is_empty()) {
        return Err(RequestRefusal::DetailRequired);
    }
    Ok(())
}

/// One extension, with a reason, before the request is answered: the new due time.
pub fn extend(
    kind: RequestKind,
    due_at: i64,
    answered: bool,
    extended: bool,
    reason: Option<&str>,
) -> Result<i64, RequestRefusal> {
    if answered {
        return Err(RequestRefusal::AlreadyAnswered);
    }
    if extended {
        return Err(RequestRefusal::AlreadyExtended);
    }
    if reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(RequestRefusal::TextRequired("reason"));
    }
    // `due_at` is the end of the last day: extend from within it.
    Ok(crate::business_days::deadline(
        due_at - 1,
        kind.extension_days(),
    ))
}

/// The name an anonymised worker's account keeps (people and documents made later read it).
pub const ERASED_NAME: &str = "Persona retirada";

/// Her municipality and department once anonymised.
pub const ERASED_PLACE: &str = "(suprimido)";

/// Accounting records are kept this long (Ley 962 de 2005, art. 28), then removed.
pub const RETENTION_YEARS: u32 = 10;

/// Records of an anonymised worker dated before this instant are past their retention: ten
/// calendar years (Bogotá) before `now`.
pub fn retention_cutoff(now: i64) -> i64 {
    let local = crate::time::from_unix(now).with_timezone(&crate::time::BOGOTA);
    local
        .checked_sub_months(chrono::Months::new(12 * RETENTION_YEARS))
        .map_or(i64::MIN, |t| t.timestamp())
}

/// What still ties a worker to the platform, so her data cannot be deleted yet: each is work
/// or money that would be lost or could not be documented without her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tie {
    /// Assignments not in a final state (claimed, submitted, verified, changes requested).
    OpenAssignments(i64),
    /// Approved work the accrual job has not added to her earnings yet (minutes at most).
    NotYetAccrued(i64),
    /// Earned and not yet in a payout batch, and the batch's minimum.
    Owed { amount: Cop, minimum: Cop },
    /// In payout lines the bank has not confirmed (what reaches her, net of withholding).
    InFlight(Cop),
    /// Her appeals the platform has not decided.
    OpenAppeals(i64),
    /// A week with earnings whose documento soporte is not issued yet (it names her).
    SupportDocumentDue(crate::support_weeks::Week),
}

fn count_es(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl Tie {
    /// What she reads, in plain words, with what happens next.
    pub fn es(&self) -> String {
        match self {
            Tie::OpenAssignments(n) => format!(
                "Tiene {} en curso; cuando termine{} (aprobada, rechazada o devuelta) podrá \
                 pedir la supresión.",
                count_es(*n, "tarea", "tareas"),
                if *n == 1 { "" } else { "n" }
            ),
            Tie::NotYetAccrued(n) => format!(
                "Tiene {} que aún estamos sumando a sus ganancias; intente de nuevo en unos \
                 minutos.",
                count_es(*n, "tarea aprobada", "tareas aprobadas")
            ),
            Tie::Owed { amount, minimum } if amount < minimum => format!(
                "Tiene {} por cobrar, menos que el pago mínimo de {}; escríbanos para acordar \
                 cómo pagárselo y luego podrá pedir la supresión.",
                amount.to_es_co(),
                minimum.to_es_co()
            ),
            Tie::Owed { amount, .. } => format!(
                "Tiene {} por cobrar; se lo pagamos en el próximo lote y luego podrá pedir la \
                 supresión.",
                amount.to_es_co()
            ),
            Tie::InFlight(net) => format!(
                "Tiene un pago de {} en camino; cuando el banco lo confirme podrá pedir la \
                 supresión.",
                net.to_es_co()
            ),
            Tie::OpenAppeals(n) => format!(
                "Tiene {} sin decidir; cuando la plataforma {} podrá pedir la supresión.",
                count_es(*n, "apelación", "apelaciones"),
                if *n == 1 { "la decida" } else { "las decida" }
            ),
            Tie::SupportDocumentDue(week) => format!(
                "Aún no hemos expedido su documento soporte de la semana del {} (se expide el \
                 lunes siguiente); después podrá pedir la supresión.",
                week.label_es()
            ),
        }
    }
}

/// A deletion refused while something still ties her to the platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Her data cannot be deleted yet: work or money is still open ({} reasons).", .0.len())]
pub struct DeletionBlocked(pub Vec<Tie>);

impl DeletionBlocked {
    pub fn code(&self) -> &'static str {
        "deletion_blocked"
    }

    pub fn field(&self) -> &'static str {
        "request"
    }

    /// Every reason, one sentence each, after one that says nothing was done.
    pub fn es(&self) -> String {
        let mut s = String::from("Todavía no podemos suprimir sus datos; no se cambió nada.");
        for t in &self.0 {
            s.push(' ');
            s.push_str(&t.es());
        }
        s
    }
}

/// Deletion goes ahead only when nothing ties her to the platform.
pub fn check_deletion(ties: Vec<Tie>) -> Result<(), DeletionBlocked> {
    if ties.is_empty() {
        Ok(())
    } else {
        Err(DeletionBlocked(ties))
    }
}

/// The written answer to a deletion, recorded with the request and e-mailed to her: what was
/// removed, and what the law makes us keep, for how long and for whom.
pub fn deletion_answer_es(day: chrono::NaiveDate) -> String {
    format!(
        "El {} suprimimos sus datos personales: su nombre, cédula, celular, correo, municipio, \
         medio de pago y habilidades, y su contraseña y sesiones; su cuenta quedó cerrada y ya \
         no se puede ingresar con ella. Por ley (Ley 962 de 2005, artículo 28) conservamos \
         durante {RETENTION_YEARS} años, con acceso restringido a los administradores de \
         Vereda, los registros contables de su trabajo: los asientos del libro contable, las \
         facturas, los documentos soporte, los pagos que le hicimos y sus extractos y \
         certificados de ingresos. Los documentos ya expedidos no cambian. Pasados los \
         {RETENTION_YEARS} años, esos documentos y los datos de sus pagos se eliminan.",
        crate::statements::date_es(day)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_read_names_what_it_showed_in_spanish() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.as_str()), Some(f));
        }
        assert_eq!(
            fields_es(&Read::Statement.fields_list()),
            "su nombre, su cédula y sus ingresos"
        );
        assert_eq!(fields_es("phone"), "su celular");
        assert_eq!(fields_es("nonsense"), "");
        assert!(Read::Profile.fields().contains(&Field::DocumentId));
        assert!(Read::BankFile.fields().contains(&Field::PayoutMethod));
    }

    #[test]
    fn requests_are_due_in_business_days_and_extend_once() {
        // Filed on Friday 9 January 2026; Monday the 12th is a holiday.
        let filed = chrono::DateTime::parse_from_rfc3339("2026-01-09T10:00:00-05:00")
            .unwrap()
            .timestamp();
        let end_of = |d: &str| {
            chrono::DateTime::parse_from_rfc3339(&format!("{d}T00:00:00-05:00"))
                .unwrap()
                .timestamp()
        };
        // 10 business days: 13–16, 19–23, 26 January → due at the end of Monday the 26th.
        let due = request_due(RequestKind::Copy, filed);
        assert_eq!(due, end_of("2026-01-27"));
        // Five more: 27–30 January and 2 February.
        assert_eq!(
            extend(
                RequestKind::Copy,
                due,
                false,
                false,
                Some("Falta un extracto")
            ),
            Ok(end_of("2026-02-03"))
        );
        assert_eq!(
            extend(RequestKind::Copy, due, false, true, Some("x")),
            Err(RequestRefusal::AlreadyExtended)
        );
        assert_eq!(
            extend(RequestKind::Copy, due, true, false, Some("x")),
            Err(RequestRefusal::AlreadyAnswered)
        );
        assert_eq!(
            extend(RequestKind::Copy, due, false, false, Some(" "))
                .unwrap_err()
                .field(),
            Some("reason")
        );
        assert_eq!(
            request_due(RequestKind::Correction, filed),
            end_of("2026-02-03"),
            "15 business days"
        );
        assert_eq!(
            check_request(RequestKind::Correction, None),
            Err(RequestRefusal::DetailRequired)
        );
        assert_eq!(check_request(RequestKind::Copy, None), Ok(()));
    }

    #[test]
    fn a_deletion_is_a_reclamo_refused_with_each_reason_in_spanish() {
        assert_eq!(RequestKind::parse("deletion"), Some(RequestKind::Deletion));
        assert_eq!(RequestKind::Deletion.answer_days(), 15);
        assert_eq!(check_request(RequestKind::Deletion, None), Ok(()));
        assert_eq!(check_deletion(Vec::new()), Ok(()));
        let refused = check_deletion(vec![
            Tie::OpenAssignments(1),
            Tie::Owed {
                amount: Cop::from_centavos(4_848_500),
                minimum: Cop::from_centavos(1_000_000),
            },
            Tie::Owed {
                amount: Cop::from_centavos(50_000),
                minimum: Cop::from_centavos(1_000_000),
            },
            Tie::InFlight(Cop::from_centavos(4_848_500)),
            Tie::OpenAppeals(2),
            Tie::SupportDocumentDue(crate::support_weeks::Week::parse("2026-06-01").unwrap()),
        ])
        .unwrap_err();
        assert_eq!(
            (refused.code(), refused.field()),
            ("deletion_blocked", "request")
        );
        let es = refused.es();
        for said in [
            "Todavía no podemos suprimir sus datos; no se cambió nada.",
            "Tiene 1 tarea en curso; cuando termine",
            "Tiene $ 48.485 por cobrar; se lo pagamos en el próximo lote y luego podrá pedir \
             la supresión.",
            "Tiene $ 500 por cobrar, menos que el pago mínimo de $ 10.000",
            "Tiene un pago de $ 48.485 en camino",
            "Tiene 2 apelaciones sin decidir; cuando la plataforma las decida",
            "documento soporte de la semana del 1 al 7 de junio de 2026",
        ] {
            assert!(es.contains(said), "{said:?} in {es:?}");
        }
        let answer = deletion_answer_es(chrono::NaiveDate::from_ymd_opt(2026, 6, 5).unwrap());
        assert!(
            answer.starts_with("El 5 de junio de 2026 suprimimos"),
            "{answer}"
        );
        assert!(answer.contains("Ley 962 de 2005, artículo 28"), "{answer}");
    }

    #[test]
    fn retention_is_ten_calendar_years() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        assert_eq!(
            retention_cutoff(at("2036-03-01T10:00:00-05:00")),
            at("2026-03-01T10:00:00-05:00")
        );
        // 29 February has no twin ten years before: the cut-off is the last day of February.
        assert_eq!(
            retention_cutoff(at("2028-02-29T08:00:00-05:00")),
            at("2018-02-28T08:00:00-05:00")
        );
    }
}
