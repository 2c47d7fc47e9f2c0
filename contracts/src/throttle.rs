//! Throttling's rule, pure: how one counter (an address's sign-ins, an e-mail's at an address,
//! an account's password checks, reset links) counts an attempt, and whether it then refuses
//! and for how long.
//!
//! The API counts in one SQL statement (`count_attempt` in `api/src/auth.rs`) so that
//! simultaneous attempts each see the count the others left; that statement is
//! [`Counter::count`] written in SQL, and it answers with the counter it left, which
//! [`Counter::refusal`] judges. `tests/tests/sign_in_throttle.rs` plays random attempts,
//! refunds and pauses on both and fails when they part, on SQLite and PostgreSQL.

/// How long a counter's window lasts: attempts are counted from its first one.
pub const WINDOW_SECS: i64 = 15 * 60;
/// How long a locking counter stays shut once over. At least [`WINDOW_SECS`], so that a lock
/// outlives its window and the first attempt after it starts over.
pub const LOCK_SECS: i64 = 15 * 60;
/// Sign-in attempts allowed per e-mail from one client address within [`WINDOW_SECS`] before
/// that pair is locked for [`LOCK_SECS`]. Per address, not per e-mail alone, so that nobody
/// can lock an admin out for good from elsewhere.
pub const MAX_PER_EMAIL_AND_ADDRESS: i64 = 5;
/// Failed sign-ins allowed from one client address, whatever the e-mails (password spraying),
/// counting those in flight: enough for a whole office signing in at the same moment.
pub const MAX_PER_ADDRESS: i64 = 40;
/// Wrong `current_password`s allowed per account (password change, payout method change).
pub const MAX_PASSWORD_CHECKS: i64 = 5;

/// What a counter allows: `max` attempts per window; going over either locks it for
/// [`LOCK_SECS`] or only refuses while it stays over (a limit whose successes are given back,
/// so a burst of right passwords from one office is never shut out for long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max: i64,
    pub locks: bool,
}

/// One counter as stored (`login_throttle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Attempts counted in the window (failures, and attempts still in flight).
    pub attempts: i64,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

/// Why an attempt is refused, and how long until one would be let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A locking counter went over: shut until the lock ends, whatever comes meanwhile.
    Locked { retry_after: u64 },
    /// A counter that does not lock is over until its window ends.
    OverLimit { retry_after: u64 },
}

impl Refusal {
    /// The stable machine code the API answers with (429).
    pub fn code(&self) -> &'static str {
        "too_many_attempts"
    }

    /// No field is at fault: the caller is, for a while. (The API names `current_password`
    /// for a password check, whose refusal is about that field.)
    pub fn field(&self) -> Option<&'static str> {
        None
    }

    /// Seconds until an attempt would be let through (`Retry-After`), at least 1.
    pub fn retry_after(&self) -> u64 {
        match self {
            Refusal::Locked { retry_after } | Refusal::OverLimit { retry_after } => *retry_after,
        }
    }

    /// The wait in whole minutes, rounded up, as people are told it.
    pub fn minutes(&self) -> u64 {
        minutes(self.retry_after())
    }
}

/// A wait of `secs` in whole minutes, rounded up, at least 1.
pub fn minutes(secs: u64) -> u64 {
    secs.div_ceil(60).max(1)
}

impl Counter {
    /// Whether the counter starts over at `now`: its window has passed and no lock holds.
    pub fn is_stale(&self, now: i64) -> bool {
        self.window_start <= now - WINDOW_SECS && self.locked_until.is_none_or(|u| u <= now)
    }

    /// The counter after one more attempt at `now` (`prev`: none yet). A count stops at
    /// `max + 1`, so refused attempts do not pile up; a lock, once set, runs its length and
    /// is neither lengthened nor lifted by the attempts made during it.
    pub fn count(prev: Option<Counter>, policy: Policy, now: i64) -> Counter {
        let Some(c) = prev.filter(|c| !c.is_stale(now)) else {
            return Counter {
                attempts: 1,
                window_start: now,
                locked_until: None,
            };
        };
        Counter {
            attempts: if c.attempts > policy.max {
                c.attempts
            } else {
                c.attempts + 1
            },
            window_start: c.window_start,
            locked_until: match c.locked_until {
                Some(until) if until > now => Some(until),
                _ if c.attempts + 1 > policy.max => policy.locks.then_some(now + LOCK_SECS),
                _ => None,
            },
        }
    }

    /// One attempt given back: it was counted for nothing (the check never ran), or it
    /// succeeded and the counter counts failures only.
    pub fn refund(self) -> Counter {
        Counter {
            attempts: (self.attempts - 1).max(0),
            ..self
        }
    }

