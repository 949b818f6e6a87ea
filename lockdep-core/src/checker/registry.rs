//! The class table: every class the process has seen, by id, readable without a lock.
//!
//! Ids are dense `u32`s starting at 1 (0 means "no class"). Class 1 is `ALLOC`. Entries are
//! never removed, as in the kernel: a class is a static property of the program.

//!
//! Class ids are cached where they are looked up (a lock's map, a `LockClass`, a subclass
//! slot). They are published with `Release` and read with `Acquire`: a thread that sees an id
//! must also see the `ClassInfo` written before it, since it goes on to read it lock-free.

use once_cell::sync::OnceCell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{
    AtomicBool, AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::Mutex;

use dashmap::DashMap;

use super::fast_hash::FastHash;
use lockdep_report::{with_data_type, Site};

use super::types::{lock, ClassId, NodeKind};
use crate::LockClass;

/// The kernel's `MAX_LOCKDEP_KEYS` analogue.
pub(crate) const MAX_CLASSES: usize = 1 << 18;
// A class id fits below the access of an acquisition word (so that two acquisitions share a
// word only when they are the same).
const _: () = assert!(MAX_CLASSES <= 1 << super::chain_key::CLASS_BITS);

/// Nesting subclasses per class, as the kernel's `MAX_LOCKDEP_SUBCLASSES`.
pub(crate) const MAX_SUBCLASSES: u32 = 8;
const CHUNK: usize = 1024;
const CHUNKS: usize = MAX_CLASSES / CHUNK;

/// Everything known about a class.
pub(crate) struct ClassInfo {
    /// The class's name as report files key it: `name` or `name/N` for subclass N; a
    /// creation-site class is named by its site alone (its data type is [`data_type`]).
    ///
    /// [`data_type`]: ClassInfo::data_type
    pub(crate) name: &'static str,
    /// The name reports print: [`name`](ClassInfo::name) with the type of the data for a
    /// creation-site lock class (`src/bank.rs:40:20 Mutex<Ledger>`), else the name itself.
    pub(crate) display: &'static str,
    /// The base class (the class itself but for a subclass).
    pub(crate) base: ClassId,
    pub(crate) kind: NodeKind,
    /// Where the class was defined, when it is a creation-site class.
    pub(crate) site: Option<&'static Location<'static>>,
    /// The type of the data its locks protect (`core::any::type_name`), for a creation-site
    /// lock class and its subclasses: part of the class's identity, so that locks made at
    /// one site for unrelated data (a helper without `#[track_caller]`, a derive, the
    /// standard library) are not one class.
    pub(crate) data_type: Option<&'static str>,
    /// A writer has waited for the class: set under the graph's lock, which knows it first
    /// (`Graph::is_written`), and read without it, so that only the first write of a class
    /// takes that lock to say so.
    written: AtomicBool,
    subclasses: [AtomicU32; MAX_SUBCLASSES as usize],
}

/// How a class is identified when it is first registered.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClassKey {
    Site {
        file: &'static str,
        line: u32,
        col: u32,
        /// A lock and a pool made on one line are two classes.
        kind: NodeKind,
        /// And so are locks of unrelated data made by one call (`""` for pools).
        data_type: &'static str,
    },
    Static(usize),
    Named(String, NodeKind),
    Sub(ClassId, u32),
    Alloc,
}

static CHUNKS_TABLE: [OnceCell<Box<[OnceCell<ClassInfo>]>>; CHUNKS] =
    [const { OnceCell::new() }; CHUNKS];
/// Every class by key.
#[derive(Default)]
struct Table {
    by_key: HashMap<ClassKey, ClassId>,
}

static BY_KEY: once_cell::sync::Lazy<Mutex<Table>> = once_cell::sync::Lazy::new(Default::default);
static NEXT_ID: AtomicU32 = AtomicU32::new(1);
static ALLOC_ID: AtomicU32 = AtomicU32::new(0);

/// The class with this id. Lock-free.
///
/// Panics on an id that was never handed out, which would be a bug of the checker.
pub(crate) fn info(id: ClassId) -> &'static ClassInfo {
    let idx = id as usize;
    CHUNKS_TABLE[idx / CHUNK]
        .get()
        .and_then(|chunk| chunk[idx % CHUNK].get())
        .expect("lockdep: class id out of range")
}

/// Number of classes registered so far (ids `1..=count`), each readable with [`info`]: the
/// count is published after the class (`Release`, read with `Acquire`), so a listing racing
/// with a registration never reads a class not yet written.
pub(crate) fn count() -> u32 {
    NEXT_ID.load(Acquire) - 1
}

