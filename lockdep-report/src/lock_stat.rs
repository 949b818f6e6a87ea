//! lock_stat: contention statistics per class and access (the kernel's `/proc/lock_stat`),
//! the model that a process fills at exit and `cargo lockdep` merges across processes, and
//! its text table, rendered once for both.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use crate::Access;

/// How many call sites a row shows under it, of each kind (the kernel keeps 4).
pub const STAT_SITES: usize = 4;

/// The counters of one class held one way: acquisitions, contentions (acquisitions that had
/// to wait), the time spent waiting and holding, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatCounts {
    /// Blocking acquisitions that took the lock.
    pub acquisitions: u64,
    /// Of those, the ones that waited (the raw lock's fast path failed).
    pub contentions: u64,
    /// Time spent waiting, in total.
    pub wait_total_ns: u64,
    /// The longest wait.
    pub wait_max_ns: u64,
    /// Time the lock was held (from acquisition to release on the same thread), in total.
    pub hold_total_ns: u64,
    /// The longest hold.
    pub hold_max_ns: u64,
}

impl StatCounts {
    /// Adds `other`'s counts: totals add, maxima are the larger.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::StatCounts;
    /// let mut a = StatCounts { acquisitions: 2, wait_max_ns: 5, ..Default::default() };
    /// a.add(&StatCounts { acquisitions: 1, wait_max_ns: 9, ..Default::default() });
    /// assert_eq!((a.acquisitions, a.wait_max_ns), (3, 9));
    /// ```
    pub fn add(&mut self, other: &StatCounts) {
        self.acquisitions += other.acquisitions;
        self.contentions += other.contentions;
        self.wait_total_ns += other.wait_total_ns;
        self.wait_max_ns = self.wait_max_ns.max(other.wait_max_ns);
        self.hold_total_ns += other.hold_total_ns;
        self.hold_max_ns = self.hold_max_ns.max(other.hold_max_ns);
    }
}

/// A call site of a row and what happened there: for a site that waited (the kernel's
/// contention point), how many waits and their total time; for a holder's site (the
/// contending point: where the lock's holder had taken it when others had to wait), how many
/// waits it caused and their total time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatSite {
    /// `file:line:column`.
    pub site: String,
    /// How many waits.
    pub count: u64,
    /// Their total time, in nanoseconds.
    pub wait_ns: u64,
}

/// One class held one way (`write`, or `read` for any shared hold).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatRow {
    /// The class's name as reports print it.
    pub class: String,
    /// `Write` or `Read`.
    pub access: Access,
    /// Its counters.
    pub counts: StatCounts,
    /// The sites that waited, most waited first.
    pub waited_at: Vec<StatSite>,
    /// The holders' sites that made others wait, most first.
    pub held_by: Vec<StatSite>,
}

/// The statistics of one process, or merged from many.
///
/// # Examples
///
/// ```
/// use lockdep_report::{Access, LockStat, StatCounts, StatRow, StatSite};
///
/// let row = |waits| StatRow {
///     class: "src/db.rs:40:19 <Table>".into(),
///     access: Access::Write,
///     counts: StatCounts { acquisitions: 10, contentions: waits, wait_total_ns: 1_500 * waits,
///                          wait_max_ns: 2_000, ..Default::default() },
///     waited_at: vec![StatSite { site: "src/db.rs:112:22".into(), count: waits,
///                                wait_ns: 1_500 * waits }],
///     held_by: Vec::new(),
/// };
/// let mut stat = LockStat::of_process(vec![row(2)]);
/// stat.merge(LockStat::of_process(vec![row(3)]));
/// assert_eq!(stat.rows[0].counts.contentions, 5);
/// assert_eq!(stat.rows[0].waited_at[0].count, 5);
/// let table = stat.to_string();
/// assert!(table.starts_with("lock_stat: 1 class, 20 acquisitions, 2 processes"));
/// assert!(table.contains("  waited at  src/db.rs:112:22"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockStat {
    /// How many processes it covers.
    pub processes: u32,
    /// Its rows, most waited first (see [`sort`](LockStat::sort)).
    pub rows: Vec<StatRow>,
}

impl LockStat {
    /// The statistics of one process, sorted.
    pub fn of_process(rows: Vec<StatRow>) -> LockStat {
        let mut stat = LockStat { processes: 1, rows };
        stat.sort();
        stat
    }

