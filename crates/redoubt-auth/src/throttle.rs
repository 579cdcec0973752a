//! Login throttling, per account and per client address, with growing
//! delays. Node-RED locks an account for ten minutes after five attempts,
//! even for its owner, and lets an attacker keep it locked forever; it does
//! nothing per address and nothing for Basic auth.
//!
//! Here every failure counts against both the account and the address.
//! After [`FREE_FAILURES`] failures a key must wait before its next
//! attempt, the wait doubling with each further failure up to a cap:
//! [`ACCOUNT_CAP`] for an account (so its owner is never kept out for long,
//! whoever attacks it) and [`ADDRESS_CAP`] for an address (so one machine
//! cannot guess quickly across many accounts). A success clears the
//! account and the address; a key is forgotten [`FORGET_AFTER`] after its
//! last failure. A refused attempt does not count as a failure, so waiting
//! is never punished.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures allowed before delays start.
pub const FREE_FAILURES: u32 = 5;
/// The first delay; it doubles with each further failure.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// Longest wait imposed on an account.
pub const ACCOUNT_CAP: Duration = Duration::from_secs(60);
/// Longest wait imposed on a client address.
pub const ADDRESS_CAP: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    not_before: Instant,
}

/// Attempt bookkeeping for one kind of login (adminAuth, or one Basic-auth
/// realm). Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Throttle {
    accounts: Mutex<HashMap<String, Entry>>,
    addresses: Mutex<HashMap<IpAddr, Entry>>,
}

impl Throttle {
    /// A throttle with no history.
    pub fn new() -> Throttle {
        Throttle::default()
    }

    /// `Err(wait)` when `account` or `ip` must wait before trying again.
    pub fn check(&self, account: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        if let Some(e) = live(&mut self.accounts.lock(), account, now) {
            wait = wait.max(e.not_before.saturating_duration_since(now));
        }
        if let Some(ip) = ip
            && let Some(e) = live(&mut self.addresses.lock(), &ip, now)
        {
            wait = wait.max(e.not_before.saturating_duration_since(now));
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Records a failed attempt.
    pub fn failure(&self, account: &str, ip: Option<IpAddr>, now: Instant) {
        bump(
            &mut self.accounts.lock(),
            account.to_string(),
            now,
            ACCOUNT_CAP,
        );
        if let Some(ip) = ip {
            bump(&mut self.addresses.lock(), ip, now, ADDRESS_CAP);
        }
        self.prune(now);
    }

    /// `Err(wait)` when the address `ip` must wait (guessing API tokens).
    pub fn check_address(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let Some(ip) = ip else { return Ok(()) };
        match live(&mut self.addresses.lock(), &ip, now) {
            Some(e) if e.not_before > now => Err(e.not_before - now),
            _ => Ok(()),
        }
    }

    /// Records a failure against the address only.
    pub fn address_failure(&self, ip: Option<IpAddr>, now: Instant) {
        if let Some(ip) = ip {
            bump(&mut self.addresses.lock(), ip, now, ADDRESS_CAP);
        }
        self.prune(now);
    }

    /// Records a success: the account and the address start afresh.
    pub fn success(&self, account: &str, ip: Option<IpAddr>) {
        self.accounts.lock().remove(account);
        if let Some(ip) = ip {
            self.addresses.lock().remove(&ip);
        }
    }

    /// Drops forgotten keys, so the maps stay bounded by recent activity.
    fn prune(&self, now: Instant) {
        let keep = |e: &Entry| now.saturating_duration_since(e.last_failure) < FORGET_AFTER;
        self.accounts.lock().retain(|_, e| keep(e));
        self.addresses.lock().retain(|_, e| keep(e));
    }
}

fn live<K: std::hash::Hash + Eq + ?Sized, Q>(
    map: &mut HashMap<Q, Entry>,
    key: &K,
    now: Instant,
) -> Option<Entry>
where
    Q: std::borrow::Borrow<K> + std::hash::Hash + Eq,
{
    let e = *map.get(key)?;
    if now.saturating_duration_since(e.last_failure) >= FORGET_AFTER {
        map.remove(key);
        return None;
    }
    Some(e)
}

fn bump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Entry>, key: K, now: Instant, cap: Duration) {
    let e = map.entry(key).or_insert(Entry {
        failures: 0,
        last_failure: now,
        not_before: now,
    });
    if now.saturating_duration_since(e.last_failure) >= FORGET_AFTER {
        e.failures = 0;
    }
    e.failures = e.failures.saturating_add(1);
    e.last_failure = now;
    e.not_before = now + delay_after(e.failures, cap);
}

/// The wait after `failures` failures: none for the first
/// [`FREE_FAILURES`], then 1 s, 2 s, 4 s, ... up to `cap`.
pub fn delay_after(failures: u32, cap: Duration) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(20);
    BASE_DELAY.saturating_mul(1u32 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay_after(4, ACCOUNT_CAP), Duration::ZERO);
        assert_eq!(delay_after(5, ACCOUNT_CAP), Duration::from_secs(1));
        assert_eq!(delay_after(6, ACCOUNT_CAP), Duration::from_secs(2));
        assert_eq!(delay_after(8, ACCOUNT_CAP), Duration::from_secs(8));
        assert_eq!(delay_after(40, ACCOUNT_CAP), ACCOUNT_CAP);
        assert_eq!(delay_after(40, ADDRESS_CAP), ADDRESS_CAP);
    }

    #[test]
    fn an_attacker_is_slowed_per_address_and_account() {
        let t = Throttle::new();
        let now = Instant::now();
        let evil = ip("10.0.0.66");
        for _ in 0..4 {
            assert!(t.check("admin", evil, now).is_ok());
            t.failure("admin", evil, now);
        }
        assert!(
            t.check("admin", evil, now).is_ok(),
            "four failures are free"
        );
        t.failure("admin", evil, now);
        let wait = t
            .check("admin", evil, now)
            .expect_err("fifth failure delays");
        assert_eq!(wait, Duration::from_secs(1));
        // Spraying other accounts from the same address is slowed too.
        assert!(t.check("other", evil, now).is_err());
        // After the wait the next attempt is allowed again.
        assert!(t.check("admin", evil, now + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn the_owner_is_never_locked_out_for_good() {
        let t = Throttle::new();
        let mut now = Instant::now();
        let evil = ip("10.0.0.66");
        let owner = ip("192.168.1.5");
        for _ in 0..200 {
            if let Err(w) = t.check("admin", evil, now) {
                now += w;
            }
            t.failure("admin", evil, now);
        }
        // However long the attack ran, the owner waits at most ACCOUNT_CAP.
        let wait = t.check("admin", owner, now).err().unwrap_or_default();
        assert!(wait <= ACCOUNT_CAP, "{wait:?}");
        now += wait;
        assert!(t.check("admin", owner, now).is_ok());
        t.success("admin", owner);
        assert!(t.check("admin", owner, now).is_ok());
        // The attacker's address stays slowed much longer.
        assert!(t.check("someone", evil, now).is_err());
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t = Throttle::new();
        let now = Instant::now();
        for _ in 0..10 {
            t.failure("admin", None, now);
        }
        assert!(t.check("admin", None, now).is_err());
        assert!(t.check("admin", None, now + FORGET_AFTER).is_ok());
    }
}
