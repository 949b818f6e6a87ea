//! What the checker does when it finds a problem: `LOCKDEP_MODE` and [`set_mode`].

/// What the checker does with a violation.
///
/// The default is [`Mode::Warn`], or what the environment variable `LOCKDEP_MODE` says
/// (`panic`, `warn`, `collect`, `off`), read once at first use.
///
/// ```
/// use lockdep_core::{set_mode, Mode};
/// set_mode(Mode::Collect);
/// # #[cfg(feature = "enabled")]
/// assert_eq!(lockdep_core::mode(), Mode::Collect);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Panic in the thread whose acquisition closes the cycle (for CI).
    Panic,
    /// Print each violation once on stderr and record it (the default).
    Warn,
    /// Record silently; read them with [`violations`](crate::violations).
    Collect,
    /// Check nothing: one relaxed atomic load per lock operation.
    Off,
}

impl Mode {
    /// Parses `panic`, `warn`, `collect` or `off` (any case).
    ///
    /// ```
    /// use lockdep_core::Mode;
    /// assert_eq!(Mode::parse("PANIC"), Some(Mode::Panic));
    /// assert_eq!(Mode::parse("loud"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "panic" => Some(Mode::Panic),
            "warn" => Some(Mode::Warn),
            "collect" => Some(Mode::Collect),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

#[cfg(feature = "enabled")]
pub(crate) use state::{checking, faulted, turn_off_after_fault};
#[cfg(feature = "enabled")]
pub use state::{mode, set_mode};

#[cfg(feature = "enabled")]
mod state {
    use super::Mode;
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

    // One byte holds the whole state so that the fast path is one relaxed load:
    // 1..=3 checking (Collect, Warn, Panic), 0 off, FAULTED bit set after a bookkeeping fault
    // (the kernel's `debug_locks_off()`), UNINIT before the environment was read.
    const OFF: u8 = 0;
    const COLLECT: u8 = 1;
    const WARN: u8 = 2;
    const PANIC: u8 = 3;
    const FAULTED: u8 = 0x40;
    const INITIALIZING: u8 = 0x80;
    const UNINIT: u8 = 0xff;

    static STATE: AtomicU8 = AtomicU8::new(UNINIT);

    fn encode(mode: Mode) -> u8 {
        match mode {
            Mode::Off => OFF,
            Mode::Collect => COLLECT,
            Mode::Warn => WARN,
            Mode::Panic => PANIC,
        }
    }

    /// True when lock operations are to be validated.
    #[inline(always)]
    pub(crate) fn checking() -> bool {
        let s = STATE.load(Relaxed);
        if s.wrapping_sub(COLLECT) < 3 {
            return true;
        }
        s == UNINIT && init_from_env()
    }

    #[cold]
    fn init_from_env() -> bool {
        // Reading the environment allocates, and a TrackingAllocator asks `checking()` again:
        // while INITIALIZING every such call sees "not checking" instead of recursing.
        if STATE
            .compare_exchange(UNINIT, INITIALIZING, Relaxed, Relaxed)
            .is_err()
        {
            return checking_now();
        }
        let mode = match std::env::var("LOCKDEP_MODE") {
            Ok(v) => Mode::parse(&v).unwrap_or_else(|| {
                eprintln!("lockdep: unknown LOCKDEP_MODE={v:?} (expected panic, warn, collect or off); using warn");
                Mode::Warn
            }),
            Err(std::env::VarError::NotUnicode(_)) => {
                eprintln!("lockdep: LOCKDEP_MODE is not valid UTF-8; using warn");
                Mode::Warn
            }
            Err(std::env::VarError::NotPresent) => Mode::Warn,
        };
        let _ = STATE.compare_exchange(INITIALIZING, encode(mode), Relaxed, Relaxed);
        crate::checker::on_mode_initialized();
        checking_now()
    }

    fn checking_now() -> bool {
        STATE.load(Relaxed).wrapping_sub(COLLECT) < 3
    }

    /// The current mode. After a bookkeeping fault the checker is off whatever the mode says.
    pub fn mode() -> Mode {
        checking();
        match STATE.load(Relaxed) & !FAULTED {
            COLLECT => Mode::Collect,
            WARN => Mode::Warn,
            PANIC => Mode::Panic,
            _ => Mode::Off,
        }
    }

    /// Sets the mode for the whole process, overriding `LOCKDEP_MODE`.
    ///
    /// Locks taken while the mode is [`Mode::Off`] are not tracked, so dependencies through
    /// them are not seen after the mode is turned back on.
    pub fn set_mode(mode: Mode) {
        checking();
        let _ = STATE.fetch_update(Relaxed, Relaxed, |s| Some((s & FAULTED) | encode(mode)));
    }

    /// True once a bookkeeping fault has turned the checker off for good.
    pub(crate) fn faulted() -> bool {
        STATE.load(Relaxed) & FAULTED != 0 && STATE.load(Relaxed) != UNINIT
    }

    /// The kernel's `debug_locks_off()`: stop checking for the rest of the process.
    pub(crate) fn turn_off_after_fault() {
        STATE.fetch_or(FAULTED, Relaxed);
    }
}

#[cfg(not(feature = "enabled"))]
/// The current mode: always [`Mode::Off`] when built without the `enabled` feature.
pub fn mode() -> Mode {
    Mode::Off
}

#[cfg(not(feature = "enabled"))]
/// Does nothing when built without the `enabled` feature.
pub fn set_mode(_mode: Mode) {}
