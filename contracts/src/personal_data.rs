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
}
