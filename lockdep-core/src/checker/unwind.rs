//! A stack walker that remembers how to unwind each return address, for the stack trace saved
//! with every new dependency.
//!
//! The system unwinder (`backtrace::trace`, over libgcc's `_Unwind_Backtrace`) finds and
//! interprets a function's call-frame information (CFI) afresh for every frame of every trace:
//! some 400 ns a frame, 6 µs for a trace of 16 frames, which made a graph of 100,000
//! dependencies cost 0.6 s in traces alone. A program takes its locks from few places, so the
//! same return addresses come back in every trace: here each one's rule (where its caller's
//! frame starts, where the return address and the saved `rbp` are) is found once, with
//! `gimli` over the object's `.eh_frame`, and kept, and a trace is then a few loads a frame.
//!
//! Only the rules compilers write for ordinary frames are taken: the frame address (CFA) at an
//! offset from `rsp` or `rbp`, the return address and `rbp` saved at offsets from it. Anything
//! else (a signal frame, a CFA computed by an expression, a register saved in another one) makes
//! [`trace`] give up, and the caller falls back to the system unwinder for that trace; so the
//! traces are the system unwinder's, frame for frame (tested against it below). The walk ends
//! where the system unwinder's does: after a frame whose return address is undefined (`_start`,
//! a thread's first frame), with a null address, or at a frame that has no CFI.
//!
//! x86_64 Linux only; elsewhere [`trace`] always gives up.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) use x86_64_linux::trace;

