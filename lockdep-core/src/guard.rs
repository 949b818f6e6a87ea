//! What every guard type shares: deref to the data, leave the held stack on drop, format as
//! the data.

/// Implements `Deref` (and `DerefMut` with `mut`), `Drop`, `Debug` and `Display` for a guard
/// struct with fields `inner` (the parking_lot guard) and `held` (its `HeldToken`), whose lock
/// instance is given by `$instance(&inner)`.
macro_rules! guard_impls {
    ($guard:ident, $instance:path $(, $mutable:ident)?) => {
        impl<T: ?Sized> $guard<'_, T> {
            #[inline]
            pub(crate) fn instance(&self) -> usize {
                $instance(&self.inner) as *const _ as *const () as usize
            }
        }

        impl<T: ?Sized> std::ops::Deref for $guard<'_, T> {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                &self.inner
            }
        }

        $(
            guard_impls!(@$mutable $guard);
        )?

        impl<T: ?Sized> Drop for $guard<'_, T> {
            #[inline]
            fn drop(&mut self) {
                let instance = self.instance();
                self.held.release(instance);
            }
        }

        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + std::fmt::Display> std::fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&**self, f)
            }
        }
    };
    (@mutable $guard:ident) => {
        impl<T: ?Sized> std::ops::DerefMut for $guard<'_, T> {
            #[inline]
            fn deref_mut(&mut self) -> &mut T {
                &mut self.inner
            }
        }
    };
}

pub(crate) use guard_impls;
