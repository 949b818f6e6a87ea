//! Stage 2 of the pipeline: report files as written by lockdep at process exit
//! (`book/src/json.md`, "Report file"), parsed borrowed from their text (backtraces are kept
//! raw: only the few on a reported cycle are ever looked at) and checked for what the merge
//! relies on, a batch spread over the machine's threads.

use std::borrow::Cow;
use std::fmt;

use lockdep_report::{dep, NodeKind, ViolationKind};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::read::Read;

/// The report file schemas this merger reads: version 2 added `image` and edges' `addresses`.
pub(crate) const REPORT_VERSIONS: std::ops::RangeInclusive<u64> = 1..=2;

/// A report file, borrowed from its text.
#[derive(Deserialize)]
pub(crate) struct ReportFile<'a> {
    pub(crate) version: u64,
    #[serde(borrow)]
    pub(crate) binary: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) test: Option<Cow<'a, str>>,
    pub(crate) pid: u64,
    #[serde(default)]
    pub(crate) time: Option<u64>,
    /// The binary whose addresses the edges' `addresses` are, when the process left its traces
    /// for the merge to resolve.
    #[serde(default)]
    pub(crate) image: Option<Image>,
    #[serde(borrow)]
    pub(crate) graph: Graph<'a>,
    #[serde(borrow)]
    pub(crate) violations: Vec<&'a RawValue>,
}

/// A process's graph.
#[derive(Deserialize)]
pub(crate) struct Graph<'a> {
    #[serde(borrow)]
    pub(crate) classes: Vec<Class<'a>>,
    #[serde(borrow)]
    pub(crate) edges: Vec<Edge<'a>>,
}

/// A class: merged by `name`, `kind` and `type` (ids are per process).
#[derive(Deserialize)]
pub(crate) struct Class<'a> {
    pub(crate) id: u64,
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(deserialize_with = "node_kind")]
    pub(crate) kind: NodeKind,
    #[serde(borrow)]
    pub(crate) site: Option<Site<'a>>,
    /// The type of a creation-site lock class's data: classes of one site and different data
    /// types are different classes.
    #[serde(borrow, default, rename = "type")]
    pub(crate) data_type: Option<Cow<'a, str>>,
}

/// "`to` was acquired while `from` was held".
#[derive(Deserialize)]
pub(crate) struct Edge<'a> {
    pub(crate) from: u64,
    pub(crate) to: u64,
    /// The dependency types, as bits.
    #[serde(deserialize_with = "dep_bits")]
    pub(crate) deps: u8,
    #[serde(borrow)]
    pub(crate) site: Option<Site<'a>>,
    /// The frames, as the process resolved them; or none, and instead:
    #[serde(borrow, default)]
    pub(crate) backtrace: Option<&'a RawValue>,
    /// the addresses to resolve in the file's `image`, a JSON array (parsed only if shown).
    #[serde(borrow, default)]
    pub(crate) addresses: Option<&'a RawValue>,
}

/// A test binary as a file: the one a process ran when its size and modification time (seconds
/// since the UNIX epoch) are still these.
#[derive(Deserialize, Serialize, Clone, Debug)]
pub(crate) struct Image {
    pub(crate) path: String,
    pub(crate) size: u64,
    pub(crate) modified: u64,
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

/// A name `from_name` knows, as its value.
fn named<'de, D: serde::Deserializer<'de>, T>(
    deserializer: D,
    from_name: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, D::Error> {
    let name = Cow::<str>::deserialize(deserializer)?;
    from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown {what} {name:?}")))
}

fn node_kind<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NodeKind, D::Error> {
    named(deserializer, NodeKind::from_name, "class kind")
}

fn violation_kind<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<ViolationKind, D::Error> {
    named(deserializer, ViolationKind::from_name, "violation kind")
}

/// A source position.
#[derive(Deserialize, Clone, PartialEq, Eq, Debug)]
pub(crate) struct Site<'a> {
    #[serde(borrow)]
    pub(crate) file: Cow<'a, str>,
    pub(crate) line: u64,
    pub(crate) column: Option<u64>,
}

impl Site<'_> {
    /// The site as reports show it (a line or column past `u32` is clamped).
    pub(crate) fn to_model(&self) -> lockdep_report::Site {
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        lockdep_report::Site::new(
            self.file.clone().into_owned(),
            clamp(self.line),
            self.column.map(clamp),
        )
    }
}

