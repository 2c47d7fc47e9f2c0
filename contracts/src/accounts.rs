//! Who may do what to someone else's account, pure: deactivate it, remove a member from a
//! company, sign a person out everywhere; that a company always keeps an owner who can sign
//! in; and how long a payout to a newly changed destination waits.
//!
//! The API loads the caller and the target (the target's company row locked, so that two
//! owners removing each other cannot both succeed), asks here, and writes only on `Ok`.

use crate::identity::{MemberRole, Role};

/// A payout to a destination changed less than this long ago waits for the next batch after
/// it: a stolen session cannot redirect a worker's money before she reads the e-mail about it.
pub const PAYOUT_HOLD_SECS: i64 = 24 * 3600;

/// Whether a worker whose payout method changed at `changed_at` is held from a batch built at
/// `now` (`None`: never changed since the account was made).
pub fn payout_held(changed_at: Option<i64>, now: i64) -> bool {
    changed_at.is_some_and(|t| now - t < PAYOUT_HOLD_SECS)
}

/// The instant before which a change no longer holds a payout built at `now`.
pub fn payout_hold_cutoff(now: i64) -> i64 {
    now - PAYOUT_HOLD_SECS
}

/// Something done to an account by someone (possibly its owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// The account can no longer sign in; its tokens stop working.
    Deactivate,
    /// A company member leaves the company (and is deactivated).
    RemoveMember,
    /// Every token of the account is revoked.
    SignOutEverywhere,
    /// A deactivated account may sign in again (admin only); a member removed from her
    /// company is not (she left it: she is added again as a new member).
    Reactivate,
}

/// The caller or the target, as far as these rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub company_id: Option<&'a str>,
    pub member_role: Option<MemberRole>,
}

/// Why an action on an account is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    /// The caller has no business with this account (answered 404, so accounts cannot be
    /// probed): another company's member, or anyone a non-admin does not manage.
    NotYours,
    /// The caller sees the account but may not do this to it (403).
    Forbidden,
    /// Only company members can be removed from a company (the target is not one of its).
    NotAMember,
    /// The company would be left without an owner who can sign in (409).
    LastOwner,
    /// The platform would be left without an admin who can sign in (409).
    LastAdmin,
    /// A member removed from her company is not reactivated (409).
    RemovedMember,
}

impl AccountRefusal {
    /// The stable machine code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            AccountRefusal::NotYours | AccountRefusal::NotAMember => "not_found",
            AccountRefusal::Forbidden => "forbidden",
            AccountRefusal::LastOwner => "last_owner",
            AccountRefusal::LastAdmin => "last_admin",
            AccountRefusal::RemovedMember => "member_removed",
        }
    }

    /// No field is at fault: the refusal is about the account named in the path.
    pub fn field(&self) -> Option<&'static str> {
        None
    }
}

impl AccountAction {
    /// The kind of its audit row (`account_events.kind`).
    pub fn event_kind(self) -> &'static str {
        match self {
            AccountAction::Deactivate => "deactivated",
            AccountAction::RemoveMember => "removed_from_company",
            AccountAction::SignOutEverywhere => "signed_out_everywhere",
            AccountAction::Reactivate => "reactivated",
        }
    }

    /// What the action changes on a target that is `deactivated` and `removed` or not. Doing
    /// it again changes nothing (and records nothing); signing out always records.
    pub fn effect(self, deactivated: bool, removed: bool) -> Effect {
        let changed = match self {
            AccountAction::Deactivate => !deactivated,
            AccountAction::RemoveMember => !removed,
            AccountAction::SignOutEverywhere => true,
            AccountAction::Reactivate => deactivated && !removed,
        };
        let deactivates = changed
            && matches!(
                self,
                AccountAction::Deactivate | AccountAction::RemoveMember
            );
        Effect {
            changed,
            deactivates,
            removes: deactivates && self == AccountAction::RemoveMember,
            reactivates: changed && self == AccountAction::Reactivate,
        }
    }
}

/// What an action changes on its target. Every action also revokes the target's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Something changed: its audit row is recorded.
    pub changed: bool,
    /// The account is deactivated (kept deactivated since the first time).
    pub deactivates: bool,
    /// The account is marked removed from its company.
    pub removes: bool,
    /// The account may sign in again.
    pub reactivates: bool,
}

/// Who keeps an account's surroundings running, counted under their locks: the active owners
/// of the target's company, and the platform's active admins (counted only when the target is
/// an admin; otherwise 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Keepers {
    pub active_owners: i64,
    pub active_admins: i64,
}

