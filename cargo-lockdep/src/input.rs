//! Report files as written by lockdep at process exit (`docs/json.md`, "Report file"): finding
//! them and parsing one, borrowed from its text (backtraces are kept raw: only the few on a
//! reported cycle are ever looked at).

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use lockdep_core::__merge::dep;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The report file schemas this merger reads: version 2 added `image` and edges' `addresses`.
pub const REPORT_VERSIONS: std::ops::RangeInclusive<u64> = 1..=2;

/// A report file, borrowed from its text.
#[derive(Deserialize)]
pub struct ReportFile<'a> {
    pub version: u64,
    #[serde(borrow)]
    pub binary: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub test: Option<Cow<'a, str>>,
    pub pid: u64,
    #[serde(default)]
    pub time: Option<u64>,
    /// The binary whose addresses the edges' `addresses` are, when the process left its traces
    /// for the merge to resolve.
    #[serde(default)]
    pub image: Option<Image>,
    #[serde(borrow)]
    pub graph: Graph<'a>,
    #[serde(borrow)]
    pub violations: Vec<&'a RawValue>,
}

/// A process's graph.
#[derive(Deserialize)]
pub struct Graph<'a> {
    #[serde(borrow)]
    pub classes: Vec<Class<'a>>,
    #[serde(borrow)]
    pub edges: Vec<Edge<'a>>,
}

/// A class: merged by `name`, `kind` and `type` (ids are per process).
#[derive(Deserialize)]
pub struct Class<'a> {
    pub id: u64,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub site: Option<Site<'a>>,
    /// The type of a creation-site lock class's data: classes of one site and different data
    /// types are different classes.
    #[serde(borrow, default, rename = "type")]
    pub data_type: Option<Cow<'a, str>>,
}

/// "`to` was acquired while `from` was held".
#[derive(Deserialize)]
pub struct Edge<'a> {
    pub from: u64,
    pub to: u64,
    /// The dependency types, as bits.
    #[serde(deserialize_with = "dep_bits")]
    pub deps: u8,
    #[serde(borrow)]
    pub site: Option<Site<'a>>,
    /// The frames, as the process resolved them; or none, and instead:
    #[serde(borrow, default)]
    pub backtrace: Option<&'a RawValue>,
    /// the addresses to resolve in the file's `image`, a JSON array (parsed only if shown).
    #[serde(borrow, default)]
    pub addresses: Option<&'a RawValue>,
}

/// A test binary as a file: the one a process ran when its size and modification time (seconds
/// since the UNIX epoch) are still these.
#[derive(Deserialize, Clone, Debug)]
pub struct Image {
    pub path: String,
    pub size: u64,
    pub modified: u64,
}

/// `["EN","SR"]` as dependency-type bits, without allocating.
fn dep_bits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    struct Bits;
    impl<'de> serde::de::Visitor<'de> for Bits {
        type Value = u8;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of dependency types (EN, ER, SN, SR)")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<u8, A::Error> {
            let mut bits = 0;
            while let Some(name) = seq.next_element::<&str>()? {
                bits |= dep::from_name(name).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown dependency type {name:?}"))
                })?;
            }
            Ok(bits)
        }
    }
    deserializer.deserialize_seq(Bits)
}

/// A source position.
#[derive(Deserialize, Serialize, Clone, PartialEq, Eq, Debug)]
pub struct Site<'a> {
    #[serde(borrow)]
    pub file: Cow<'a, str>,
    pub line: u64,
    pub column: Option<u64>,
}

impl Site<'_> {
    /// The site, owning its text.
    pub fn into_owned(self) -> Site<'static> {
        Site {
            file: Cow::Owned(self.file.into_owned()),
            line: self.line,
            column: self.column,
        }
    }
}

impl fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.column {
            Some(column) => write!(f, ":{column}"),
            None => Ok(()),
        }
    }
}

/// One frame of a backtrace.
#[derive(Deserialize, Serialize, Clone)]
pub struct Frame<'a> {
    #[serde(borrow)]
    pub function: Cow<'a, str>,
    #[serde(borrow)]
    pub site: Option<Site<'a>>,
}

impl Frame<'_> {
    /// The frame's file, if its site is known.
    pub fn file(&self) -> Option<&str> {
        self.site.as_ref().map(|s| &*s.file)
    }
}

/// The fields of a recorded violation the merger reads (the rest is passed on as is).
#[derive(Deserialize)]
pub struct Violation {
    pub kind: String,
    pub headline: String,
    pub classes: Vec<ViolationClass>,
    #[serde(default)]
    pub report: String,
}

/// A class of a recorded violation.
#[derive(Deserialize)]
pub struct ViolationClass {
    pub name: String,
    pub kind: String,
    #[serde(default, rename = "type")]
    pub data_type: Option<String>,
}

/// Why a file was skipped.
#[derive(Debug)]
pub enum BadFile {
    Unreadable(std::io::Error),
    Corrupt(serde_json::Error),
    Version(u64),
}

impl fmt::Display for BadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadFile::Unreadable(e) => write!(f, "cannot read it: {e}"),
            BadFile::Corrupt(e) => write!(f, "not a lockdep report file: {e}"),
            BadFile::Version(v) => write!(
                f,
                "report file version {v}, this cargo-lockdep reads versions {} to {}",
                REPORT_VERSIONS.start(),
                REPORT_VERSIONS.end()
            ),
        }
    }
}

/// Parses a report file's text.
///
/// # Errors
///
/// [`BadFile::Version`] for another schema version (recognised even when the rest does not
/// parse), [`BadFile::Corrupt`] for anything else that is not a report file.
pub fn parse(text: &str) -> Result<ReportFile<'_>, BadFile> {
    #[derive(Deserialize)]
    struct Version {
        version: Option<u64>,
    }
    match serde_json::from_str::<ReportFile<'_>>(text) {
        Ok(file) if REPORT_VERSIONS.contains(&file.version) => Ok(file),
        Ok(file) => Err(BadFile::Version(file.version)),
        Err(e) => match serde_json::from_str::<Version>(text) {
            Ok(Version { version: Some(v) }) if !REPORT_VERSIONS.contains(&v) => {
                Err(BadFile::Version(v))
            }
            _ => Err(BadFile::Corrupt(e)),
        },
    }
}

/// The report files named by `args`: a file as given, a directory's `lockdep-*.json` files
/// (its subdirectories too, so that `target/lockdep` finds every run under it), sorted by
/// path so that a merge is reproducible.
///
/// # Errors
///
/// A message for an argument that does not exist or a directory that cannot be listed.
pub fn find(args: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg).map_err(|e| format!("{}: {e}", arg.display()))?;
        if meta.is_dir() {
            walk(arg, &mut found).map_err(|e| format!("{}: {e}", arg.display()))?;
        } else {
            found.push(arg.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, found)?;
        } else if is_report_name(&entry.file_name().to_string_lossy()) {
            found.push(path);
        }
    }
    Ok(())
}

/// `lockdep-*.json`: a whole report file (never the hidden `.lockdep-*.json.tmp` being
/// written).
fn is_report_name(name: &str) -> bool {
    name.starts_with("lockdep-") && name.ends_with(".json")
}