/// The id of the class identified by `key`, registering it on first sight. `None` when the
/// table is full (the caller reports the overflow).
///
/// Registration allocates: the caller has entered the checker (its re-entry guard), so that
/// a `TrackingAllocator` does not come back here under the registry's lock.
pub(crate) fn register(
    key: ClassKey,
    kind: NodeKind,
    site: Option<&'static Location<'static>>,
    name: impl FnOnce() -> String,
) -> Option<ClassId> {
    let mut by_key = lock(&BY_KEY);
    if let Some(&id) = by_key.by_key.get(&key) {
        return Some(id);
    }
    // `ALLOC` is always class 1, there before any other: a thread that holds something has
    // registered a class, so `alloc_class()` never has to register (and allocate) while a
    // `TrackingAllocator` allocation validates.
    if by_key.by_key.is_empty() {
        // The process's parking table is allocated by its first park or unpark: here, as the
        // checker's own work, rather than later inside some user's unlock.
        lockdep_raw::init_parking();
        let id = insert(
            &mut by_key,
            ClassKey::Alloc,
            NodeKind::Alloc,
            None,
            "ALLOC",
            None,
        );
        ALLOC_ID.store(id?, Release);
        if key == ClassKey::Alloc {
            return id;
        }
    }
    let (name, base) = match key {
        ClassKey::Sub(base, n) => {
            let name: &'static str =
                Box::leak(format!("{}/{}", info(base).name, n).into_boxed_str());
            (name, Some(base))
        }
        _ => (&*Box::leak(name().into_boxed_str()), None),
    };
    insert(&mut by_key, key, kind, site, name, base)
}

/// Adds a class under the registry's lock: a subclass of `base`, or a class of its own.
fn insert(
    table: &mut Table,
    key: ClassKey,
    kind: NodeKind,
    site: Option<&'static Location<'static>>,
    name: &'static str,
    base: Option<ClassId>,
) -> Option<ClassId> {
    let id = NEXT_ID.load(Relaxed);
    let idx = id as usize;
    if idx >= MAX_CLASSES {
        return None;
    }
    let chunk =
        CHUNKS_TABLE[idx / CHUNK].get_or_init(|| (0..CHUNK).map(|_| OnceCell::new()).collect());
    let data_type = match (&key, base) {
        (ClassKey::Site { data_type, .. }, _) if !data_type.is_empty() => Some(*data_type),
        (_, Some(base)) => info(base).data_type,
        _ => None,
    };
    let display = match data_type {
        Some(t) => Box::leak(with_data_type(name, t).into_boxed_str()),
        None => name,
    };
    let _ = chunk[idx % CHUNK].set(ClassInfo {
        name,
        display,
        base: base.unwrap_or(id),
        kind,
        site,
        data_type,
        written: AtomicBool::new(false),
        subclasses: [const { AtomicU32::new(0) }; MAX_SUBCLASSES as usize],
    });
    NEXT_ID.store(id + 1, Release);
    table.by_key.insert(key, id);
    Some(id)
}

/// Whether a writer is known to have waited for `id` (see `ClassInfo::written`; false is
/// asked again under the graph's lock).
#[inline]
pub(crate) fn is_written(id: ClassId) -> bool {
    info(id).written.load(Relaxed)
}

/// A writer has waited for `id`; the caller holds the graph's lock, which knows it.
pub(crate) fn mark_written(id: ClassId) {
    info(id).written.store(true, Relaxed);
}

/// The name reports show for `id`: its name, with the type of its data for a creation-site
/// lock class (`src/bank.rs:40:20 Mutex<Ledger>`: the site alone says where, not what).
pub(crate) fn display_name(id: ClassId) -> &'static str {
    info(id).display
}

/// The names class `id` answers to: its name, its display name (with its data type), and its
/// base class's (a subclass, printed `name/N`, answers to its class's names).
pub(crate) fn names(id: ClassId) -> [&'static str; 4] {
    let info = info(id);
    let base = self::info(info.base);
    [info.display, info.name, base.display, base.name]
}

/// Whether `name` names class `id` (one of its [`names`]).
pub(crate) fn answers_to(id: ClassId, name: &str) -> bool {
    names(id).contains(&name)
}

/// The creation-site name of a class: `path/to/file.rs:LINE:COL`.
pub(crate) fn site_name(site: &'static Location<'static>) -> String {
    source_site(site).to_string()
}

/// `site` as reports show it, its file shortened.
pub(crate) fn source_site(site: &'static Location<'static>) -> Site {
    Site {
        file: std::borrow::Cow::Borrowed(lockdep_report::short_file(site.file())),
        line: site.line(),
        column: Some(site.column()),
    }
}

/// The class of all locks of `kind` created at `site`, protecting data of type `data_type`
/// (`""` for pools). Named after the site; a site in the standard library, which every lock
/// made through it shares (`.map(Mutex::new)`), is named with the data type too.
pub(crate) fn site_class(
    site: &'static Location<'static>,
    kind: NodeKind,
    data_type: &'static str,
) -> Option<ClassId> {
    // Every lock looks its class up on first use, and programs make locks at run time by the
    // million (a cache's shards, a placeholder per pending entry): first by the addresses of
    // the site and type name, without the registry's lock or hashing the strings. Another
    // `Location` or `type_name` copy of the same site or type only misses here, and the
    // registry, keyed by their contents, finds the class all the same.
    let by_address = (
        site as *const Location<'static> as usize,
        data_type.as_ptr() as usize,
        data_type.len(),
        kind,
    );
    if let Some(id) = SITE_CLASSES.get(&by_address) {
        return Some(*id);
    }
    let id = register(
        ClassKey::Site {
            file: site.file(),
            line: site.line(),
            col: site.column(),
            kind,
            data_type,
        },
        kind,
        Some(site),
        || site_name(site),
    )?;
    SITE_CLASSES.insert(by_address, id);
    Some(id)
}

