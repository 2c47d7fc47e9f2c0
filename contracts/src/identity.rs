//! People and organisations at the boundary: roles, and the newtypes that parse what clients
//! send ("parse, don't validate"). Each parser returns a message a person can act on.

use serde::{Deserialize, Serialize};

/// What a user is on the platform. One role per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Finance,
    Company,
    Worker,
    /// Read-only: the impact report and nothing else (issue 22 §2).
    Funder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance => "finance",
            Role::Company => "company",
            Role::Worker => "worker",
            Role::Funder => "funder",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "finance" => Role::Finance,
            "company" => Role::Company,
            "worker" => Role::Worker,
            "funder" => Role::Funder,
            _ => return None,
        })
    }
}

/// A company user's place in their company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Posts tasks, reviews, sees invoices, manages members.
    Owner,
    /// Reviews submissions only.
    Reviewer,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Reviewer => "reviewer",
        }
    }
    pub fn parse(s: &str) -> Option<MemberRole> {
        match s {
            "owner" => Some(MemberRole::Owner),
            "reviewer" => Some(MemberRole::Reviewer),
            _ => None,
        }
    }
}

/// An e-mail address people can be told apart by and mail can be sent to: trimmed, Unicode
/// NFC, lower-cased whole (so addresses compare case-insensitively, as they always have here:
/// `Luz@X.co` and `luz@x.co` are one account), one `@`, a dotted domain. Refused: anything
/// lettre cannot send to (`billing>@x.co`), invisible characters (zero-width, bidi controls,
/// non-breaking spaces), characters outside UTS 39's identifier profile (fullwidth `＠`,
/// symbols), and a local part or domain label that mixes scripts (a Cyrillic `а` among Latin
/// letters), so two accounts never differ only in ways a person cannot see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        use unicode_normalization::UnicodeNormalization;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty");
        }
        if trimmed.chars().any(invisible) {
            return Err("contiene caracteres invisibles o de control");
        }
        // Lower-casing can decompose (`İ` → `i̇`): normalise after it too.
        let s: String = trimmed
            .nfc()
            .collect::<String>()
            .to_lowercase()
            .nfc()
            .collect();
        if s.len() > 254 {
            return Err("is longer than 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("is not an e-mail address (missing @)");
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err("is not an e-mail address");
        }
        if local.len() > 64 {
            return Err("has more than 64 characters before the @");
        }
        // A dot-atom: no quoting, no comments, nothing a mail header would read specially.
        let atext = |c: char| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
        };
        if !local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext))
        {
            return Err("is not an e-mail address");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Err("is not an e-mail address (domain needs a dot)");
        }
        let label_ok = |l: &&str| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !labels.iter().all(label_ok) {
            return Err("is not an e-mail address");
        }
        if !s.chars().filter(|c| !c.is_ascii()).all(identifier_char) {
            return Err("contiene caracteres que no se usan en direcciones de correo");
        }
        if !single_script(local) || !labels.iter().all(|l| single_script(l)) {
            return Err("mezcla alfabetos distintos (por ejemplo, letras cirílicas entre latinas)");
        }
        // The mailer's own parser has the last word: what it refuses could never be sent to.
        if s.parse::<lettre::Address>().is_err() {
            return Err("no es una dirección a la que se pueda enviar correo");
        }
        Ok(Email(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters a person cannot see or that steer how text is shown: controls, whitespace
/// inside the address, format characters (zero-width space and joiners, bidi overrides, the
/// BOM), and other default-ignorables such as variation selectors.
fn invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Allowed in identifiers by UTS 39's general security profile (letters and digits of
/// scripts in current use; no symbols, compatibility forms or invisibles).
fn identifier_char(c: char) -> bool {
    use unicode_security::GeneralSecurityProfile;
    c.identifier_allowed()
}

/// One script (UTS 39's augmented sets: Japanese may mix kana and Han), digits and
/// punctuation being common to all.
fn single_script(s: &str) -> bool {
    use unicode_security::MixedScript;
    s.is_single_script()
}

/// A person's or organisation's display name: trimmed, 1–200 characters, no control chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Name, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.chars().count() > 200 {
            return Err("is longer than 200 characters");
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Name(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A Colombian NIT: 5–15 digits, optionally followed by `-` and its DIAN check digit, which
/// must be right. Stored as `digits-check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nit(String);

impl Nit {
    pub fn parse(raw: &str) -> Result<Nit, &'static str> {
        let s: String = raw
            .trim()
            .chars()
            .filter(|c| *c != '.' && *c != ' ')
            .collect();
        let (body, check) = match s.split_once('-') {
            Some((b, c)) => (b.to_string(), Some(c.to_string())),
            None => (s.clone(), None),
        };
        if body.len() < 5 || body.len() > 15 || !body.chars().all(|c| c.is_ascii_digit()) {
            return Err("must be 5 to 15 digits, optionally followed by -check digit");
        }
        let expected = nit_check_digit(&body);
        if let Some(c) = check
            && (c.len() != 1 || c.parse::<u32>().ok() != Some(expected))
        {
            return Err("has a wrong check digit");
        }
        Ok(Nit(format!("{body}-{expected}")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// DIAN's modulo-11 check digit for a NIT.
pub fn nit_check_digit(digits: &str) -> u32 {
    const WEIGHTS: [u32; 15] = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71];
    let sum: u32 = digits
        .chars()
        .rev()
        .zip(WEIGHTS.iter())
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    match sum % 11 {
        0 => 0,
        1 => 1,
        r => 11 - r,
    }
}

/// A Colombian mobile number (Nequi and Daviplata pay to these): 10 digits starting with 3,
/// optionally written with +57 and spaces. Stored as the 10 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePhone(String);

impl MobilePhone {
    pub fn parse(raw: &str) -> Result<MobilePhone, &'static str> {
        let mut s: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if let Some(rest) = s.strip_prefix("+57") {
            s = rest.to_string();
        }
        if s.len() != 10 || !s.chars().all(|c| c.is_ascii_digit()) || !s.starts_with('3') {
            return Err("must be a Colombian mobile number: 10 digits starting with 3");
        }
        Ok(MobilePhone(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cédula de ciudadanía: 5–10 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentId(String);

impl DocumentId {
    pub fn parse(raw: &str) -> Result<DocumentId, &'static str> {
        let s: String = raw.trim().chars().filter(|c| *c != '.').collect();
        if s.len() < 5 || s.len() > 10 || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err("must be a cédula of 5 to 10 digits");
        }
        Ok(DocumentId(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A skill tag such as `data-entry`: lower-case letters, digits and dashes, 2–40 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Skill(String);

impl Skill {
    pub fn parse(raw: &str) -> Result<Skill, &'static str> {
        let s = raw.trim().to_lowercase();
        if s.len() < 2 || s.len() > 40 {
            return Err("must be 2 to 40 characters");
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("may contain only letters, digits and dashes, like data-entry");
        }
        Ok(Skill(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chooses: 12–256 characters. Length is what matters (NIST SP 800-63B).
pub fn check_password(pw: &str) -> Result<(), &'static str> {
    let n = pw.chars().count();
    if n < 12 {
        return Err("must be at least 12 characters");
    }
    if n > 256 {
        return Err("must be at most 256 characters");
    }
    Ok(())
}

/// The prefix every bearer token carries, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "vrd_";

/// Longest password a sign-in checks, in bytes: hashing is the expensive part of a sign-in,
/// and nobody's password is longer.
pub const MAX_SIGN_IN_PASSWORD_BYTES: usize = 1024;

/// Why a sign-in is refused. Every refusal answers alike, so that nobody learns whether an
/// e-mail has an account or whether it was deactivated; the password is checked (against a
/// stand-in hash when there is no account) before any of them, so they take the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    UnknownEmail,
    WrongPassword,
    Deactivated,
}

impl SignInRefusal {
    /// The stable machine code the API answers with (401): the same for every refusal.
    pub fn code(&self) -> &'static str {
        "invalid_credentials"
    }

    /// No field is named: which of the two was wrong is not told.
    pub fn field(&self) -> Option<&'static str> {
        None
    }
}

/// Whether a sign-in succeeds: an account with that e-mail exists, the password matched its
/// hash, and the account is not deactivated.
pub fn sign_in_verdict(
    account: bool,
    password_matches: bool,
    deactivated: bool,
) -> Result<(), SignInRefusal> {
    match (account, password_matches, deactivated) {
        (false, _, _) => Err(SignInRefusal::UnknownEmail),
        (true, false, _) => Err(SignInRefusal::WrongPassword),
        (true, true, true) => Err(SignInRefusal::Deactivated),
        (true, true, false) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_sign_in_refusal_answers_alike() {
        assert_eq!(sign_in_verdict(true, true, false), Ok(()));
        let refusals = [
            sign_in_verdict(false, false, false),
            sign_in_verdict(false, true, false),
            sign_in_verdict(true, false, false),
            sign_in_verdict(true, false, true),
            sign_in_verdict(true, true, true),
        ];
        for r in refusals {
            let r = r.unwrap_err();
            assert_eq!((r.code(), r.field()), ("invalid_credentials", None));
        }
        assert_eq!(
            sign_in_verdict(true, true, true),
            Err(SignInRefusal::Deactivated)
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Luz@Example.CO ").unwrap().as_str(),
            "luz@example.co"
        );
        for bad in [
            "",
            "luz",
            "luz@",
            "@x.co",
            "luz@x",
            "luz @x.co",
            "a@b@c.co",
            "a@.co",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_nfc_so_composed_and_decomposed_accents_are_one_address() {
        let composed = Email::parse("jos\u{e9}@correo.co").unwrap();
        let decomposed = Email::parse("jose\u{301}@correo.co").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed.as_str(), "jos\u{e9}@correo.co");
        // Internationalised domains keep their letters, lower-cased.
        assert_eq!(
            Email::parse("Luz@Café.CO").unwrap().as_str(),
            "luz@caf\u{e9}.co"
        );
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in [
            "lu\u{200B}z@correo.co", // zero-width space
            "luz\u{200D}@correo.co", // zero-width joiner
            "luz@corr\u{00AD}eo.co", // soft hyphen
            "\u{202E}luz@correo.co", // right-to-left override
            "luz@correo.co\u{FEFF}", // byte-order mark at the end (not trimmed)
            "lu\u{00A0}z@correo.co", // non-breaking space
            "luz\u{FE0F}@correo.co", // variation selector
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert!(e.contains("invisibles"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn mixed_scripts_and_lookalike_forms_are_refused() {
        // Cyrillic а (U+0430) among Latin letters, in the local part and in the domain.
        for bad in ["\u{430}dmin@vereda.co", "admin@v\u{435}reda.co"] {
            let e = Email::parse(bad).unwrap_err();
            assert!(e.contains("alfabetos"), "{bad:?}: {e}");
        }
        // Fullwidth letters and @ are compatibility look-alikes.
        assert!(Email::parse("\u{FF41}dmin@vereda.co").is_err());
        assert!(Email::parse("admin\u{FF20}vereda.co").is_err());
        // One script per part is fine: all Cyrillic, all Greek, or Latin with accents.
        assert!(
            Email::parse(
                "\u{438}\u{432}\u{430}\u{43D}@\u{43F}\u{43E}\u{447}\u{442}\u{430}.\u{440}\u{444}"
            )
            .is_ok()
        );
        assert!(Email::parse("\u{f1}and\u{fa}.p\u{e9}rez@correo.co").is_ok());
    }

    #[test]
    fn only_addresses_the_mailer_can_send_to() {
        for bad in [
            "billing>@x.co",
            "<billing@x.co>",
            "\"luz\"@x.co",
            "luz(comentario)@x.co",
            "luz,ana@x.co",
            "luz;@x.co",
            ".luz@x.co",
            "luz.@x.co",
            "l..uz@x.co",
            "luz@-x.co",
            "luz@x_y.co",
            "luz@[127.0.0.1]",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "luz.perez+vereda@correo.co",
            "o'brien@x.co",
            "a_b-c@sub.dominio.com.co",
        ] {
            let e = Email::parse(good).unwrap();
            assert!(e.as_str().parse::<lettre::Address>().is_ok(), "{good}");
        }
    }

    #[test]
    fn nit_check_digits_match_dian() {
        // DIAN's own NIT is 800.197.268-4; Bancolombia 890.903.938-8.
        assert_eq!(Nit::parse("800197268-4").unwrap().as_str(), "800197268-4");
        assert_eq!(Nit::parse("890.903.938").unwrap().as_str(), "890903938-8");
        assert!(Nit::parse("800197268-5").is_err());
        assert!(Nit::parse("12AB").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(
            MobilePhone::parse("+57 310 555 1234").unwrap().as_str(),
            "3105551234"
        );
        assert!(MobilePhone::parse("6015551234").is_err());
        assert!(MobilePhone::parse("31055512").is_err());
    }

    #[test]
    fn names_keep_accents_and_emoji() {
        assert_eq!(
            Name::parse(" Luz Ñáñez 👩🏽‍💻 ").unwrap().as_str(),
            "Luz Ñáñez 👩🏽‍💻"
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\u{0}b").is_err());
    }

    proptest! {
        #[test]
        fn a_valid_nit_parses_to_itself(body in "[1-9][0-9]{4,14}") {
            let nit = Nit::parse(&body).unwrap();
            prop_assert_eq!(Nit::parse(nit.as_str()).unwrap(), nit);
        }

        #[test]
        fn email_parsing_never_panics_and_is_idempotent(s in ".{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().parse::<lettre::Address>().is_ok());
            }
        }

        #[test]
        fn accepted_addresses_are_idempotent_and_sendable(
            local in "[a-zA-Z0-9._+\u{e1}\u{f1}\u{430}-\u{44f}-]{1,20}",
            domain in "[a-zA-Z0-9\u{e9}-]{1,12}\\.[a-z]{2,4}",
        ) {
            if let Ok(e) = Email::parse(&format!("{local}@{domain}")) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().parse::<lettre::Address>().is_ok());
            }
        }
    }
}