/// Refuse reactivating a member her company removed: she left it.
pub fn reactivable(action: AccountAction, removed: bool) -> Result<(), AccountRefusal> {
    if action == AccountAction::Reactivate && removed {
        Err(AccountRefusal::RemovedMember)
    } else {
        Ok(())
    }
}

/// Refuse an action that would leave a company without an owner or the platform without an
/// admin who can sign in ([`keeps_an_owner`], then [`keeps_an_admin`]).
pub fn leaves_keepers(
    target: &Person<'_>,
    target_active: bool,
    action: AccountAction,
    keepers: Keepers,
) -> Result<(), AccountRefusal> {
    keeps_an_owner(target, target_active, action, keepers.active_owners)?;
    keeps_an_admin(target, target_active, action, keepers.active_admins)
}

/// May `actor` do `action` to `target`? Admin: to anyone (removal: to company members). A
/// company owner: to her company's members, herself included. Anyone: sign herself out
/// everywhere. `company` is the company named in the request for a removal.
pub fn may(
    actor: &Person<'_>,
    target: &Person<'_>,
    action: AccountAction,
    company: Option<&str>,
) -> Result<(), AccountRefusal> {
    let is_self = actor.user_id == target.user_id;
    let same_company = actor.company_id.is_some() && actor.company_id == target.company_id;
    let owner_of_target =
        actor.role == Role::Company && actor.member_role == Some(MemberRole::Owner) && same_company;
    if action == AccountAction::RemoveMember
        && (target.role != Role::Company || target.company_id != company)
    {
        return Err(AccountRefusal::NotAMember);
    }
    if actor.role == Role::Admin {
        return Ok(());
    }
    if owner_of_target && action != AccountAction::Reactivate {
        return Ok(());
    }
    if is_self && action == AccountAction::SignOutEverywhere {
        return Ok(());
    }
    // A reviewer sees her colleagues (the member list), so she is refused, not misled; staff
    // and workers other than admin manage no one else's account.
    if is_self || same_company || actor.role == Role::Finance || actor.role == Role::Worker {
        Err(AccountRefusal::Forbidden)
    } else {
        Err(AccountRefusal::NotYours)
    }
}

/// Refuse an action that would leave a company with no owner who can sign in.
/// `active_owners` counts the company's active owners now, the target included when she is
/// one (read under the company row's lock).
pub fn keeps_an_owner(
    target: &Person<'_>,
    target_active: bool,
    action: AccountAction,
    active_owners: i64,
) -> Result<(), AccountRefusal> {
    let takes_an_owner = matches!(
        action,
        AccountAction::Deactivate | AccountAction::RemoveMember
    ) && target_active
        && target.role == Role::Company
        && target.member_role == Some(MemberRole::Owner);
    if takes_an_owner && active_owners <= 1 {
        Err(AccountRefusal::LastOwner)
    } else {
        Ok(())
    }
}