    /// Whether the attempt just counted is refused, and for how long.
    pub fn refusal(&self, policy: Policy, now: i64) -> Option<Refusal> {
        match self.locked_until {
            Some(until) if until > now => Some(Refusal::Locked {
                retry_after: (until - now) as u64,
            }),
            _ if self.attempts > policy.max => Some(Refusal::OverLimit {
                retry_after: (self.window_start + WINDOW_SECS - now).max(1) as u64,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_800_000_000;

    /// Count an attempt and judge it, as `count_attempt` does.
    fn attempt(c: &mut Option<Counter>, p: Policy, now: i64) -> Option<Refusal> {
        let next = Counter::count(*c, p, now);
        *c = Some(next);
        next.refusal(p, now)
    }

    #[test]
    fn the_sixth_wrong_password_locks_for_fifteen_minutes() {
        let p = Policy {
            max: MAX_PER_EMAIL_AND_ADDRESS,
            locks: true,
        };
        let mut c = None;
        for i in 0..5 {
            assert_eq!(attempt(&mut c, p, T0 + i), None);
        }
        let refused = attempt(&mut c, p, T0 + 10).unwrap();
        assert_eq!(
            refused,
            Refusal::Locked {
                retry_after: LOCK_SECS as u64
            }
        );
        assert_eq!(
            (refused.code(), refused.minutes()),
            ("too_many_attempts", 15)
        );
        // Attempts during the lock neither lengthen it nor pile up.
        assert_eq!(
            attempt(&mut c, p, T0 + 70),
            Some(Refusal::Locked {
                retry_after: LOCK_SECS as u64 - 60
            })
        );
        assert_eq!(c.unwrap().attempts, 6);
        // When it ends, she starts over.
        assert_eq!(attempt(&mut c, p, T0 + 10 + LOCK_SECS), None);
        assert_eq!(c.unwrap().attempts, 1);
    }

    #[test]
    fn a_counter_that_does_not_lock_refuses_until_its_window_ends() {
        let p = Policy {
            max: 2,
            locks: false,
        };
        let mut c = None;
        assert_eq!(attempt(&mut c, p, T0), None);
        assert_eq!(attempt(&mut c, p, T0 + 1), None);
        assert_eq!(
            attempt(&mut c, p, T0 + 100),
            Some(Refusal::OverLimit {
                retry_after: WINDOW_SECS as u64 - 100
            })
        );
        assert_eq!(c.unwrap().locked_until, None);
        // A success given back opens it again at once.
        c = c.map(Counter::refund);
        assert_eq!(
            attempt(&mut c, p, T0 + 101),
            Some(Refusal::OverLimit {
                retry_after: WINDOW_SECS as u64 - 101
            })
        );
        c = c.map(Counter::refund).map(Counter::refund);
        assert_eq!(attempt(&mut c, p, T0 + 102), None);
        assert_eq!(Refusal::OverLimit { retry_after: 1 }.minutes(), 1);
        assert_eq!(Refusal::OverLimit { retry_after: 61 }.minutes(), 2);
    }

    fn policies() -> impl Strategy<Value = Policy> {
        (1i64..8, any::<bool>()).prop_map(|(max, locks)| Policy { max, locks })
    }

    /// Attempts at non-decreasing times: gaps from a few seconds to beyond a window.
    fn times() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(
            prop_oneof![0i64..5, 0i64..120, 0i64..2 * WINDOW_SECS],
            1..60,
        )
        .prop_map(|gaps| {
            gaps.into_iter()
                .scan(T0, |t, g| {
                    *t += g;
                    Some(*t)
                })
                .collect()
        })
    }

    proptest! {
        /// However attempts come, at most `max` are let through in the window that begins
        /// with each fresh count, and a count never passes `max + 1`.
        #[test]
        fn no_more_than_max_get_through_a_window(p in policies(), times in times()) {
            let mut c = None;
            let mut through = Vec::new();
            let mut starts = Vec::new();
            for &t in &times {
                let refused = attempt(&mut c, p, t);
                let now = c.unwrap();
                prop_assert!(now.attempts <= p.max + 1);
                if now.attempts == 1 {
                    starts.push(t);
                }
                if refused.is_none() {
                    through.push(t);
                }
            }
            for s in starts {
                let n = through.iter().filter(|t| (s..s + WINDOW_SECS).contains(*t)).count();
                prop_assert!(n as i64 <= p.max, "{n} through a window of {}", p.max);
            }
        }

        /// A refusal's wait is honest: every attempt before it ends is refused (trying does
        /// not lift a lock), and the first attempt at its end is let through.
        #[test]
        fn the_wait_told_is_the_wait(p in policies(), times in times(), probe in 0i64..2 * WINDOW_SECS) {
            let mut c = None;
            for &t in &times {
                let Some(refusal) = attempt(&mut c, p, t) else { continue };
                let wait = refusal.retry_after() as i64;
                prop_assert!(wait >= 1 && wait <= LOCK_SECS.max(WINDOW_SECS));
                if probe < wait {
                    let mut during = c;
                    prop_assert!(attempt(&mut during, p, t + probe).is_some());
                }
                let mut after = c;
                prop_assert_eq!(attempt(&mut after, p, t + wait), None);
            }
        }

        /// Successes given back never shut anyone out: a counter whose every attempt is
        /// refunded never refuses.
        #[test]
        fn refunded_attempts_never_refuse(p in policies(), times in times()) {
            let mut c = None;
            for &t in &times {
                prop_assert_eq!(attempt(&mut c, p, t), None);
                c = c.map(Counter::refund);
            }
        }
    }
}