    /// True when no acquisition was counted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds `other`'s rows to these: rows by class and access, their sites by site.
    pub fn merge(&mut self, other: LockStat) {
        self.processes += other.processes;
        let mut at: HashMap<(String, u8), usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.class.clone(), r.access as u8), i))
            .collect();
        for row in other.rows {
            match at.get(&(row.class.clone(), row.access as u8)) {
                Some(&i) => {
                    let mine = &mut self.rows[i];
                    mine.counts.add(&row.counts);
                    merge_sites(&mut mine.waited_at, row.waited_at);
                    merge_sites(&mut mine.held_by, row.held_by);
                }
                None => {
                    at.insert((row.class.clone(), row.access as u8), self.rows.len());
                    self.rows.push(row);
                }
            }
        }
        self.sort();
    }

    /// Sorts rows by total wait, then contentions, then acquisitions (most first; a class's
    /// two rows may stand apart), and each row's sites by their waits.
    pub fn sort(&mut self) {
        for row in &mut self.rows {
            sort_sites(&mut row.waited_at);
            sort_sites(&mut row.held_by);
        }
        self.rows.sort_by(|a, b| {
            let key = |r: &StatRow| {
                (
                    r.counts.wait_total_ns,
                    r.counts.contentions,
                    r.counts.acquisitions,
                )
            };
            key(b).cmp(&key(a)).then_with(|| a.class.cmp(&b.class))
        });
    }

    /// The classes with the most total wait (both accesses together), at most `n`, most
    /// first, those that never waited left out: `(class, total wait ns, contentions)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::LockStat;
    /// assert!(LockStat::default().most_contended(5).is_empty());
    /// ```
    pub fn most_contended(&self, n: usize) -> Vec<(&str, u64, u64)> {
        let mut by_class: Vec<(&str, u64, u64)> = Vec::new();
        for row in self.rows.iter().filter(|r| r.counts.contentions > 0) {
            match by_class.iter_mut().find(|(c, _, _)| *c == row.class) {
                Some(entry) => {
                    entry.1 += row.counts.wait_total_ns;
                    entry.2 += row.counts.contentions;
                }
                None => {
                    by_class.push((&row.class, row.counts.wait_total_ns, row.counts.contentions))
                }
            }
        }
        by_class.sort_by(|a, b| (b.1, b.2).cmp(&(a.1, a.2)).then_with(|| a.0.cmp(b.0)));
        by_class.truncate(n);
        by_class
    }
}

fn merge_sites(mine: &mut Vec<StatSite>, theirs: Vec<StatSite>) {
    for site in theirs {
        match mine.iter_mut().find(|s| s.site == site.site) {
            Some(s) => {
                s.count += site.count;
                s.wait_ns += site.wait_ns;
            }
            None => mine.push(site),
        }
    }
}

fn sort_sites(sites: &mut [StatSite]) {
    sites.sort_by(|a, b| {
        (b.wait_ns, b.count)
            .cmp(&(a.wait_ns, a.count))
            .then_with(|| a.site.cmp(&b.site))
    });
}

