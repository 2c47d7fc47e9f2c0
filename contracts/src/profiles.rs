//! Who may change what in a worker's profile, pure. The worker changes her contact, place and
//! payout method; skills (earned in training) and cédula are recorded by admin; where her
//! money goes changes, when she changes it herself, only with her password (a stolen token
//! alone must not redirect it, issue 13 §8). Finance reads profiles but changes none.
//!
//! The API reads the profile (404 to anyone who may not read it), asks [`may_change`] before
//! parsing the fields, then [`plan`] once they parse (so a typo costs no password attempt).

use crate::identity::Role;

/// Who is changing the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// The worker herself.
    TheWorker,
    Admin,
    /// Someone who may read the profile but not change it (finance).
    Other,
}

impl Editor {
    /// The editor of a profile: `is_self` when the caller is the profile's worker.
    pub fn of(role: Role, is_self: bool) -> Editor {
        if is_self {
            Editor::TheWorker
        } else if role == Role::Admin {
            Editor::Admin
        } else {
            Editor::Other
        }
    }
}

/// Which fields a change names (sent in the request, whatever their values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asked {
    pub skills: bool,
    pub document_id: bool,
    pub payout_method: bool,
    pub current_password: bool,
}

/// Why a change to a profile is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileRefusal {
    /// Neither the worker nor an admin (403).
    NotYours,
    /// A field only admin records (403, naming it).
    StaffOnly { field: &'static str },
    /// The worker changes her payout method without her current password (422).
    PasswordNeeded,
}

impl ProfileRefusal {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            ProfileRefusal::NotYours | ProfileRefusal::StaffOnly { .. } => "forbidden",
            ProfileRefusal::PasswordNeeded => "validation_failed",
        }
    }

    /// The field of the request at fault.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ProfileRefusal::NotYours => None,
            ProfileRefusal::StaffOnly { field } => Some(*field),
            ProfileRefusal::PasswordNeeded => Some("current_password"),
        }
    }
}

/// May `editor` make a change naming these fields?
pub fn may_change(editor: Editor, asked: &Asked) -> Result<(), ProfileRefusal> {
    if editor == Editor::Other {
        return Err(ProfileRefusal::NotYours);
    }
    if editor != Editor::Admin {
        if asked.skills {
            return Err(ProfileRefusal::StaffOnly { field: "skills" });
        }
        if asked.document_id {
            return Err(ProfileRefusal::StaffOnly {
                field: "document_id",
            });
        }
    }
    Ok(())
}

/// What a change that may be made needs and sets off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Check the worker's current password first.
    pub check_password: bool,
    /// The payout destination really changes: the next payout to it waits, the change is
    /// audited and the worker is told.
    pub payout_changes: bool,
}

/// The plan of a change whose fields parsed: `new_payout` and `current_payout` are the payout
/// methods in one normal form (a method sent again unchanged changes nothing).
pub fn plan(
    editor: Editor,
    asked: &Asked,
    new_payout: Option<&str>,
    current_payout: &str,
) -> Result<Plan, ProfileRefusal> {
    let check_password = editor == Editor::TheWorker && new_payout.is_some();
    if check_password && !asked.current_password {
        return Err(ProfileRefusal::PasswordNeeded);
    }
    Ok(Plan {
        check_password,
        payout_changes: new_payout.is_some_and(|p| p != current_payout),
    })
}

/// Where a worker's money goes, checked (the API's `PayoutMethod`, stored as its JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payout {
    Nequi {
        phone: String,
    },
    Daviplata {
        phone: String,
    },
    Bank {
        bank: String,
        account_type: AccountKind,
        account_number: String,
    },
    BreB {
        key: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Savings,
    Checking,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Savings => "savings",
            AccountKind::Checking => "checking",
        }
    }
}

/// A bank account number as banks print it (`123-456789-01`): its 6 to 20 digits.
pub fn account_number(raw: &str) -> Result<String, &'static str> {
    let number: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !(6..=20).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err("must be 6 to 20 digits");
    }
    Ok(number)
}

/// A Bre-B key (cédula, phone, e-mail or alias): 1 to 100 printable characters, trimmed.
pub fn breb_key(raw: &str) -> Result<String, &'static str> {
    let key = raw.trim();
    if key.is_empty() || key.chars().count() > 100 || key.chars().any(char::is_control) {
        return Err("must be 1 to 100 printable characters");
    }
    Ok(key.to_string())
}