/// Elsewhere: always the system unwinder.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
pub(crate) fn trace(_ips: &mut Vec<usize>, _max: usize) -> bool {
    false
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64_linux {
    use std::arch::asm;
    use std::collections::HashMap;
    use std::sync::Mutex;

    use gimli::{
        BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, NativeEndian, ParsedEhFrameHdr,
        RegisterRule, UnwindContext, UnwindSection, X86_64,
    };
    use once_cell::sync::Lazy;

    use crate::checker::fast_hash::FastHash;
    use crate::checker::loaded::{self, LoadedObject};
    use crate::checker::types::lock;

    type Slice = EndianSlice<'static, NativeEndian>;

    /// How to step from a frame at one address to its caller's.
    #[derive(Clone, Copy)]
    enum Rule {
        /// An ordinary frame.
        Step(Step),
        /// A frame without CFI: the walk ends with it.
        End,
        /// The outermost frame (its return address is undefined): the walk ends after it,
        /// with a last, null, address, as the system unwinder's does.
        Outermost,
        /// A rule this walker does not take: the system unwinder must do this trace.
        Unsupported,
    }

    /// The frame address (CFA) is `rsp + cfa_offset` (or `rbp + …` with `cfa_from_rbp`); the
    /// return address is at `CFA + ra_offset`; the caller's `rbp` is at `CFA + n` when
    /// `rbp_at == Some(n)`, else it is this frame's.
    #[derive(Clone, Copy)]
    struct Step {
        cfa_from_rbp: bool,
        cfa_offset: i64,
        ra_offset: i64,
        rbp_at: Option<i64>,
    }

    /// One loaded object's executable segments and its CFI.
    struct Object {
        /// `[start, end)` of each executable segment.
        text: Vec<(usize, usize)>,
        bases: BaseAddresses,
        eh_frame: EhFrame<Slice>,
        hdr: ParsedEhFrameHdr<Slice>,
    }

    /// The loaded objects and the rule of every address looked up so far.
    struct Cache {
        /// `dl_iterate_phdr`'s count of unloaded objects when `objects` was read: when it
        /// changes, an address may now belong to another object, and everything is forgotten.
        unloads: u64,
        objects: Vec<Object>,
        rules: HashMap<usize, Rule, FastHash>,
        ctx: Box<UnwindContext<usize>>,
    }

    // SAFETY: the slices in `objects` point into loaded objects, valid on any thread for as
    // long as those objects are loaded (see `unloads`); nothing in the cache is thread-bound.
    unsafe impl Send for Cache {}

    static CACHE: Lazy<Mutex<Cache>> = Lazy::new(|| {
        Mutex::new(Cache {
            unloads: u64::MAX,
            objects: Vec::new(),
            rules: HashMap::default(),
            ctx: Box::new(UnwindContext::new()),
        })
    });

    /// A frame farther than this from its callee's is taken for a misreading, not a frame.
    const MAX_FRAME_SIZE: usize = 1 << 24;

    /// Appends the return addresses of the current stack to `ips` (the first entry is an
    /// address in this function), at most `max` of them. False when a frame's rule is not
    /// one this walker takes: `ips` is then to be discarded.
    #[inline(never)]
    pub(crate) fn trace(ips: &mut Vec<usize>, max: usize) -> bool {
        let (mut ip, mut sp, rbp): (usize, usize, usize);
        // SAFETY: reads three registers; touches neither memory nor the stack.
        unsafe {
            asm!(
                "lea {ip}, [rip]",
                "mov {sp}, rsp",
                "mov {bp}, rbp",
                ip = out(reg) ip,
                sp = out(reg) sp,
                bp = out(reg) rbp,
                options(nomem, nostack, preserves_flags),
            );
        }
        // `None` once a frame's rule leaves the caller's `rbp` unknown.
        let mut rbp = Some(rbp);
        let mut cache = lock(&CACHE);
        cache.sync_with_loader();
        while ips.len() < max {
            ips.push(ip);
            if ip == 0 {
                break;
            }
            // A return address points after its call; the call is what the caller executes.
            let at = if ips.len() == 1 { ip } else { ip - 1 };
            let step = match cache.rule(at) {
                Rule::Step(step) => step,
                Rule::End => break,
                Rule::Outermost => {
                    ip = 0;
                    continue;
                }
                Rule::Unsupported => return false,
            };
            let base = match (step.cfa_from_rbp, rbp) {
                (false, _) => sp,
                (true, Some(rbp)) => rbp,
                (true, None) => return false,
            };
            let cfa = base.wrapping_add_signed(step.cfa_offset as isize);
            // The caller's frame is above this one, and not absurdly far: anything else is a
            // misreading, and nothing is read from it.
            if cfa <= sp || cfa - sp > MAX_FRAME_SIZE || cfa % 8 != 0 {
                return false;
            }
            // SAFETY: the frame's CFI says the return address (and the saved `rbp`) are
            // stored at these offsets from its frame address, which lies in the thread's stack
            // between this frame and the caller's (checked above).
            unsafe {
                ip = read(cfa, step.ra_offset);
                if let Some(at) = step.rbp_at {
                    rbp = Some(read(cfa, at));
                }
            }
            sp = cfa;
        }
        true
    }

    /// The word at `base + offset`.
    ///
    /// # Safety
    ///
    /// That address is valid for reads of a `usize`.
    #[inline]
    unsafe fn read(base: usize, offset: i64) -> usize {
        let at = base.wrapping_add_signed(offset as isize) as *const usize;
        // SAFETY: the caller's contract.
        unsafe { at.read() }
    }

    impl Cache {
        /// Forgets everything when an object was unloaded since the objects were read.
        fn sync_with_loader(&mut self) {
            let unloads = loader_unloads();
            if unloads != self.unloads {
                self.objects.clear();
                self.rules.clear();
                self.unloads = unloads;
            }
        }

        /// The rule for stepping out of the frame executing at `at`.
        fn rule(&mut self, at: usize) -> Rule {
            if let Some(&rule) = self.rules.get(&at) {
                return rule;
            }
            if !self.objects.iter().any(|o| o.contains(at)) {
                // Loaded since the objects were read, or not code at all.
                self.objects = loaded_objects();
            }
            let rule = match self.objects.iter().find(|o| o.contains(at)) {
                Some(object) => object.rule(&mut self.ctx, at),
                None => Rule::End,
            };
            self.rules.insert(at, rule);
            rule
        }
    }

    impl Object {
        fn contains(&self, at: usize) -> bool {
            self.text
                .iter()
                .any(|&(start, end)| (start..end).contains(&at))
        }

        /// The rule of `at`, from the object's CFI. No CFI for it: the end of the stack, as
        /// the system unwinder has it.
        fn rule(&self, ctx: &mut UnwindContext<usize>, at: usize) -> Rule {
            let Some(table) = self.hdr.table() else {
                return Rule::End;
            };
            let fde = match table.fde_for_address(
                &self.eh_frame,
                &self.bases,
                at as u64,
                EhFrame::cie_from_offset,
            ) {
                Ok(fde) => fde,
                Err(_) => return Rule::End,
            };
            if fde.is_signal_trampoline() {
                return Rule::Unsupported;
            }
            let Ok(row) = fde.unwind_info_for_address(&self.eh_frame, &self.bases, ctx, at as u64)
            else {
                return Rule::Unsupported;
            };
            let (cfa_from_rbp, cfa_offset) = match *row.cfa() {
                CfaRule::RegisterAndOffset { register, offset } if register == X86_64::RSP => {
                    (false, offset)
                }
                CfaRule::RegisterAndOffset { register, offset } if register == X86_64::RBP => {
                    (true, offset)
                }
                _ => return Rule::Unsupported,
            };
            let ra_offset = match row.register(X86_64::RA) {
                Some(RegisterRule::Offset(offset)) => offset,
                Some(RegisterRule::Undefined) => return Rule::Outermost,
                _ => return Rule::Unsupported,
            };
            let rbp_at = match row.register(X86_64::RBP) {
                None | Some(RegisterRule::SameValue) => None,
                Some(RegisterRule::Offset(offset)) => Some(offset),
                Some(_) => return Rule::Unsupported,
            };
            Rule::Step(Step {
                cfa_from_rbp,
                cfa_offset,
                ra_offset,
                rbp_at,
            })
        }
    }

    /// The loader's count of unloaded objects, read from its first object.
    fn loader_unloads() -> u64 {
        let mut unloads = 0;
        loaded::each(|object| {
            unloads = object.unloads();
            false
        });
        unloads
    }

    /// Every loaded object with CFI.
    fn loaded_objects() -> Vec<Object> {
        let mut objects = Vec::new();
        loaded::each(|object| {
            objects.extend(object_of(object));
            true
        });
        objects
    }

    /// An object's executable segments and CFI, from its program headers.
    fn object_of(object: &LoadedObject<'_>) -> Option<Object> {
        let text = object.text();
        let hdr_segment = object
            .phdrs
            .iter()
            .find(|p| p.p_type == libc::PT_GNU_EH_FRAME)?;
        let (hdr_start, hdr_end) = object.segment(hdr_segment);
        // SAFETY: the `PT_GNU_EH_FRAME` segment is mapped for as long as the object is loaded.
        let hdr_bytes =
            unsafe { std::slice::from_raw_parts(hdr_start as *const u8, hdr_end - hdr_start) };
        let bases = BaseAddresses::default().set_eh_frame_hdr(hdr_start as u64);
        let hdr = EhFrameHdr::new(hdr_bytes, NativeEndian)
            .parse(&bases, 8)
            .ok()?;
        let eh_frame_start = match hdr.eh_frame_ptr() {
            gimli::Pointer::Direct(address) => address as usize,
            gimli::Pointer::Indirect(_) => return None,
        };
        // `.eh_frame` has no length in the header: it runs to the end of its segment at most,
        // and its entries carry their own lengths.
        let (_, eh_frame_end) = object
            .loads()
            .map(|p| object.segment(p))
            .find(|&(start, end)| (start..end).contains(&eh_frame_start))?;
        // SAFETY: the part of a loaded segment from `.eh_frame` to the segment's end is mapped
        // for as long as the object is loaded.
        let eh_frame_bytes = unsafe {
            std::slice::from_raw_parts(eh_frame_start as *const u8, eh_frame_end - eh_frame_start)
        };
        let mut eh_frame = EhFrame::new(eh_frame_bytes, NativeEndian);
        eh_frame.set_address_size(8);
        Some(Object {
            text,
            bases: bases.set_eh_frame(eh_frame_start as u64),
            eh_frame,
            hdr,
        })
    }

    #[cfg(test)]
    mod tests {
        use crate::checker::unwind::trace;

        /// The walk gives the system unwinder's return addresses, frame for frame, below the
        /// two walkers' own frames.
        #[inline(never)]
        fn both() -> (Vec<usize>, Vec<usize>) {
            let mut ours = Vec::new();
            assert!(trace(&mut ours, 128), "a plain Rust stack is walked");
            std::hint::black_box(&mut ours);
            let mut system = Vec::new();
            backtrace::trace(|frame| {
                system.push(frame.ip() as usize);
                true
            });
            (ours, system)
        }

        #[inline(never)]
        fn nested(depth: usize) -> (Vec<usize>, Vec<usize>) {
            let r = if depth == 0 {
                both()
            } else {
                nested(std::hint::black_box(depth - 1))
            };
            std::hint::black_box(r)
        }

        /// Where the two traces start to agree: at the return address into `both`'s caller
        /// (`both` itself is left from two different calls).
        fn agree_from(ours: &[usize], system: &[usize]) -> usize {
            system
                .iter()
                .position(|&ip| ip == ours[2])
                .unwrap_or_else(|| panic!("{ours:x?} is not in {system:x?}"))
        }

        #[test]
        fn matches_the_system_unwinder() {
            for depth in [0, 3, 20] {
                let (ours, system) = nested(depth);
                let from = agree_from(&ours, &system);
                assert_eq!(&ours[2..], &system[from..], "depth {depth}");
                assert!(ours.len() > depth + 4, "the walk went past `nested`");
            }
        }

        #[test]
        fn matches_on_another_thread() {
            let (ours, system) = std::thread::spawn(|| nested(5)).join().unwrap();
            let from = agree_from(&ours, &system);
            assert_eq!(&ours[2..], &system[from..]);
        }

        #[test]
        fn stops_at_the_bound() {
            let mut ips = Vec::new();
            assert!(trace(&mut ips, 3));
            assert_eq!(ips.len(), 3);
        }
    }
}