/// A creation site and type name by address: the `Location`'s, the name's and its length,
/// and the kind of class.
type SiteAddress = (usize, usize, usize, NodeKind);

/// Creation-site classes by the addresses of their `Location` and type name (see
/// [`site_class`]).
static SITE_CLASSES: once_cell::sync::Lazy<DashMap<SiteAddress, ClassId, FastHash>> =
    once_cell::sync::Lazy::new(Default::default);

/// The name reports show for the creation-site class of `site` and `data_type` (`""` for
/// none).
pub(crate) fn site_display_name(site: &'static Location<'static>, data_type: &str) -> String {
    if data_type.is_empty() {
        site_name(site)
    } else {
        with_data_type(&site_name(site), data_type)
    }
}

/// The class of a `static LockClass`, cached in the `LockClass` itself.
pub(crate) fn static_class(class: &'static LockClass) -> Option<ClassId> {
    let cached = class.id.load(Acquire);
    if cached != 0 {
        return Some(cached);
    }
    let id = register(
        ClassKey::Static(class as *const LockClass as usize),
        class.kind().into(),
        None,
        || class.name().to_owned(),
    )?;
    class.id.store(id, Release);
    Some(id)
}

/// Nesting subclass `n` of `base` (`lock_nested(n)`); subclass 0 is `base` itself.
#[inline]
pub(crate) fn subclass(base: ClassId, n: u32) -> Option<ClassId> {
    if n == 0 {
        return Some(base);
    }
    if n >= MAX_SUBCLASSES {
        return None;
    }
    let slot = &info(base).subclasses[n as usize];
    let cached = slot.load(Acquire);
    if cached != 0 {
        return Some(cached);
    }
    let kind = info(base).kind;
    let id = register(ClassKey::Sub(base, n), kind, info(base).site, String::new)?;
    slot.store(id, Release);
    Some(id)
}

/// The `ALLOC` node: memory allocation and reclaim (the kernel's `fs_reclaim`). Registered
/// with the first class of the process (the caller has entered the checker if this may be
/// that first registration).
#[inline]
pub(crate) fn alloc_class() -> ClassId {
    let id = ALLOC_ID.load(Acquire);
    if id != 0 {
        return id;
    }
    register(ClassKey::Alloc, NodeKind::Alloc, None, String::new)
        .expect("lockdep: the first class always fits")
}

#[cfg(test)]
mod tests {
    use crate::checker::registry::*;

    #[test]
    fn a_site_class_is_found_by_address_and_by_contents() {
        let site = Location::caller();
        let t = "registry::tests::T";
        let a = site_class(site, NodeKind::Lock, t).unwrap();
        assert_eq!(site_class(site, NodeKind::Lock, t), Some(a));
        // Another copy of the type's name misses the cache of addresses, not the class.
        let copy: &'static str = Box::leak(t.to_owned().into_boxed_str());
        assert_ne!(copy.as_ptr(), t.as_ptr());
        assert_eq!(site_class(site, NodeKind::Lock, copy), Some(a));
        let other = site_class(site, NodeKind::Lock, "registry::tests::U").unwrap();
        let pool = site_class(site, NodeKind::Pool, "").unwrap();
        assert!(other != a && pool != a && pool != other);
        assert_eq!(
            info(other).name,
            info(a).name,
            "one site: one name, two classes"
        );
        assert_eq!(
            display_name(a),
            format!("{} T", info(a).name),
            "told apart by their data's type"
        );
        assert_eq!(display_name(other), format!("{} U", info(a).name));
        assert_eq!(
            display_name(pool),
            info(pool).name,
            "a pool has no data type"
        );
    }

    #[test]
    fn a_subclass_is_named_after_its_class_and_answers_to_its_names() {
        let site = Location::caller();
        let base = site_class(site, NodeKind::Lock, "registry::tests::Ledger").unwrap();
        let sub = subclass(base, 2).unwrap();
        let site_name = info(base).name;
        assert_eq!(display_name(base), format!("{site_name} Ledger"));
        assert_eq!(display_name(sub), format!("{site_name}/2 Ledger"));
        for name in [
            site_name.to_owned(),
            format!("{site_name} Ledger"),
            format!("{site_name}/2"),
            format!("{site_name}/2 Ledger"),
        ] {
            assert!(answers_to(sub, &name), "{name}");
        }
        assert!(!answers_to(sub, &format!("{site_name}/1")));
        assert!(!answers_to(base, &format!("{site_name}/2")));
    }
}