impl Payout {
    /// The method as stored (`{"kind":"nequi","phone":"3105551234"}`), read back; `None` for
    /// anything else.
    pub fn from_stored(json: &serde_json::Value) -> Option<Payout> {
        let text = |k: &str| {
            json.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        Some(match json.get("kind")?.as_str()? {
            "nequi" => Payout::Nequi {
                phone: text("phone")?,
            },
            "daviplata" => Payout::Daviplata {
                phone: text("phone")?,
            },
            "bank" => Payout::Bank {
                bank: text("bank")?,
                account_type: match text("account_type")?.as_str() {
                    "checking" => AccountKind::Checking,
                    _ => AccountKind::Savings,
                },
                account_number: text("account_number")?,
            },
            "bre-b" => Payout::BreB { key: text("key")? },
            _ => return None,
        })
    }

    /// The method as stored: the JSON the API's `PayoutMethod` writes.
    pub fn to_stored(&self) -> serde_json::Value {
        match self {
            Payout::Nequi { phone } => serde_json::json!({"kind": "nequi", "phone": phone}),
            Payout::Daviplata { phone } => {
                serde_json::json!({"kind": "daviplata", "phone": phone})
            }
            Payout::Bank {
                bank,
                account_type,
                account_number,
            } => serde_json::json!({
                "kind": "bank", "bank": bank, "account_type": account_type.as_str(),
                "account_number": account_number
            }),
            Payout::BreB { key } => serde_json::json!({"kind": "bre-b", "key": key}),
        }
    }

    /// Where the money lands, so two workers paid to the same place can be flagged to staff:
    /// a phone (Nequi, Daviplata, or a Bre-B key that is a mobile number) is one destination
    /// whatever the wallet; an account is its bank and number; another Bre-B key is itself,
    /// without case.
    pub fn duplicate_key(&self) -> String {
        match self {
            Payout::Nequi { phone } | Payout::Daviplata { phone } => format!("phone:{phone}"),
            Payout::Bank {
                bank,
                account_number,
                ..
            } => format!("account:{}:{account_number}", crate::suggest::fold(bank)),
            Payout::BreB { key } => match crate::identity::MobilePhone::parse(key) {
                Ok(phone) => format!("phone:{}", phone.as_str()),
                Err(_) => format!("key:{}", key.trim().to_lowercase()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_asked() -> impl Iterator<Item = Asked> {
        (0u8..16).map(|bits| Asked {
            skills: bits & 1 != 0,
            document_id: bits & 2 != 0,
            payout_method: bits & 4 != 0,
            current_password: bits & 8 != 0,
        })
    }

    #[test]
    fn editors() {
        assert_eq!(Editor::of(Role::Worker, true), Editor::TheWorker);
        assert_eq!(Editor::of(Role::Admin, false), Editor::Admin);
        assert_eq!(Editor::of(Role::Finance, false), Editor::Other);
        assert_eq!(Editor::of(Role::Worker, false), Editor::Other);
    }

    /// Every editor and every combination of fields: only admin records skills and cédula,
    /// nobody but the worker and admin changes anything, and the worker never changes her
    /// payout method without her password.
    #[test]
    fn who_changes_what() {
        for editor in [Editor::TheWorker, Editor::Admin, Editor::Other] {
            for asked in every_asked() {
                let allowed = may_change(editor, &asked);
                match editor {
                    Editor::Other => assert_eq!(allowed, Err(ProfileRefusal::NotYours)),
                    Editor::Admin => assert_eq!(allowed, Ok(())),
                    Editor::TheWorker => {
                        assert_eq!(allowed.is_ok(), !asked.skills && !asked.document_id);
                        if asked.skills {
                            assert_eq!(allowed.unwrap_err().field(), Some("skills"));
                        }
                    }
                }
                if allowed.is_err() {
                    continue;
                }
                let new = asked.payout_method.then_some("{\"kind\":\"nequi\"}");
                match plan(editor, &asked, new, "{\"kind\":\"bank\"}") {
                    Ok(p) => {
                        assert_eq!(p.payout_changes, asked.payout_method);
                        assert_eq!(
                            p.check_password,
                            editor == Editor::TheWorker && asked.payout_method
                        );
                    }
                    Err(r) => {
                        assert_eq!(r, ProfileRefusal::PasswordNeeded);
                        assert_eq!(
                            (r.code(), r.field()),
                            ("validation_failed", Some("current_password"))
                        );
                        assert!(editor == Editor::TheWorker && !asked.current_password);
                    }
                }
            }
        }
    }

    #[test]
    fn the_same_method_again_changes_nothing() {
        let asked = Asked {
            payout_method: true,
            current_password: true,
            ..Asked::default()
        };
        let same = plan(Editor::TheWorker, &asked, Some("x"), "x").unwrap();
        assert_eq!(
            same,
            Plan {
                check_password: true,
                payout_changes: false
            }
        );
        let none = plan(Editor::Admin, &Asked::default(), None, "x").unwrap();
        assert!(!none.check_password && !none.payout_changes);
    }

    #[test]
    fn payout_destinations_are_compared_where_the_money_lands() {
        let nequi = Payout::Nequi {
            phone: "3105551234".into(),
        };
        let daviplata = Payout::Daviplata {
            phone: "3105551234".into(),
        };
        let breb_phone = Payout::BreB {
            key: "+57 310 555 1234".into(),
        };
        assert_eq!(nequi.duplicate_key(), "phone:3105551234");
        assert_eq!(daviplata.duplicate_key(), nequi.duplicate_key());
        assert_eq!(breb_phone.duplicate_key(), nequi.duplicate_key());
        let bank = |b: &str, n: &str| Payout::Bank {
            bank: b.into(),
            account_type: AccountKind::Savings,
            account_number: n.into(),
        };
        assert_eq!(
            bank("Bancolombia", "123456").duplicate_key(),
            bank("BANCOLOMBIA ", "123456").duplicate_key()
        );
        assert_ne!(
            bank("Bancolombia", "123456").duplicate_key(),
            bank("Davivienda", "123456").duplicate_key()
        );
        assert_eq!(
            Payout::BreB {
                key: "Luz@Correo.test".into()
            }
            .duplicate_key(),
            "key:luz@correo.test"
        );
        for p in [
            nequi,
            daviplata,
            breb_phone,
            bank("Banco de Bogotá", "0012345678"),
        ] {
            assert_eq!(Payout::from_stored(&p.to_stored()), Some(p));
        }
        assert_eq!(
            Payout::from_stored(&serde_json::json!({"kind": "cash"})),
            None
        );
    }

    #[test]
    fn account_numbers_and_keys() {
        assert_eq!(account_number("123-456789-01"), Ok("12345678901".into()));
        assert!(account_number("12345").is_err());
        assert!(account_number("12345a7").is_err());
        assert_eq!(breb_key("  @luz "), Ok("@luz".into()));
        assert!(breb_key(" ").is_err());
        assert!(breb_key("a\u{7}").is_err());
    }
}
