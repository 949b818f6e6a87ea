//! Embeds the sources of lockdep's crates and of the `parking_lot` patch packages into
//! `cargo-lockdep`, so that `cargo lockdep test` can apply the patches with nothing but the
//! installed binary (`cargo install --path cargo-lockdep`, or `--git`): at run time they are
//! written under `<target>/lockdep/src/<hash>/` (see `src/embedded.rs`).
//!
//! The sources are the repository's, beside this package (a path or git install). A package
//! built from a registry has no repository around it: its build reads them from `vendor/`
//! inside the package instead, which `scripts/vendor-cargo-lockdep` fills before `cargo
//! package` (the repository's layout, each manifest as `Cargo.toml.vendored`).
//!
//! The copies are for building, not developing: their manifests lose what only the
//! repository's own builds need (dev-dependencies, benchmarks, profiles, the loom model
//! checker) and the workspace lists only the copied crates.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates copied (relative to the repository's root), each with its manifest and `src/`.
const CRATES: &[&str] = &[
    "",
    "lockdep-core",
    "lockdep-raw",
    "lockdep-mempool",
    "lockdep-report",
    "patches/parking_lot-0.12",
    "patches/parking_lot-0.13",
];

/// The workspace of the copy: the library crates (the patches are built by their users).
const WORKSPACE: &str = "[workspace]
members = [\"lockdep-raw\", \"lockdep-report\", \"lockdep-core\", \"lockdep-mempool\"]
exclude = [\"patches\"]
resolver = \"2\"
";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let repository = (manifest_dir.join(".."), "Cargo.toml");
    // Stored under another name: cargo leaves a directory with a `Cargo.toml` out of a package.
    let vendored = (manifest_dir.join("vendor"), "Cargo.toml.vendored");
    let (root, manifest_name) = [repository, vendored]
        .into_iter()
        .find(|(root, manifest)| {
            root.join("lockdep-core").join(manifest).is_file()
                && root
                    .join("patches/parking_lot-0.12")
                    .join(manifest)
                    .is_file()
        })
        .unwrap_or_else(|| {
            panic!(
                "cargo-lockdep embeds lockdep's sources and its parking_lot patches: found \
                 neither the repository around {} nor a vendor/ directory in it",
                manifest_dir.display()
            )
        });
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for krate in CRATES {
        let dir = root.join(krate);
        let prefix = if krate.is_empty() {
            String::new()
        } else {
            format!("{krate}/")
        };
        let manifest_path = dir.join(manifest_name);
        println!("cargo:rerun-if-changed={}", manifest_path.display());
        let manifest = std::fs::read_to_string(&manifest_path).unwrap();
        files.push((
            format!("{prefix}Cargo.toml"),
            build_manifest(&manifest, krate.is_empty()).into_bytes(),
        ));
        let src = dir.join("src");
        println!("cargo:rerun-if-changed={}", src.display());
        let mut sources = Vec::new();
        walk(&src, &mut sources);
        sources.sort();
        for path in sources {
            let rel = path.strip_prefix(&dir).unwrap();
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((
                format!("{prefix}{}", rel.join("/")),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let blobs = out_dir.join("embedded");
    let _ = std::fs::remove_dir_all(&blobs);
    let mut code = String::from("/// The embedded files: path in the copy, contents.\n");
    code.push_str("pub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    let mut hash = Fnv::default();
    for (i, (path, contents)) in files.iter().enumerate() {
        hash.write(path.as_bytes());
        hash.write(&[0]);
        hash.write(contents);
        let blob = blobs.join(i.to_string());
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(&blob, contents).unwrap();
        let _ = writeln!(
            code,
            "    ({path:?}, include_bytes!({:?})),",
            blob.display().to_string()
        );
    }
    code.push_str("];\n");
    let _ = writeln!(
        code,
        "/// A hash of the embedded files, naming their copy.\npub(crate) const HASH: &str = \"{:016x}\";",
        hash.0
    );
    std::fs::write(out_dir.join("embedded.rs"), code).unwrap();
}

/// Every file under `dir`.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// A manifest for the copy: without its dev-dependencies, benchmarks, tests, examples,
/// profiles and loom target; the workspace root's `[workspace]` lists the copied crates.
fn build_manifest(manifest: &str, workspace_root: bool) -> String {
    let mut out = String::new();
    let mut keep = true;
    for line in manifest.lines() {
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_start_matches('[');
            let name = header.split(']').next().unwrap_or_default().trim();
            keep = !(name == "dev-dependencies"
                || name == "bench"
                || name == "test"
                || name == "example"
                || name == "workspace"
                || name.starts_with("profile")
                || name.contains("cfg(loom)"));
            if name == "workspace" && workspace_root {
                out.push_str(WORKSPACE);
            }
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
