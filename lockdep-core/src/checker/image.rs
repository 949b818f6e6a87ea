//! The program's executable file and where its code is loaded: to write a stack trace as the
//! addresses a symbolizer of the file looks up, so that `cargo lockdep` resolves them after
//! the run (`LOCKDEP_REPORT_SYMBOLS=merge`) instead of each process at its exit.

/// The executable of this process, as a file and as loaded.
pub(crate) struct Image {
    /// The file's absolute path.
    pub(crate) path: String,
    /// The file's size and modification time (seconds since the UNIX epoch): a symbolizer
    /// checks them, so that a rebuilt file is never read for a trace of the old one.
    pub(crate) size: u64,
    pub(crate) modified: u64,
    /// Loaded address minus file address (zero for an executable that is not
    /// position-independent).
    bias: usize,
    /// The loaded executable segments, `start..end`.
    text: Vec<(usize, usize)>,
}

impl Image {
    /// This process's executable, or `None` where the loader cannot be asked (only x86_64
    /// Linux is supported) or the file cannot be found.
    pub(crate) fn of_process() -> Option<Image> {
        let path = std::env::current_exe().ok()?;
        let meta = std::fs::metadata(&path).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        let (bias, text) = loaded::main_program()?;
        Some(Image {
            path: path.display().to_string(),
            size: meta.len(),
            modified,
            bias,
            text,
        })
    }

    /// The file address of `addr`, if the executable's code holds it (a frame of a shared
    /// library or the vDSO has none).
    pub(crate) fn file_address(&self, addr: usize) -> Option<u64> {
        self.text
            .iter()
            .any(|&(start, end)| (start..end).contains(&addr))
            .then(|| (addr - self.bias) as u64)
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod loaded {
    use std::ffi::{c_int, c_void};

    /// The main program's load bias and executable segments: the loader lists it first.
    pub(super) fn main_program() -> Option<(usize, Vec<(usize, usize)>)> {
        unsafe extern "C" fn first(
            info: *mut libc::dl_phdr_info,
            _size: usize,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: the loader passes a valid `info`, and `data` is the option below.
            let (info, out) = unsafe {
                (
                    &*info,
                    &mut *data.cast::<Option<(usize, Vec<(usize, usize)>)>>(),
                )
            };
            let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
                &[]
            } else {
                // SAFETY: the loader's `dlpi_phdr` points at `dlpi_phnum` program headers.
                unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) }
            };
            let bias = info.dlpi_addr as usize;
            let text = phdrs
                .iter()
                .filter(|p| p.p_type == libc::PT_LOAD && p.p_flags & libc::PF_X != 0)
                .map(|p| {
                    let start = bias + p.p_vaddr as usize;
                    (start, start + p.p_memsz as usize)
                })
                .collect();
            *out = Some((bias, text));
            1
        }
        let mut out: Option<(usize, Vec<(usize, usize)>)> = None;
        // SAFETY: `first` matches the callback's signature and writes only through `data`,
        // which points at `out` for the duration of the call.
        unsafe { libc::dl_iterate_phdr(Some(first), (&mut out as *mut Option<_>).cast()) };
        out.filter(|(_, text)| !text.is_empty())
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod loaded {
    pub(super) fn main_program() -> Option<(usize, Vec<(usize, usize)>)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    fn this_functions_address_is_in_the_executable_and_a_heap_address_is_not() {
        let image = Image::of_process().expect("the test binary is an image");
        let here =
            this_functions_address_is_in_the_executable_and_a_heap_address_is_not as fn() as usize;
        let file_address = image.file_address(here).expect("code of the executable");
        assert!(file_address < image.size.max(1 << 32));
        let heap = Box::new(0u8);
        assert_eq!(image.file_address(&*heap as *const u8 as usize), None);
        assert!(image.path.ends_with(
            &std::env::current_exe()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        ));
    }
}