/// A duration in nanoseconds, in the unit that keeps three significant digits or so:
/// `850ns`, `12.3µs`, `18.2ms`, `1.93s`.
///
/// # Examples
///
/// ```
/// use lockdep_report::duration_text;
/// assert_eq!(duration_text(850), "850ns");
/// assert_eq!(duration_text(18_200_000), "18.2ms");
/// assert_eq!(duration_text(1_930_000_000), "1.93s");
/// ```
pub fn duration_text(ns: u64) -> String {
    let scaled = |unit: f64, suffix: &str| {
        let v = ns as f64 / unit;
        if v >= 100.0 {
            format!("{v:.0}{suffix}")
        } else if v >= 10.0 {
            format!("{v:.1}{suffix}")
        } else {
            format!("{v:.2}{suffix}")
        }
    };
    match ns {
        0..=999 => format!("{ns}ns"),
        1_000..=999_999 => scaled(1e3, "µs"),
        1_000_000..=999_999_999 => scaled(1e6, "ms"),
        _ => scaled(1e9, "s"),
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The table, as the kernel's `/proc/lock_stat` lays it out: a header line, a row per class
/// and access, and under each row the sites that waited most and the holders' sites that made
/// them wait.
impl fmt::Display for LockStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let classes = {
            let mut names: Vec<&str> = self.rows.iter().map(|r| r.class.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.len()
        };
        let acquisitions: u64 = self.rows.iter().map(|r| r.counts.acquisitions).sum();
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                one.to_owned()
            } else {
                many.to_owned()
            }
        };
        writeln!(
            f,
            "lock_stat: {classes} {}, {} {}, {} {}, sorted by total wait",
            plural(classes as u64, "class", "classes"),
            grouped(acquisitions),
            plural(acquisitions, "acquisition", "acquisitions"),
            self.processes,
            plural(u64::from(self.processes), "process", "processes"),
        )?;
        let width = self
            .rows
            .iter()
            .map(|r| r.class.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(5, 60);
        writeln!(
            f,
            "{:width$}  access    acquired   contended      %  wait total / max        hold total / max",
            "class"
        )?;
        let site_width = self
            .rows
            .iter()
            .flat_map(|r| {
                r.waited_at
                    .iter()
                    .take(STAT_SITES)
                    .chain(r.held_by.iter().take(STAT_SITES))
            })
            .map(|s| s.site.chars().count())
            .max()
            .unwrap_or(0);
        let mut last_class = None;
        for row in &self.rows {
            let name = if last_class == Some(row.class.as_str()) {
                ""
            } else {
                row.class.as_str()
            };
            last_class = Some(row.class.as_str());
            let c = &row.counts;
            let percent = if c.acquisitions == 0 {
                0.0
            } else {
                100.0 * c.contentions as f64 / c.acquisitions as f64
            };
            let mut line = String::new();
            let _ = write!(
                line,
                "{name:width$}  {:6} {:>11} {:>11} {percent:>6.1}  {:>22}  {:>22}",
                if row.access == Access::Write {
                    "write"
                } else {
                    "read"
                },
                grouped(c.acquisitions),
                grouped(c.contentions),
                format!(
                    "{} / {}",
                    duration_text(c.wait_total_ns),
                    duration_text(c.wait_max_ns)
                ),
                format!(
                    "{} / {}",
                    duration_text(c.hold_total_ns),
                    duration_text(c.hold_max_ns)
                ),
            );
            writeln!(f, "{}", line.trim_end())?;
            for (label, sites) in [("waited at", &row.waited_at), ("held by  ", &row.held_by)] {
                for s in sites.iter().take(STAT_SITES) {
                    writeln!(
                        f,
                        "  {label}  {:site_width$} {:>9} waits  {}",
                        s.site,
                        grouped(s.count),
                        duration_text(s.wait_ns),
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(class: &str, access: Access, waits: u64, wait_ns: u64) -> StatRow {
        StatRow {
            class: class.into(),
            access,
            counts: StatCounts {
                acquisitions: 100,
                contentions: waits,
                wait_total_ns: wait_ns,
                wait_max_ns: wait_ns,
                hold_total_ns: 10,
                hold_max_ns: 1,
            },
            waited_at: vec![StatSite {
                site: format!("{class}:1:1"),
                count: waits,
                wait_ns,
            }],
            held_by: Vec::new(),
        }
    }

    #[test]
    fn merge_adds_rows_of_one_class_and_access_and_keeps_others_apart() {
        let mut a = LockStat::of_process(vec![
            row("a", Access::Write, 1, 10),
            row("a", Access::Read, 0, 0),
        ]);
        a.merge(LockStat::of_process(vec![
            row("a", Access::Write, 2, 50),
            row("b", Access::Write, 1, 5),
        ]));
        assert_eq!(a.processes, 2);
        assert_eq!(a.rows.len(), 3);
        let w = &a.rows[0];
        assert_eq!((w.class.as_str(), w.access), ("a", Access::Write));
        assert_eq!((w.counts.acquisitions, w.counts.contentions), (200, 3));
        assert_eq!((w.counts.wait_total_ns, w.counts.wait_max_ns), (60, 50));
        assert_eq!((w.waited_at.len(), w.waited_at[0].count), (1, 3));
        assert_eq!(a.most_contended(10), vec![("a", 60, 3), ("b", 5, 1)]);
    }

    #[test]
    fn the_table_names_a_class_once_for_its_two_rows() {
        let stat = LockStat::of_process(vec![
            row("a", Access::Write, 1, 10),
            row("a", Access::Read, 0, 0),
        ]);
        let text = stat.to_string();
        assert_eq!(text.matches("\na ").count(), 1, "{text}");
        assert!(text.contains("write"), "{text}");
        assert!(text.contains("read"), "{text}");
    }
}
