//! Reads and writes of cells and atomics for the lock path that are a plain load or store in
//! an unoptimised build too.
//!
//! In cargo's default test profile nothing is optimised, the lock paths included (a library
//! cannot set its own profile), and there `Cell::get`, `Cell::set` and `AtomicU32::load` are
//! calls of their own, a load of the atomic through two (the ordering matched at run time):
//! about 25 instructions each, several per acquisition. These are always inlined, which an
//! unoptimised build honours, and do the same thing as those methods. In an optimised build
//! they are those methods.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

/// `cell.get()`.
#[inline(always)]
pub(crate) fn get<T: Copy>(cell: &Cell<T>) -> T {
    // SAFETY: a `Cell<T>` has the memory layout of its `T`, so the reference is valid and
    // aligned for a `T`; it lives for the read only, and nothing writes the value meanwhile
    // (a `Cell` is not `Sync` and hands out no reference to its value): `Cell::get`'s own
    // read. A reference, not a raw pointer: a debug build checks the alignment of every raw
    // pointer it reads through.
    unsafe { *std::mem::transmute::<&Cell<T>, &T>(cell) }
}

/// `cell.set(value)`, for a `Copy` value (nothing dropped). In an unoptimised build on
/// x86-64 a word-sized value is copied by one `mov` pair: a write through a raw pointer there
/// checks the pointer's alignment and that it is not null first (about 10 instructions).
#[inline(always)]
pub(crate) fn set<T: Copy>(cell: &Cell<T>, value: T) {
    #[cfg(all(target_arch = "x86_64", debug_assertions, not(miri)))]
    if const { std::mem::size_of::<T>() == 8 } {
        // SAFETY: copies the 8 bytes of `value`, a `T` in this frame, into the cell: a
        // `Cell<T>` has the memory layout of the `UnsafeCell<T>` it wraps, so its address is
        // that of a `T`, valid and aligned for a write, which a shared reference to an
        // `UnsafeCell` permits; nothing else reads or writes the value meanwhile (`Cell` is
        // not `Sync`, hands out no reference to its value). A copy of the bytes, as
        // `Cell::set` makes (`T: Copy`: the old value needs no drop). The block is a
        // compiler barrier; it touches no stack but the operand it is given.
        unsafe {
            std::arch::asm!(
                "mov {word}, qword ptr [{src}]",
                "mov qword ptr [{dst}], {word}",
                src = in(reg) &value as *const T,
                dst = in(reg) cell as *const Cell<T>,
                word = out(reg) _,
                options(nostack, preserves_flags),
            );
        }
        return;
    }
    // SAFETY: a `Cell<T>` has the memory layout of the `UnsafeCell<T>` it wraps, whose `get`
    // is the pointer a write through a shared reference may use; nothing else reads or writes
    // the value meanwhile (`Cell` is not `Sync`, hands out no reference to its value):
    // `Cell::set`'s own write. `T: Copy`, so the old value needs no drop. The `UnsafeCell`
    // reached by a reference, not a raw pointer: a debug build checks every raw pointer it
    // goes through, and so only the write's is.
    unsafe { *std::mem::transmute::<&Cell<T>, &UnsafeCell<T>>(cell).get() = value }
}

/// `atomic.load(order)` for each atomic type named, as `fn $name(&$atomic, Ordering) -> $int`:
/// in an unoptimised build on x86-64 (which debug assertions stand for, as elsewhere in this
/// crate) a plain `mov` of the atomic's width (`$load`, its value in register class `$class`),
/// which is that load for any `order` a load takes.
macro_rules! loads {
    ($($name:ident: $atomic:ty => $int:ty, $load:literal, $class:ident;)*) => {$(
        #[doc = concat!("`", stringify!($atomic), "::load`, a plain `mov` in an unoptimised build on x86-64.")]
        #[inline(always)]
        pub(crate) fn $name(atomic: &$atomic, order: Ordering) -> $int {
            #[cfg(all(target_arch = "x86_64", debug_assertions, not(miri)))]
            {
                let _ = order;
                let value: $int;
                // SAFETY: reads the aligned bytes of a live atomic of this width with one
                // `mov`, which on x86-64 is an atomic load with acquire ordering (loads are not
                // reordered with later loads or stores); the block is a compiler barrier
                // (neither `nomem` nor `readonly`), so nothing after it in program order is
                // moved before it. It touches no stack.
                unsafe {
                    std::arch::asm!(
                        $load,
                        atomic = in(reg) atomic as *const $atomic,
                        value = lateout($class) value,
                        options(nostack, preserves_flags),
                    );
                }
                value
            }
            #[cfg(not(all(target_arch = "x86_64", debug_assertions, not(miri))))]
            atomic.load(order)
        }
    )*};
}

loads! {
    load_u8: AtomicU8 => u8, "mov {value}, byte ptr [{atomic}]", reg_byte;
    load_u32: AtomicU32 => u32, "mov {value:e}, dword ptr [{atomic}]", reg;
    load_u64: AtomicU64 => u64, "mov {value}, qword ptr [{atomic}]", reg;
}
