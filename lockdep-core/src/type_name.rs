//! Type names as people read them.

/// A type name without its module paths: `Vec<u8>` for `alloc::vec::Vec<u8>`. Reports name a
/// creation-site class by the type of its data when the site alone does not tell it apart.
pub fn short_type(full: &str) -> String {
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
    use super::short_type;

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
}
