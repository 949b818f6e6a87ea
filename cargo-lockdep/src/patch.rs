//! Which `parking_lot` packages a test build replaces with lockdep's patches, and the patch
//! packages it builds: `[patch.crates-io]` given to cargo as configuration (no manifest is
//! edited), each patch written from the sources embedded in cargo-lockdep.
//!
//! A lock file that pins `parking_lot` 0.12.3 ignores a patch of version 0.12.5 until the
//! lock is updated: so the patch is written with the pinned version (its API is the newest
//! 0.12.x's, a superset), and cargo takes it as the pinned package. The patch's `lockdep` is
//! the one the workspace already depends on, when it does (one checker in a process, whose
//! graph has both the workspace's own locks and parking_lot's), else lockdep's sources as
//! embedded in cargo-lockdep.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::embedded;
use crate::lockfile::Locked;

/// Where the patch's `lockdep` comes from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lockdep {
    /// A directory (the workspace's own path dependency, or the embedded copy).
    Path(PathBuf),
    /// The registry version the workspace depends on.
    Version(String),
    /// The git checkout the workspace depends on.
    Git { url: String, rev: String },
}

impl Lockdep {
    /// The workspace's `lockdep` package, from its `source` and manifest path in `cargo
    /// metadata` (`None` when the source is not one a dependency can name).
    pub(crate) fn of_package(
        source: Option<&str>,
        version: &str,
        manifest_path: &Path,
    ) -> Option<Lockdep> {
        match source {
            None => Some(Lockdep::Path(manifest_path.parent()?.to_owned())),
            Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => {
                Some(Lockdep::Version(version.to_owned()))
            }
            Some(s) => {
                let rest = s.strip_prefix("git+")?;
                let (url, rev) = rest.split_once('#')?;
                let url = url.split('?').next().unwrap_or(url);
                Some(Lockdep::Git {
                    url: url.to_owned(),
                    rev: rev.to_owned(),
                })
            }
        }
    }

    /// The dependency's TOML, with the checker on.
    fn toml(&self) -> String {
        match self {
            Lockdep::Path(dir) => format!(
                "lockdep = {{ path = {}, features = [\"enabled\"] }}",
                quote(&dir.display().to_string())
            ),
            Lockdep::Version(v) => format!(
                "lockdep = {{ version = {}, features = [\"enabled\"] }}",
                quote(&format!("={v}"))
            ),
            Lockdep::Git { url, rev } => format!(
                "lockdep = {{ git = {}, rev = {}, features = [\"enabled\"] }}",
                quote(url),
                quote(rev)
            ),
        }
    }
}

/// One `parking_lot` package replaced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replacement {
    /// The version the lock file pins.
    pub(crate) locked: String,
    /// The patch's minor version (`0.12`) and its own version (`0.12.5`: whose API it has).
    pub(crate) minor: &'static str,
    pub(crate) patch_version: String,
}

impl Replacement {
    /// What the run says about it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "parking_lot {} → lockdep's parking_lot {} patch",
            self.locked, self.patch_version
        )
    }
}

/// The replacements for the packages a lock file pins (each crates.io `parking_lot` of a
/// minor version lockdep has a patch for, the newest of each), and a note for each
/// `parking_lot` left as it is.
pub(crate) fn plan(locked: &[Locked]) -> (Vec<Replacement>, Vec<String>) {
    let mut replaced: Vec<Replacement> = Vec::new();
    let mut notes = Vec::new();
    let mut candidates: Vec<&Locked> = locked.iter().filter(|p| p.name == "parking_lot").collect();
    candidates.sort_by_key(|p| std::cmp::Reverse(version_key(&p.version)));
    for package in candidates {
        if !package.is_from_crates_io() {
            notes.push(format!(
                "parking_lot {} is not from crates.io ({}): left as it is",
                package.version,
                package.source.as_deref().unwrap_or("a path")
            ));
            continue;
        }
        let Some(&(minor, dir)) = embedded::PATCHES
            .iter()
            .find(|(minor, _)| package.version.starts_with(&format!("{minor}.")))
        else {
            let minors: Vec<&str> = embedded::PATCHES.iter().map(|(m, _)| *m).collect();
            notes.push(format!(
                "parking_lot {} is left as it is: lockdep has patches for {} only",
                package.version,
                minors.join(" and ")
            ));
            continue;
        };
        if let Some(newer) = replaced.iter().find(|r| r.minor == minor) {
            notes.push(format!(
                "parking_lot {} is left as it is: a lock file's patch replaces one {minor}.x, \
                 here {}",
                package.version, newer.locked
            ));
            continue;
        }
        replaced.push(Replacement {
            locked: package.version.clone(),
            minor,
            patch_version: template_version(dir).unwrap_or_else(|| format!("{minor}.x")),
        });
    }
    replaced.sort_by(|a, b| a.minor.cmp(b.minor));
    (replaced, notes)
}

