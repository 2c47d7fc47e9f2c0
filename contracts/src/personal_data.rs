//! Personal data under Ley 1581 (issue 22): which of a worker's personal fields each kind of
//! read exposes, so every read by someone other than her is logged with what it showed, and she
//! can see it in Spanish ("quién consultó mis datos").

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
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::DocumentId,
        Field::Place,
        Field::PayoutMethod,
        Field::Income,
        Field::Fiscal,
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

/// What a worker asks of her data (Ley 1581 arts. 14–15): a consulta (a copy of it) or a
/// reclamo (a correction). Deletion comes with anonymisation (issue 22 §3, not yet built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Copy,
    Correction,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Copy => "copy",
            RequestKind::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        [RequestKind::Copy, RequestKind::Correction]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            RequestKind::Copy => "consulta (copia de sus datos)",
            RequestKind::Correction => "reclamo (corrección de sus datos)",
        }
    }

    /// Business days to answer: consultas 10, reclamos 15 (arts. 14 and 15).
    pub fn answer_days(self) -> u32 {
        match self {
            RequestKind::Copy => 10,
            RequestKind::Correction => 15,
        }
    }

    /// Business days one extension adds: 5 for a consulta, 8 for a reclamo.
    pub fn extension_days(self) -> u32 {
        match self {
            RequestKind::Copy => 5,
            RequestKind::Correction => 8,
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
}
