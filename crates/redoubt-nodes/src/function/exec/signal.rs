//! Signal names as Node.js spells them (`SIGTERM`), to and from numbers,
//! and sending one to a child process.

/// Linux signal numbers by Node's names.
const SIGNALS: [(&str, i32); 30] = [
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGCHLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
];

/// The name of signal `n` (`"SIGTERM"`), or `None` for an unknown number.
pub(super) fn name(n: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|(_, v)| *v == n).map(|(s, _)| *s)
}

/// Sends signal `sig` (a Node name) to process `pid`.
pub(super) fn send(pid: u32, sig: &str) -> Result<(), String> {
    let n = SIGNALS
        .iter()
        .find(|(s, _)| *s == sig)
        .map(|(_, n)| *n)
        .ok_or_else(|| format!("Unknown signal: {sig}"))?;
    let signal = rustix::process::Signal::from_named_raw(n)
        .ok_or_else(|| format!("Unknown signal: {sig}"))?;
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| format!("invalid pid {pid}"))?;
    rustix::process::kill_process(pid, signal).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_round_trip() {
        assert_eq!(super::name(15), Some("SIGTERM"));
        assert_eq!(super::name(2), Some("SIGINT"));
        assert_eq!(super::name(99), None);
        assert!(
            super::send(1, "SIGNOPE")
                .expect_err("should fail")
                .contains("Unknown signal")
        );
    }
}