/// A version's numbers, to order versions.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map(|n| n.parse().unwrap_or(0))
        .collect()
}

/// The version the embedded patch in `dir` has.
fn template_version(dir: &str) -> Option<String> {
    let manifest = embedded::file(&format!("{dir}/Cargo.toml"))?;
    let manifest = std::str::from_utf8(manifest).ok()?;
    manifest.lines().find_map(|line| {
        let value = line
            .strip_prefix("version")?
            .trim_start()
            .strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_owned())
    })
}

/// The patch's manifest for the build: the embedded one with the pinned `version` and the
/// `lockdep` dependency given.
pub(crate) fn manifest(template: &str, version: &str, lockdep: &Lockdep) -> String {
    let mut out = String::new();
    let (mut versioned, mut depended) = (false, false);
    for line in template.lines() {
        if !versioned && line.starts_with("version") && line.contains('=') {
            let _ = writeln!(out, "version = {}", quote(version));
            versioned = true;
        } else if !depended && line.starts_with("lockdep ") && line.contains('=') {
            let _ = writeln!(out, "{}", lockdep.toml());
            depended = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Writes the patch package of `replacement` under `dir` (`<target>/lockdep/patch`): its
/// manifest (pinned version, `lockdep`) and the embedded sources; returns its directory,
/// named after what is in it, so that it is written once.
///
/// # Errors
///
/// When it cannot be written, naming the file.
pub(crate) fn write(
    dir: &Path,
    replacement: &Replacement,
    lockdep: &Lockdep,
) -> Result<PathBuf, String> {
    let (_, embedded_dir) = embedded::PATCHES
        .iter()
        .find(|(minor, _)| *minor == replacement.minor)
        .expect("a replacement is of a patch lockdep has");
    let template = embedded::file(&format!("{embedded_dir}/Cargo.toml"))
        .and_then(|m| std::str::from_utf8(m).ok())
        .expect("the patches' manifests are embedded");
    let manifest = manifest(template, &replacement.locked, lockdep);
    let prefix = format!("{embedded_dir}/");
    let mut files = vec![("Cargo.toml".to_owned(), manifest.clone().into_bytes())];
    files.extend(embedded::FILES.iter().filter_map(|&(path, contents)| {
        let rel = path.strip_prefix(&prefix)?;
        (rel != "Cargo.toml").then(|| (rel.to_owned(), contents.to_vec()))
    }));
    let root = dir.join(format!(
        "parking_lot-{}-{:016x}",
        replacement.locked,
        fnv(&[embedded::HASH.as_bytes(), manifest.as_bytes()])
    ));
    embedded::write_once(&root, files)
        .map_err(|e| format!("cannot write the parking_lot patch: {e}"))?;
    Ok(root)
}

/// The cargo configuration of a run: the patches (`[patch.crates-io]`, by directory) and the
/// crates built optimised (`[profile.dev.package.*]`).
pub(crate) fn config(patches: &[(&Replacement, PathBuf)], optimised: &[&str]) -> String {
    let mut out = String::new();
    if !patches.is_empty() {
        out.push_str("[patch.crates-io]\n");
        for (i, (r, dir)) in patches.iter().enumerate() {
            let path = quote(&dir.display().to_string());
            // Two versions of one package are patched under two names.
            if i == 0 {
                let _ = writeln!(out, "parking_lot = {{ path = {path} }}");
            } else {
                let key = format!("parking_lot_{}", r.minor.replace('.', "_"));
                let _ = writeln!(
                    out,
                    "{key} = {{ path = {path}, package = \"parking_lot\" }}"
                );
            }
        }
    }
    for name in optimised {
        let _ = writeln!(
            out,
            "\n[profile.dev.package.{}]\nopt-level = 3",
            quote(name)
        );
    }
    out
}

/// `s` as a TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// FNV-1a of `parts`.
pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for part in parts {
        for &b in *part {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use crate::lockfile::Locked;
    use crate::patch::{config, manifest, plan, Lockdep, Replacement};
    use std::path::{Path, PathBuf};

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn locked(name: &str, version: &str, source: Option<&str>) -> Locked {
        Locked {
            name: name.into(),
            version: version.into(),
            source: source.map(str::to_owned),
        }
    }

    #[test]
    fn each_patched_minor_version_is_replaced_at_its_pinned_version() {
        let (replaced, notes) = plan(&[
            locked("parking_lot", "0.12.3", Some(CRATES_IO)),
            locked("parking_lot_core", "0.9.10", Some(CRATES_IO)),
            locked("parking_lot", "0.13.0", Some(CRATES_IO)),
            locked("parking_lot", "0.11.2", Some(CRATES_IO)),
        ]);
        assert_eq!(
            replaced
                .iter()
                .map(|r| (r.locked.as_str(), r.minor))
                .collect::<Vec<_>>(),
            [("0.12.3", "0.12"), ("0.13.0", "0.13")]
        );
        assert_eq!(
            replaced[0].describe(),
            "parking_lot 0.12.3 → lockdep's parking_lot 0.12.5 patch"
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with(
            "parking_lot 0.11.2 is left as it is: lockdep has patches for 0.12 and 0.13 only"
        ));
    }

    #[test]
    fn packages_not_is_from_crates_io_and_second_versions_are_left_and_said() {
        let (replaced, notes) = plan(&[
            locked("parking_lot", "0.12.1", Some(CRATES_IO)),
            locked("parking_lot", "0.12.4", Some(CRATES_IO)),
            locked(
                "parking_lot",
                "0.12.2",
                Some("git+https://example.com/pl#abc"),
            ),
        ]);
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].locked, "0.12.4");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("0.12.1 is left as it is")));
        assert!(notes.iter().any(|n| n.contains("not from crates.io")));
        assert!(plan(&[]).0.is_empty());
    }

    #[test]
    fn the_patch_manifest_pins_the_version_and_names_the_lockdep() {
        let template = "[package]\nname = \"parking_lot\"\nversion = \"0.12.5\"\n\n\
                        [dependencies]\nlockdep = { path = \"../..\", features = [\"enabled\"] }\n\
                        parking_lot_core = { version = \"0.9\", optional = true }\n";
        let text = manifest(
            template,
            "0.12.3",
            &Lockdep::Path(PathBuf::from("/w/lock\"dep")),
        );
        assert!(text.contains("version = \"0.12.3\"\n"), "{text}");
        assert!(!text.contains("0.12.5"), "{text}");
        assert!(
            text.contains("lockdep = { path = \"/w/lock\\\"dep\", features = [\"enabled\"] }\n")
        );
        assert!(text.contains("parking_lot_core = { version = \"0.9\", optional = true }"));
        let registry = manifest(template, "0.12.3", &Lockdep::Version("0.1.0".into()));
        assert!(registry.contains("lockdep = { version = \"=0.1.0\", features = [\"enabled\"] }"));
    }

    #[test]
    fn the_workspace_s_lockdep_is_named_by_its_source() {
        let manifest_path = Path::new("/w/lockdep/Cargo.toml");
        assert_eq!(
            Lockdep::of_package(None, "0.1.0", manifest_path),
            Some(Lockdep::Path(PathBuf::from("/w/lockdep")))
        );
        assert_eq!(
            Lockdep::of_package(Some(CRATES_IO), "0.1.0", manifest_path),
            Some(Lockdep::Version("0.1.0".into()))
        );
        assert_eq!(
            Lockdep::of_package(
                Some("git+https://github.com/o/lockdep?branch=main#0123abc"),
                "0.1.0",
                manifest_path
            ),
            Some(Lockdep::Git {
                url: "https://github.com/o/lockdep".into(),
                rev: "0123abc".into()
            })
        );
    }

    #[test]
    fn the_configuration_patches_and_optimises() {
        let (r12, r13) = (
            Replacement {
                locked: "0.12.3".into(),
                minor: "0.12",
                patch_version: "0.12.5".into(),
            },
            Replacement {
                locked: "0.13.0".into(),
                minor: "0.13",
                patch_version: "0.13.0".into(),
            },
        );
        let text = config(
            &[(&r12, PathBuf::from("/t/a")), (&r13, PathBuf::from("/t/b"))],
            &["lockdep-core", "lock_api"],
        );
        assert_eq!(
            text,
            "[patch.crates-io]\n\
             parking_lot = { path = \"/t/a\" }\n\
             parking_lot_0_13 = { path = \"/t/b\", package = \"parking_lot\" }\n\
             \n[profile.dev.package.\"lockdep-core\"]\nopt-level = 3\n\
             \n[profile.dev.package.\"lock_api\"]\nopt-level = 3\n"
        );
    }
}