/// One frame of a backtrace.
#[derive(Deserialize)]
pub(crate) struct Frame<'a> {
    #[serde(borrow)]
    pub(crate) function: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) site: Option<Site<'a>>,
}

impl Frame<'_> {
    /// The frame as reports show it.
    pub(crate) fn to_model(&self) -> lockdep_report::Frame {
        lockdep_report::Frame {
            function: self.function.clone().into_owned(),
            site: self.site.as_ref().map(Site::to_model),
        }
    }
}

/// The fields of a recorded violation the merger reads (the rest is passed on as is).
#[derive(Deserialize)]
pub(crate) struct Violation {
    #[serde(deserialize_with = "violation_kind")]
    pub(crate) kind: ViolationKind,
    pub(crate) classes: Vec<ViolationClass>,
    #[serde(default)]
    pub(crate) report: String,
}

/// A class of a recorded violation.
#[derive(Deserialize)]
pub(crate) struct ViolationClass {
    pub(crate) name: String,
    #[serde(deserialize_with = "node_kind")]
    pub(crate) kind: NodeKind,
    #[serde(default, rename = "type")]
    pub(crate) data_type: Option<String>,
}

/// Why a file was skipped.
#[derive(Debug)]
pub(crate) enum BadFile {
    Unreadable(std::io::Error),
    /// It ends before its JSON does: its process was killed while writing it, or the disk
    /// was full.
    Truncated(serde_json::Error),
    Corrupt(serde_json::Error),
    Version(u64),
}

impl fmt::Display for BadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadFile::Unreadable(e) => write!(f, "cannot read it: {e}"),
            BadFile::Truncated(e) => write!(
                f,
                "truncated: the file ends before its JSON does ({e}); was its process killed \
                 while writing it?"
            ),
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
/// parse), [`BadFile::Truncated`] for a text that ends too early, [`BadFile::Corrupt`] for
/// anything else that is not a report file.
fn parse_file(text: &str) -> Result<ReportFile<'_>, BadFile> {
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
            _ if e.is_eof() => Err(BadFile::Truncated(e)),
            _ => Err(BadFile::Corrupt(e)),
        },
    }
}

/// A report file parsed and checked, or why it is skipped.
pub(crate) type Parsed<'a> = Result<(ReportFile<'a>, Vec<Violation>), BadFile>;

/// Parses and checks one file's text.
fn parse(read: &Read) -> Parsed<'_> {
    let text = read
        .text
        .as_ref()
        .map_err(|e| BadFile::Unreadable(std::io::Error::new(e.kind(), e.to_string())))?;
    let file = parse_file(text)?;
    let violations = check(&file)?;
    Ok((file, violations))
}

/// Parses `batch` on the machine's threads, each a contiguous share; the results in order.
pub(crate) fn all(batch: &[Read]) -> Vec<Parsed<'_>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || batch.len() <= 1 {
        return batch.iter().map(parse).collect();
    }
    let share = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(share)
            .map(|chunk| scope.spawn(move || chunk.iter().map(parse).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("parsing does not panic"))
            .collect()
    })
}

/// Checks what the merge relies on before anything of a file is merged: every edge names a
/// listed class, every violation has the fields read.
fn check(file: &ReportFile<'_>) -> Result<Vec<Violation>, BadFile> {
    let corrupt = |what: String| BadFile::Corrupt(serde::de::Error::custom(what));
    let max_id = file.graph.classes.iter().map(|c| c.id).max().unwrap_or(0);
    if max_id > 4 * file.graph.classes.len() as u64 + 1024 {
        return Err(corrupt(format!("class id {max_id} is out of range")));
    }
    let mut listed = vec![false; max_id as usize + 1];
    for class in &file.graph.classes {
        listed[class.id as usize] = true;
    }
    for edge in &file.graph.edges {
        for id in [edge.from, edge.to] {
            if !listed.get(id as usize).copied().unwrap_or(false) {
                return Err(corrupt(format!(
                    "an edge names class {id}, which is not listed"
                )));
            }
        }
    }
    file.violations
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).map_err(BadFile::Corrupt))
        .collect()
}