/// Refuse deactivating the platform's last active admin (nobody could then create staff or
/// reactivate anyone). `active_admins` is read under the admins' row locks.
pub fn keeps_an_admin(
    target: &Person<'_>,
    target_active: bool,
    action: AccountAction,
    active_admins: i64,
) -> Result<(), AccountRefusal> {
    if action == AccountAction::Deactivate
        && target_active
        && target.role == Role::Admin
        && active_admins <= 1
    {
        Err(AccountRefusal::LastAdmin)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn person<'a>(
        id: &'a str,
        role: Role,
        company: Option<&'a str>,
        m: Option<MemberRole>,
    ) -> Person<'a> {
        Person {
            user_id: id,
            role,
            company_id: company,
            member_role: m,
        }
    }

    #[test]
    fn who_manages_whom() {
        use AccountAction::*;
        let admin = person("a", Role::Admin, None, None);
        let finance = person("f", Role::Finance, None, None);
        let owner = person("o", Role::Company, Some("c1"), Some(MemberRole::Owner));
        let reviewer = person("r", Role::Company, Some("c1"), Some(MemberRole::Reviewer));
        let stranger = person("s", Role::Company, Some("c2"), Some(MemberRole::Owner));
        let worker = person("w", Role::Worker, None, None);
        for action in [Deactivate, SignOutEverywhere] {
            assert_eq!(may(&admin, &worker, action, None), Ok(()));
            assert_eq!(may(&owner, &reviewer, action, None), Ok(()));
            assert_eq!(may(&owner, &owner, action, None), Ok(()));
            assert_eq!(
                may(&stranger, &reviewer, action, None),
                Err(AccountRefusal::NotYours)
            );
            assert_eq!(
                may(&reviewer, &owner, action, None),
                Err(AccountRefusal::Forbidden)
            );
            assert_eq!(
                may(&finance, &reviewer, action, None),
                Err(AccountRefusal::Forbidden)
            );
            assert_eq!(
                may(&worker, &reviewer, action, None),
                Err(AccountRefusal::Forbidden)
            );
            assert_eq!(
                may(&owner, &worker, action, None),
                Err(AccountRefusal::NotYours)
            );
        }
        // Anyone signs herself out everywhere; deactivating herself is for admin and owners.
        assert_eq!(may(&worker, &worker, SignOutEverywhere, None), Ok(()));
        assert_eq!(may(&reviewer, &reviewer, SignOutEverywhere, None), Ok(()));
        assert_eq!(
            may(&worker, &worker, Deactivate, None),
            Err(AccountRefusal::Forbidden)
        );
        // Removal is from the company named, of its members only.
        assert_eq!(may(&owner, &reviewer, RemoveMember, Some("c1")), Ok(()));
        assert_eq!(may(&admin, &reviewer, RemoveMember, Some("c1")), Ok(()));
        assert_eq!(
            may(&admin, &reviewer, RemoveMember, Some("c2")),
            Err(AccountRefusal::NotAMember)
        );
        assert_eq!(
            may(&admin, &worker, RemoveMember, Some("c1")),
            Err(AccountRefusal::NotAMember)
        );
    }

    #[test]
    fn a_company_keeps_an_owner() {
        use AccountAction::*;
        let owner = person("o", Role::Company, Some("c1"), Some(MemberRole::Owner));
        let reviewer = person("r", Role::Company, Some("c1"), Some(MemberRole::Reviewer));
        assert_eq!(
            keeps_an_owner(&owner, true, RemoveMember, 1),
            Err(AccountRefusal::LastOwner)
        );
        assert_eq!(
            keeps_an_owner(&owner, true, Deactivate, 1),
            Err(AccountRefusal::LastOwner)
        );
        assert_eq!(keeps_an_owner(&owner, true, RemoveMember, 2), Ok(()));
        assert_eq!(keeps_an_owner(&owner, true, SignOutEverywhere, 1), Ok(()));
        // An owner already deactivated is not one of the active owners: removing her is fine.
        assert_eq!(keeps_an_owner(&owner, false, RemoveMember, 1), Ok(()));
        assert_eq!(keeps_an_owner(&reviewer, true, RemoveMember, 1), Ok(()));
    }

    #[test]
    fn the_platform_keeps_an_admin() {
        use AccountAction::*;
        let admin = person("a", Role::Admin, None, None);
        assert_eq!(
            keeps_an_admin(&admin, true, Deactivate, 1),
            Err(AccountRefusal::LastAdmin)
        );
        assert_eq!(keeps_an_admin(&admin, true, Deactivate, 2), Ok(()));
        assert_eq!(keeps_an_admin(&admin, true, SignOutEverywhere, 1), Ok(()));
        let worker = person("w", Role::Worker, None, None);
        assert_eq!(keeps_an_admin(&worker, true, Deactivate, 0), Ok(()));
    }

    #[test]
    fn each_action_changes_only_what_is_not_done_yet() {
        use AccountAction::*;
        let none = Effect {
            changed: false,
            deactivates: false,
            removes: false,
            reactivates: false,
        };
        assert_eq!(
            Deactivate.effect(false, false),
            Effect {
                changed: true,
                deactivates: true,
                removes: false,
                reactivates: false
            }
        );
        assert_eq!(Deactivate.effect(true, false), none);
        assert_eq!(
            RemoveMember.effect(true, false),
            Effect {
                changed: true,
                deactivates: true,
                removes: true,
                reactivates: false
            }
        );
        assert_eq!(RemoveMember.effect(true, true), none);
        assert_eq!(
            SignOutEverywhere.effect(true, true),
            Effect {
                changed: true,
                deactivates: false,
                removes: false,
                reactivates: false
            }
        );
        assert_eq!(RemoveMember.event_kind(), "removed_from_company");
    }

    #[test]
    fn refusals_have_their_codes() {
        let admin = person("a", Role::Admin, None, None);
        let owner = person("o", Role::Company, Some("c1"), Some(MemberRole::Owner));
        let last = |t: &Person<'_>| {
            leaves_keepers(
                t,
                true,
                AccountAction::Deactivate,
                Keepers {
                    active_owners: 1,
                    active_admins: 1,
                },
            )
            .unwrap_err()
        };
        assert_eq!(last(&owner).code(), "last_owner");
        assert_eq!(last(&admin).code(), "last_admin");
        assert_eq!(AccountRefusal::NotAMember.code(), "not_found");
        assert_eq!(AccountRefusal::Forbidden.field(), None);
        assert_eq!(
            leaves_keepers(
                &admin,
                true,
                AccountAction::Deactivate,
                Keepers {
                    active_owners: 0,
                    active_admins: 2
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn payouts_wait_a_day_after_a_change() {
        let now = 1_800_000_000;
        assert!(!payout_held(None, now));
        assert!(payout_held(Some(now - 60), now));
        assert!(payout_held(Some(now - PAYOUT_HOLD_SECS + 1), now));
        assert!(!payout_held(Some(now - PAYOUT_HOLD_SECS), now));
        assert!(!payout_held(Some(payout_hold_cutoff(now)), now));
    }

    #[test]
    fn only_admin_reactivates_and_never_a_removed_member() {
        use AccountAction::*;
        let admin = person("a", Role::Admin, None, None);
        let owner = person("o", Role::Company, Some("c1"), Some(MemberRole::Owner));
        let reviewer = person("r", Role::Company, Some("c1"), Some(MemberRole::Reviewer));
        let worker = person("w", Role::Worker, None, None);
        let finance = person("f", Role::Finance, None, None);
        assert_eq!(may(&admin, &worker, Reactivate, None), Ok(()));
        assert_eq!(may(&admin, &reviewer, Reactivate, None), Ok(()));
        assert_eq!(
            may(&owner, &reviewer, Reactivate, None),
            Err(AccountRefusal::Forbidden)
        );
        assert_eq!(
            may(&finance, &worker, Reactivate, None),
            Err(AccountRefusal::Forbidden)
        );
        assert_eq!(
            may(&owner, &worker, Reactivate, None),
            Err(AccountRefusal::NotYours)
        );
        assert_eq!(
            Reactivate.effect(true, false),
            Effect {
                changed: true,
                deactivates: false,
                removes: false,
                reactivates: true
            }
        );
        // An active account: nothing to do, nothing recorded.
        assert!(!Reactivate.effect(false, false).changed);
        assert_eq!(
            reactivable(Reactivate, true),
            Err(AccountRefusal::RemovedMember)
        );
        assert_eq!(AccountRefusal::RemovedMember.code(), "member_removed");
        assert_eq!(reactivable(Reactivate, false), Ok(()));
        assert_eq!(reactivable(Deactivate, true), Ok(()));
        assert_eq!(Reactivate.event_kind(), "reactivated");
        // Reactivating takes no keeper away.
        assert_eq!(
            leaves_keepers(&admin, false, Reactivate, Keepers::default()),
            Ok(())
        );
    }

    /// A company member in the model: owner or not, active or not.
    #[derive(Debug, Clone, Copy)]
    struct Member {
        owner: bool,
        active: bool,
        removed: bool,
    }

    const IDS: [&str; 6] = ["m0", "m1", "m2", "m3", "m4", "m5"];

    fn as_person(i: usize, m: &Member) -> Person<'static> {
        let role = if m.owner {
            MemberRole::Owner
        } else {
            MemberRole::Reviewer
        };
        person(IDS[i], Role::Company, Some("c1"), Some(role))
    }

    proptest! {
        /// Whatever owners and admins do to a company's members, in whatever order, a company
        /// that has an active owner keeps one.
        #[test]
        fn a_company_never_loses_its_last_owner(
            owners in prop::collection::vec(any::<bool>(), 1..6),
            steps in prop::collection::vec((0usize..6, 0usize..6, 0usize..3, any::<bool>()), 0..30),
        ) {
            let mut members: Vec<Member> = owners
                .iter()
                .map(|&owner| Member { owner, active: true, removed: false })
                .collect();
            members[0].owner = true;
            let admin = person("a", Role::Admin, None, None);
            for (by, on, action, by_admin) in steps {
                let (by, on) = (by % members.len(), on % members.len());
                let action = [AccountAction::Deactivate, AccountAction::RemoveMember, AccountAction::SignOutEverywhere][action];
                let actor = if by_admin { admin } else { as_person(by, &members[by]) };
                if !members[by].active && !by_admin {
                    continue; // a deactivated member cannot sign in to act
                }
                let target = as_person(on, &members[on]);
                if may(&actor, &target, action, Some("c1")).is_err() {
                    continue;
                }
                let keepers = Keepers {
                    active_owners: members.iter().filter(|m| m.owner && m.active).count() as i64,
                    active_admins: 1,
                };
                if leaves_keepers(&target, members[on].active, action, keepers).is_err() {
                    continue;
                }
                let m = &mut members[on];
                let effect = action.effect(!m.active, m.removed);
                m.active &= !effect.deactivates;
                m.removed |= effect.removes;
                prop_assert!(members.iter().any(|m| m.owner && m.active), "{members:?}");
            }
        }
    }
}
