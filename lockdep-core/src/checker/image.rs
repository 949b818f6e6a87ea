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
        let (bias, text) = main_program()?;
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

/// The main program's load bias and executable segments: the loader lists it first.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn main_program() -> Option<(usize, Vec<(usize, usize)>)> {
    let mut program = None;
    super::loaded::each(|object| {
        program = Some((object.bias, object.text()));
        false
    });
    program.filter(|(_, text)| !text.is_empty())
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn main_program() -> Option<(usize, Vec<(usize, usize)>)> {
    None
}

#[cfg(test)]
mod tests {
    use crate::checker::image::*;

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
