//! lockdep's tests (`tests/`) and benchmarks (`benches/`), in a package of their own so that
//! building lockdep, or running one of its examples, builds none of their dev-dependencies
//! (criterion, proptest, tokio's whole runtime, serde_json, ...).
//!
//! The library holds one thing: the README's and the user guide's (`book/src`) Rust code
//! blocks, as doctests (`cargo test -p lockdep-suite --doc`, with `--features tokio` for the
//! async ones), so that what the documents show compiles and runs against this lockdep.
//! `tests/book.rs` checks their links.

/// Generates one hidden module per document, whose doc comment is the document.
macro_rules! documents {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[doc = include_str!($path)]
            #[doc(hidden)]
            pub mod $name {}
        )*
    };
}

/// The README, whose async quick start needs the `tokio` feature (CI runs the doctests with it).
#[cfg_attr(feature = "tokio", doc = include_str!("../../README.md"))]
#[doc(hidden)]
pub mod readme {}

documents! {
    introduction => "../../book/src/introduction.md",
    concepts => "../../book/src/concepts.md",
    names => "../../book/src/names.md",
    std_drop_in => "../../book/src/std.md",
    parking_lot_drop_in => "../../book/src/parking-lot.md",
    async_tasks => "../../book/src/async.md",
    mempools => "../../book/src/mempools.md",
    waits => "../../book/src/waits.md",
    ci => "../../book/src/ci.md",
    cargo_lockdep => "../../book/src/cargo-lockdep.md",
    merge => "../../book/src/merge.md",
    suppressions => "../../book/src/suppressions.md",
    reading_a_report => "../../book/src/reading-a-report.md",
    watchdog => "../../book/src/watchdog.md",
    kernel => "../../book/src/kernel.md",
    performance => "../../book/src/performance.md",
    json => "../../book/src/json.md",
}
