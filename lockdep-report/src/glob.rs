//! The patterns of a suppression's `classes`: `*` matches any run of characters (`/`
//! included), `?` one character, `\` makes the next character stand for itself.

use std::fmt;

/// A class-name pattern.
///
/// # Examples
///
/// ```
/// use lockdep_report::Glob;
///
/// let glob = Glob::new("somecrate-1.*/src/*").unwrap();
/// assert!(glob.matches("somecrate-1.4.2/src/pool/mod.rs:10:5 Mutex<Vec<u8>>"));
/// assert!(!glob.matches("othercrate-1.0.0/src/lib.rs:1:1"));
/// assert!(Glob::new("src/a.rs:1?:5").unwrap().matches("src/a.rs:12:5"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Token {
    Char(char),
    One,
    Any,
}

impl Glob {
    /// The pattern `pattern`.
    ///
    /// # Errors
    ///
    /// A message when the pattern ends with a lone `\` (which escapes nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::Glob;
    /// assert!(Glob::new(r"a\*b").unwrap().matches("a*b"));
    /// assert!(Glob::new(r"ends with \").is_err());
    /// ```
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Any,
                '?' => Token::One,
                '\\' => match chars.next() {
                    Some(escaped) => Token::Char(escaped),
                    None => {
                        return Err(format!(
                            "the pattern {pattern:?} ends with a `\\` that escapes nothing \
                             (write `\\\\` for a backslash)"
                        ))
                    }
                },
                c => Token::Char(c),
            });
        }
        Ok(Glob {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// A pattern that matches `name` alone: its `*`, `?` and `\` escaped.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_report::Glob;
    /// let name = "src/raw.rs:3:9 <*const u8>";
    /// assert_eq!(Glob::escape(name), r"src/raw.rs:3:9 <\*const u8>");
    /// let glob = Glob::new(&Glob::escape(name)).unwrap();
    /// assert!(glob.matches(name));
    /// assert!(!glob.matches("src/raw.rs:3:9 <XXconst u8>"));
    /// ```
    pub fn escape(name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            if matches!(c, '*' | '?' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let (mut t, mut n) = (0, 0);
        // Where the last `*` was, and how much of the name it has taken so far.
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            match self.tokens.get(t) {
                Some(Token::Any) => {
                    star = Some((t, n));
                    t += 1;
                }
                Some(Token::One) => {
                    t += 1;
                    n += 1;
                }
                Some(&Token::Char(c)) if c == name[n] => {
                    t += 1;
                    n += 1;
                }
                _ => match star {
                    // Let the last `*` take one more character, and try again after it.
                    Some((star_t, star_n)) => {
                        star = Some((star_t, star_n + 1));
                        t = star_t + 1;
                        n = star_n + 1;
                    }
                    None => return false,
                },
            }
        }
        self.tokens[t..].iter().all(|&token| token == Token::Any)
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use crate::Glob;

    fn matches(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).unwrap().matches(name)
    }

    #[test]
    fn a_star_matches_any_run_slashes_included() {
        assert!(matches(
            "src/cache.rs:*",
            "src/cache.rs:10:5 Mutex<Vec<u8>>"
        ));
        assert!(matches("*", ""));
        assert!(matches("*", "a/b/c"));
        assert!(matches("a*", "a"));
        assert!(matches("*/src/*", "dep-1.0.0/src/lib.rs:1:1"));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(matches("a**c", "abc"));
        assert!(!matches("a*b", "a-c"));
        assert!(!matches("src/*", "tests/src/x"));
    }

    #[test]
    fn a_question_mark_matches_one_character() {
        assert!(matches("a?c", "abc"));
        assert!(matches("a?c", "a/c"));
        assert!(matches("?", "é"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("a?c", "abbc"));
    }

    #[test]
    fn without_wildcards_a_pattern_is_the_name_itself() {
        assert!(matches("index", "index"));
        assert!(!matches("index", "index2"));
        assert!(!matches("index", "inde"));
        assert!(!matches("", "x"));
        assert!(matches("", ""));
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert!(matches(r"a\*", "a*"));
        assert!(!matches(r"a\*", "ab"));
        assert!(matches(r"a\?b", "a?b"));
        assert!(!matches(r"a\?b", "axb"));
        assert!(matches(r"a\\b", r"a\b"));
        for name in [r"we\ird*na?me", "*", "?", r"\", "plain"] {
            assert!(matches(&Glob::escape(name), name), "{name}");
        }
        assert!(!matches(&Glob::escape("a*"), "abc"));
    }
}
