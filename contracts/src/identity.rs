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
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance => "finance",
            Role::Company => "company",
            Role::Worker => "worker",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "finance" => Role::Finance,
            "company" => Role::Company,
            "worker" => Role::Worker,
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

/// A lower-cased e-mail address with one `@`, a dotted domain and no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("is not an e-mail address (missing @)");
        };
        let ok_chars = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && c != '@' && c != ',')
        };
        if !ok_chars(local) || !ok_chars(domain) {
            return Err("is not an e-mail address");
        }
        if !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err("is not an e-mail address (domain needs a dot)");
        }
        Ok(Email(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }
    }
}
