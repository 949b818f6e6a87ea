//! lockdep's tests (`tests/`) and benchmarks (`benches/`), in a package of their own so that
//! building lockdep, or running one of its examples, builds none of their dev-dependencies
//! (criterion, proptest, tokio's whole runtime, serde_json, ...). This library is empty.
