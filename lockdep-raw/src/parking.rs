//! Setting up `parking_lot_core` ahead of time.

/// Creates `parking_lot_core`'s global parking table now, if no park or unpark has created it
/// yet.
///
/// The first park or unpark of a process allocates that table. A checker that counts
/// allocations (lockdep's `TrackingAllocator`) calls this once, as its own work, so that the
/// table's allocation never happens later inside a user's unlock, where it would be charged to
/// the locks the user holds. Calling it again does nothing.
///
/// # Examples
///
/// ```
/// lockdep_raw::init_parking();
/// lockdep_raw::init_parking(); // idempotent
/// ```
pub fn init_parking() {
    #[cfg(not(loom))]
    {
        /// A key no lock uses: its address is ours, and nothing ever parks on it.
        static KEY: u8 = 0;
        // SAFETY: the key is the address of a private static nothing parks on, so the unpark
        // wakes no one; the callback runs under the bucket lock and does nothing.
        unsafe {
            crate::sync::unpark_one(&KEY as *const u8 as usize, |_| {
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            });
        }
    }
}
