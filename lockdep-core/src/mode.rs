//! What the checker does when it finds a problem: `LOCKDEP_MODE` and [`set_mode`].

/// What the checker does with a violation.
///
/// The default is [`Mode::Warn`], or what the environment variable `LOCKDEP_MODE` says
/// (`panic`, `warn`, `collect`, `off`), read once at first use. Another value is warned
/// about, on the process's stderr (past a test harness's capture), and is `warn`; so are
/// other `LOCKDEP_*` variables that lockdep does not read.
///
/// # Examples
///
/// ```
/// use lockdep::{set_mode, Mode};
/// set_mode(Mode::Collect);
/// # #[cfg(feature = "enabled")]
/// assert_eq!(lockdep::mode(), Mode::Collect);
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
    /// # Examples
    ///
    /// ```
    /// use lockdep::Mode;
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
pub(crate) use state::{epoch, faulted, turn_off_after_fault};

/// The current mode. After a bookkeeping fault the checker is off whatever the mode says
/// (see [`is_checking`]); built without the `enabled` feature it is always [`Mode::Off`].
///
/// # Examples
///
/// ```
/// use lockdep::{mode, set_mode, Mode};
/// set_mode(Mode::Collect);
/// # #[cfg(feature = "enabled")]
/// assert_eq!(mode(), Mode::Collect);
/// ```
pub fn mode() -> Mode {
    #[cfg(feature = "enabled")]
    return state::mode();
    #[cfg(not(feature = "enabled"))]
    {
        crate::env::check_once();
        Mode::Off
    }
}

/// Sets the mode for the whole process, overriding `LOCKDEP_MODE`. Does nothing when built
/// without the `enabled` feature.
///
/// Locks taken while the mode is [`Mode::Off`] are not tracked, so dependencies through
/// them are not seen after the mode is turned back on.
///
/// # Examples
///
/// ```
/// lockdep::set_mode(lockdep::Mode::Warn);
/// ```
pub fn set_mode(mode: Mode) {
    #[cfg(feature = "enabled")]
    state::set_mode(mode);
    #[cfg(not(feature = "enabled"))]
    {
        crate::env::check_once();
        let _ = mode;
    }
}

/// True when lock operations are being validated: false in mode [`Mode::Off`], once a
/// bookkeeping fault (a full table, too many locks held at once) turned the checker off for
/// the rest of the process, and always without the `enabled` feature.
///
/// A test suite that relies on the checker can assert it, so that a fault does not pass as
/// a clean run.
///
/// # Examples
///
/// ```
/// lockdep::set_mode(lockdep::Mode::Warn);
/// # #[cfg(feature = "enabled")]
/// assert!(lockdep::is_checking());
/// lockdep::set_mode(lockdep::Mode::Off);
/// assert!(!lockdep::is_checking());
/// # lockdep::set_mode(lockdep::Mode::Warn);
/// ```
#[inline(always)]
pub fn is_checking() -> bool {
    #[cfg(feature = "enabled")]
    return state::checking();
    #[cfg(not(feature = "enabled"))]
    false
}

#[cfg(feature = "enabled")]
mod state {
    use super::Mode;
    use std::sync::atomic::{
        AtomicU32, AtomicU8,
        Ordering::{Acquire, Relaxed, Release},
    };

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
    /// Bumped each time checking is turned back on after mode `Off`: held stacks from an
    /// earlier epoch are stale (releases made while off were not seen) and are forgotten.
    /// Written only by `set_mode`, read on every acquisition: its cache line stays shared.
    static EPOCH: AtomicU32 = AtomicU32::new(0);

    /// The current checking epoch.
    #[inline(always)]
    pub(crate) fn epoch() -> u32 {
        EPOCH.load(Relaxed)
    }

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
    pub(super) fn checking() -> bool {
        let s = STATE.load(Relaxed);
        if s.wrapping_sub(COLLECT) < 3 {
            return true;
        }
        // UNINIT, or INITIALIZING by another thread (whose mode this one waits for).
        s >= INITIALIZING && init_from_env()
    }

    std::thread_local! {
        /// Whether this thread is reading the environment for the mode. Needs no destructor,
        /// so it is there in any thread-local destructor too.
        static INITIALIZING_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[cold]
    fn init_from_env() -> bool {
        if STATE
            .compare_exchange(UNINIT, INITIALIZING, Relaxed, Relaxed)
            .is_err()
        {
            // Reading the environment allocates, and a TrackingAllocator asks `checking()`
            // again: the reading thread sees "not checking" instead of recursing. Every other
            // thread waits for the mode, a few microseconds: seeing "off" meanwhile, a test
            // starting beside another would go unchecked until its first lock after.
            if INITIALIZING_HERE.with(|here| here.get()) {
                return false;
            }
            while STATE.load(Acquire) == INITIALIZING {
                std::thread::yield_now();
            }
            return checking_now();
        }
        INITIALIZING_HERE.with(|here| here.set(true));
        // A value it does not take is warn, and said so with the other variables' problems.
        crate::env::check_once();
        let mode = std::env::var("LOCKDEP_MODE")
            .ok()
            .and_then(|v| Mode::parse(&v))
            .unwrap_or(Mode::Warn);
        INITIALIZING_HERE.with(|here| here.set(false));
        let _ = STATE.compare_exchange(INITIALIZING, encode(mode), Release, Relaxed);
        checking_now()
    }

    fn checking_now() -> bool {
        STATE.load(Relaxed).wrapping_sub(COLLECT) < 3
    }

    /// The current mode (what was set, also after a fault).
    pub(super) fn mode() -> Mode {
        checking();
        match STATE.load(Relaxed) & !FAULTED {
            COLLECT => Mode::Collect,
            WARN => Mode::Warn,
            PANIC => Mode::Panic,
            _ => Mode::Off,
        }
    }

    /// Sets the mode, keeping the fault bit.
    pub(super) fn set_mode(mode: Mode) {
        checking();
        let before = STATE.fetch_update(Relaxed, Relaxed, |s| Some((s & FAULTED) | encode(mode)));
        if before.is_ok_and(|s| s & !FAULTED == OFF) && mode != Mode::Off {
            EPOCH.fetch_add(1, Relaxed);
        }
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

#[cfg(test)]
mod tests {
    use crate::Mode;

    #[test]
    fn the_environment_check_takes_the_modes_parse_takes() {
        for value in ["panic", "WARN", " collect ", "Off", "loud", "", "warn2"] {
            assert_eq!(
                Mode::parse(value).is_some(),
                crate::env::takes("LOCKDEP_MODE", value),
                "{value:?}"
            );
        }
    }
}
