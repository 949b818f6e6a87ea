//! Type names as people read them.

/// A creation-site class's name with its type, as reports and merged reports print it:
/// `src/bank.rs:40:20 Mutex<Ledger>` for `("src/bank.rs:40:20",
/// "lockdep_core::shape::Mutex<bank::Ledger>")` (the checker names a class by a stand-in of its
/// lock type around its data type).
pub fn with_data_type(name: &str, data_type: &str) -> String {
    format!("{name} {}", short_type(data_type))
}

/// A type name without its module paths: `Vec<u8>` for `alloc::vec::Vec<u8>`.
fn short_type(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(last_segment(&segment));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(last_segment(&segment));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::type_name::{short_type, with_data_type};

    #[test]
    fn type_names_lose_their_module_paths() {
        assert_eq!(short_type("alloc::vec::Vec<u8>"), "Vec<u8>");
        assert_eq!(
            short_type("std::collections::hash::map::HashMap<u64, alloc::string::String>"),
            "HashMap<u64, String>"
        );
        assert_eq!(
            short_type("(u8, [core::cell::Cell<i32>; 4])"),
            "(u8, [Cell<i32>; 4])"
        );
        assert_eq!(short_type("()"), "()");
        assert_eq!(short_type("dyn core::any::Any + Send"), "dyn Any + Send");
    }

    #[test]
    fn a_name_with_its_data_type() {
        assert_eq!(
            with_data_type(
                "src/bank.rs:40:20",
                "lockdep_core::shape::Mutex<bank::Ledger>"
            ),
            "src/bank.rs:40:20 Mutex<Ledger>"
        );
        assert_eq!(
            with_data_type("src/h.rs:3:5", "alloc::vec::Vec<u8>"),
            "src/h.rs:3:5 Vec<u8>"
        );
    }
}
