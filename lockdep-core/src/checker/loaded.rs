//! The objects the loader has mapped (the program and its shared libraries), as
//! `dl_iterate_phdr` lists them: their program headers, where they are loaded, their code.
//! Read by the stack walker ([`unwind`](super::unwind)), which finds each object's CFI, and by
//! the executable's [`Image`](super::image::Image). x86_64 Linux only.

use std::ffi::{c_int, c_void};

/// One loaded object, as the loader describes it during [`each`].
pub(crate) struct LoadedObject<'a> {
    info: &'a libc::dl_phdr_info,
    /// Bytes of `info` the loader filled: an older loader has fewer fields.
    size: usize,
    /// The program headers.
    pub(crate) phdrs: &'a [libc::Elf64_Phdr],
    /// Loaded address minus file address (zero for an executable that is not
    /// position-independent).
    pub(crate) bias: usize,
}

impl LoadedObject<'_> {
    /// `[start, end)` of segment `p`, as loaded.
    pub(crate) fn segment(&self, p: &libc::Elf64_Phdr) -> (usize, usize) {
        let start = self.bias + p.p_vaddr as usize;
        (start, start + p.p_memsz as usize)
    }

    /// The loadable segments' headers.
    pub(crate) fn loads(&self) -> impl Iterator<Item = &libc::Elf64_Phdr> {
        self.phdrs.iter().filter(|p| p.p_type == libc::PT_LOAD)
    }

    /// `[start, end)` of each executable segment, as loaded.
    pub(crate) fn text(&self) -> Vec<(usize, usize)> {
        self.loads()
            .filter(|p| p.p_flags & libc::PF_X != 0)
            .map(|p| self.segment(p))
            .collect()
    }

    /// The loader's count of unloaded objects (`dlpi_subs`; 0 from a loader that has none).
    pub(crate) fn unloads(&self) -> u64 {
        let complete =
            std::mem::offset_of!(libc::dl_phdr_info, dlpi_subs) + std::mem::size_of::<u64>();
        if self.size >= complete {
            self.info.dlpi_subs
        } else {
            0
        }
    }
}

/// Calls `f` with each loaded object, the main program first, while it returns true.
pub(crate) fn each(mut f: impl FnMut(&LoadedObject<'_>) -> bool) {
    type Visit<'f> = &'f mut dyn FnMut(&LoadedObject<'_>) -> bool;
    unsafe extern "C" fn call(
        info: *mut libc::dl_phdr_info,
        size: usize,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: the loader passes a valid `info` of `size` bytes for the duration of the
        // call, and `data` is the `Visit` below.
        let (info, visit) = unsafe { (&*info, &mut *data.cast::<Visit<'_>>()) };
        let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
            &[]
        } else {
            // SAFETY: the loader's `dlpi_phdr` points at `dlpi_phnum` program headers.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) }
        };
        let object = LoadedObject {
            info,
            size,
            phdrs,
            bias: info.dlpi_addr as usize,
        };
        // Non-zero stops the iteration.
        c_int::from(!visit(&object))
    }
    let mut visit: Visit<'_> = &mut f;
    // SAFETY: `call` matches the callback's signature and uses `data` only as `visit`, which
    // outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(call), (&mut visit as *mut Visit<'_>).cast()) };
}
