//! The user guide (`book/`) and the README hold together: every chapter is in `SUMMARY.md`
//! and every entry of it is a file; every relative link of the README, ARCHITECTURE.md and
//! the book names a file that exists, and a heading of it when it has an anchor; and every
//! chapter's code blocks are compiled as doctests (`src/lib.rs` includes each one). CI also
//! builds the book with mdBook (`.ci/run`); this test needs nothing but the files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn book() -> PathBuf {
    repo().join("book/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The chapters: every Markdown file of `book/src` but the summary.
fn chapters() -> BTreeSet<String> {
    std::fs::read_dir(book())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".md") && name != "SUMMARY.md")
        .collect()
}

/// The text of `markdown` outside its fenced code blocks, line by line (with line numbers).
fn prose(markdown: &str) -> Vec<(usize, &str)> {
    let mut inside = false;
    let mut lines = Vec::new();
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if !inside {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The targets of the inline links (`[text](target)`) and reference definitions
/// (`[name]: target`) of a line, inline code left out.
fn links(line: &str) -> Vec<String> {
    let mut text = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            text.push_str(part);
        }
    }
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        found.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    let trimmed = text.trim_start();
    if let Some(close) = trimmed.strip_prefix('[').and_then(|t| t.find("]: ")) {
        let target = trimmed[close + 4..].split_whitespace().next().unwrap_or("");
        found.push(target.to_string());
    }
    found
}

/// A heading's anchor as mdBook and GitHub make it: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    prose(markdown)
        .into_iter()
        .filter_map(|(_, line)| line.strip_prefix('#'))
        .map(|h| slug(h.trim_start_matches('#')))
        .collect()
}

/// The broken relative links of the Markdown file `path`.
fn broken_links(path: &Path) -> Vec<String> {
    let text = read(path);
    let dir = path.parent().unwrap();
    let mut broken = Vec::new();
    for (line_no, line) in prose(&text) {
        for target in links(line) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                path.to_owned()
            } else {
                dir.join(file)
            };
            let here = format!("{}:{line_no}: {target}", path.display());
            if !resolved.exists() {
                broken.push(format!("{here}: no such file"));
            } else if let Some(anchor) = anchor {
                if resolved.extension().is_some_and(|e| e == "md")
                    && !anchors(&read(&resolved)).contains(anchor)
                {
                    broken.push(format!("{here}: no such heading"));
                }
            }
        }
    }
    broken
}

#[test]
fn the_summary_lists_every_chapter_and_only_chapters() {
    let summary = read(&book().join("SUMMARY.md"));
    let listed: BTreeSet<String> = prose(&summary)
        .into_iter()
        .flat_map(|(_, line)| links(line))
        .collect();
    assert_eq!(
        listed,
        chapters(),
        "book/src/SUMMARY.md against book/src/*.md"
    );
}

#[test]
fn every_relative_link_resolves() {
    let mut files = vec![repo().join("README.md"), repo().join("ARCHITECTURE.md")];
    files.extend(chapters().iter().map(|c| book().join(c)));
    files.push(book().join("SUMMARY.md"));
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links(f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_document_is_compiled_as_doctests() {
    let lib = read(&repo().join("lockdep-suite/src/lib.rs"));
    let missing: Vec<String> = chapters()
        .into_iter()
        .filter(|c| !lib.contains(&format!("\"../../book/src/{c}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in lockdep-suite/src/lib.rs: {missing:?}"
    );
    assert!(lib.contains("\"../../README.md\""));
}

#[test]
fn the_link_checker_sees_a_broken_link_and_a_missing_heading() {
    let dir = repo().join("target").join("book-link-check");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.md");
    std::fs::write(
        &page,
        "# A page\n\n## Its part\n\n[ok](page.md#its-part) [ok](#a-page) `[not](a link)`\n\
         [gone](missing.md) [no heading](page.md#nowhere)\n\n```text\n[in code](missing.md)\n```\n\
         [ref]: other-missing.md\n",
    )
    .unwrap();
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 3, "{broken:?}");
    assert!(
        broken[0].ends_with("missing.md: no such file"),
        "{broken:?}"
    );
    assert!(
        broken[1].ends_with("page.md#nowhere: no such heading"),
        "{broken:?}"
    );
    assert!(
        broken[2].ends_with("other-missing.md: no such file"),
        "{broken:?}"
    );
}
