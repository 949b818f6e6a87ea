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
pub(crate) use state::{epoch, faulted, hot, stat_on, turn_off_after_fault};

/// The state word as a lock operation loads it, once: [`plain`](Hot::plain) checking (the
/// fast path), [`off`](Hot::off), or anything else, out of line: checking with lock_stat
/// (`LOCKDEP_STAT=1`), the mode not read yet, off after a fault (ask [`is_checking`] and
/// [`stat_on`] there); and the checking [`epoch`](Hot::epoch) with it. Tested with `if`s in
/// that order, not matched: so it compiles to the compare-and-branch of [`is_checking`],
/// nothing more.
#[cfg(feature = "enabled")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hot(u32);

#[cfg(feature = "enabled")]
impl Hot {
    /// Checking, without lock_stat.
    #[inline(always)]
    pub(crate) fn plain(self) -> bool {
        (self.0 as u8).wrapping_sub(state::COLLECT) < 3
    }

    /// Mode off: the raw operation alone.
    #[inline(always)]
    pub(crate) fn off(self) -> bool {
        self.0 as u8 == state::OFF
    }

    /// The checking epoch (see `mode::epoch`) of this state.
    #[inline(always)]
    pub(crate) fn epoch(self) -> u32 {
        self.0 >> state::EPOCH_SHIFT
    }
}

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
    use crate::mode::{Hot, Mode};
    use std::sync::atomic::{
        AtomicBool, AtomicU32,
        Ordering::{Acquire, Relaxed, Release},
    };

    // One word holds the whole state so that the fast path is one relaxed load. Its low
    // byte: 1..=3 checking (Collect, Warn, Panic), 5..=7 checking with lock_stat (`STAT`
    // added), 0 off, FAULTED bit set after a bookkeeping fault (the kernel's
    // `debug_locks_off()`), UNINIT before the environment was read. Above it, the checking
    // epoch (`EPOCH_SHIFT`). An acquisition's one load tells the plain checking states (its
    // fast path) from all others (off, and out of line: lock_stat, uninitialized, faulted),
    // so lock_stat costs the fast path nothing when it is off.
    pub(super) const OFF: u8 = 0;
    pub(super) const COLLECT: u8 = 1;
    const WARN: u8 = 2;
    const PANIC: u8 = 3;
    const STAT: u8 = 4;
    const FAULTED: u8 = 0x40;
    const INITIALIZING: u8 = 0x80;
    const UNINIT: u8 = 0xff;

    /// Where the epoch starts in the word: bumped each time checking is turned back on after
    /// mode `Off`, so that held stacks from an earlier epoch are known stale (releases made
    /// while off were not seen) and forgotten. In the mode's word, so that an acquisition
    /// learns both from one load, and a mode and its epoch change at once. Wraps after 2^24
    /// turns: a stack would be taken for current only after exactly that many. 0 until the
    /// mode is read (`set_mode` reads it first).
    pub(super) const EPOCH_SHIFT: u32 = 8;

    /// Written by `set_mode` and faults only, read on every lock operation: its cache line
    /// stays shared.
    static STATE: AtomicU32 = AtomicU32::new(UNINIT as u32);

    /// The state byte of the word `word`.
    #[inline(always)]
    fn byte(word: u32) -> u8 {
        word as u8
    }
    /// Whether lock_stat is on (`LOCKDEP_STAT=1`), kept across mode changes: `STATE` has it
    /// only while checking.
    static STAT_ON: AtomicBool = AtomicBool::new(false);
    /// The current checking epoch.
    #[inline(always)]
    pub(crate) fn epoch() -> u32 {
        hot().epoch()
    }

    fn encode(mode: Mode) -> u8 {
        let stat = if STAT_ON.load(Relaxed) { STAT } else { 0 };
        match mode {
            Mode::Off => OFF,
            Mode::Collect => COLLECT | stat,
            Mode::Warn => WARN | stat,
            Mode::Panic => PANIC | stat,
        }
    }

    /// True when lock operations are to be validated.
    #[inline(always)]
    pub(super) fn checking() -> bool {
        let s = byte(STATE.load(Relaxed));
        // 1..=3 and 5..=7 (4 is never stored): one compare, as without lock_stat.
        if s.wrapping_sub(COLLECT) < 7 {
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
        // The whole word: before the mode is read the epoch is 0.
        if STATE
            .compare_exchange(UNINIT as u32, INITIALIZING as u32, Relaxed, Relaxed)
            .is_err()
        {
            // Reading the environment allocates, and a TrackingAllocator asks `checking()`
            // again: the reading thread sees "not checking" instead of recursing. Every other
            // thread waits for the mode, a few microseconds: seeing "off" meanwhile, a test
            // starting beside another would go unchecked until its first lock after.
            if INITIALIZING_HERE.with(|here| here.get()) {
                return false;
            }
            while byte(STATE.load(Acquire)) == INITIALIZING {
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
        STAT_ON.store(crate::env::stat_requested(), Relaxed);
        INITIALIZING_HERE.with(|here| here.set(false));
        let _ = STATE.compare_exchange(
            INITIALIZING as u32,
            u32::from(encode(mode)),
            Release,
            Relaxed,
        );
        checking_now()
    }

    fn checking_now() -> bool {
        byte(STATE.load(Relaxed)).wrapping_sub(COLLECT) < 7
    }

    /// What an acquisition or a release does, from one relaxed load (see [`Hot`]).
    #[inline(always)]
    pub(crate) fn hot() -> Hot {
        Hot(crate::thin::load_u32(&STATE, Relaxed))
    }

    /// True when lock_stat is on and the checker is checking (for paths that wait anyway,
    /// and for the out-of-line path of a [`Hot`] neither plain nor off).
    #[inline]
    pub(crate) fn stat_on() -> bool {
        // Checking: 1..=7, no other bit.
        checking() && byte(STATE.load(Relaxed)) & STAT != 0
    }

    /// The current mode (what was set, also after a fault).
    pub(super) fn mode() -> Mode {
        checking();
        match byte(STATE.load(Relaxed)) & !(FAULTED | STAT) {
            COLLECT => Mode::Collect,
            WARN => Mode::Warn,
            PANIC => Mode::Panic,
            _ => Mode::Off,
        }
    }

    /// Sets the mode, keeping the fault bit; turning checking back on from `Off` starts a new
    /// epoch.
    pub(super) fn set_mode(mode: Mode) {
        checking();
        let _ = STATE.fetch_update(Relaxed, Relaxed, |word| {
            let s = byte(word);
            let mut epoch = word >> EPOCH_SHIFT;
            if s & !FAULTED == OFF && mode != Mode::Off {
                epoch = epoch.wrapping_add(1);
            }
            Some(epoch << EPOCH_SHIFT | u32::from((s & FAULTED) | encode(mode)))
        });
    }

    /// True once a bookkeeping fault has turned the checker off for good.
    pub(crate) fn faulted() -> bool {
        let s = byte(STATE.load(Relaxed));
        s & FAULTED != 0 && s != UNINIT
    }

    /// The kernel's `debug_locks_off()`: stop checking for the rest of the process.
    pub(crate) fn turn_off_after_fault() {
        STATE.fetch_or(u32::from(FAULTED), Relaxed);
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
