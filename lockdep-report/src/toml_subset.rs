//! The part of TOML that a suppression file is written in: comments, `[table]` and
//! `[[array-of-tables]]` headers, and `key = value` pairs whose value is a string (basic
//! `"…"` with TOML's escapes, or literal `'…'`) or an array of strings (over several lines,
//! with comments and a trailing comma). Anything else is an error that names its line:
//! lockdep reads this file in every test process, and depends on nothing.

use std::fmt;

/// A parsed document: its tables in order, the keys before the first header first (as a
/// table with no name).
#[derive(Debug, PartialEq)]
pub(crate) struct Document {
    pub(crate) tables: Vec<Table>,
}

/// A table of the document.
#[derive(Debug, PartialEq)]
pub(crate) struct Table {
    /// Its name (`""` for the keys before any header).
    pub(crate) name: String,
    /// `[[name]]` rather than `[name]`.
    pub(crate) array: bool,
    /// The line of its header (1-based; 1 for the keys before any header).
    pub(crate) line: usize,
    pub(crate) entries: Vec<Entry>,
}

/// `key = value`.
#[derive(Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) value: Value,
    /// The line the key is on.
    pub(crate) line: usize,
}

/// A value of the subset.
#[derive(Debug, PartialEq)]
pub(crate) enum Value {
    String(String),
    /// Strings, each with the line it is on.
    Array(Vec<(String, usize)>),
}

/// What is wrong, and on which line (1-based).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Error {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses `text`.
///
/// # Errors
///
/// The first line that is not of the subset, or not TOML: an unclosed string or array, a
/// key given twice in a table, a value of another type, text after a value.
pub(crate) fn parse(text: &str) -> Result<Document, Error> {
    Parser {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
    }
    .document()
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    line: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, Error> {
        Err(Error {
            line: self.line,
            message: message.into(),
        })
    }

    /// Spaces and tabs.
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Blanks, then a comment or nothing, then the end of the line (or of the text).
    fn end_of_line(&mut self, after: &str) -> Result<(), Error> {
        self.blanks();
        if self.peek() == Some('#') {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        }
        match self.peek() {
            None => Ok(()),
            Some('\n') => {
                self.bump();
                Ok(())
            }
            Some('\r') if self.chars.get(self.at + 1) == Some(&'\n') => {
                self.bump();
                self.bump();
                Ok(())
            }
            Some(c) => self.error(format!("unexpected {c:?} after {after}")),
        }
    }

    /// Blanks, comments and line ends (between the values of an array).
    fn blank_lines(&mut self) {
        loop {
            self.blanks();
            match self.peek() {
                Some('#') => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                Some('\n' | '\r') => {
                    self.bump();
                }
                _ => return,
            }
        }
    }

    fn document(mut self) -> Result<Document, Error> {
        let mut tables = vec![Table {
            name: String::new(),
            array: false,
            line: 1,
            entries: Vec::new(),
        }];
        loop {
            self.blank_lines();
            match self.peek() {
                None => break,
                Some('[') => tables.push(self.header()?),
                Some(_) => {
                    let entry = self.entry()?;
                    let table = tables.last_mut().expect("there is always a table");
                    if table.entries.iter().any(|e| e.key == entry.key) {
                        return Err(Error {
                            line: entry.line,
                            message: format!("`{}` is given twice in this table", entry.key),
                        });
                    }
                    table.entries.push(entry);
                }
            }
        }
        if tables[0].entries.is_empty() {
            tables.remove(0);
        }
        Ok(Document { tables })
    }

    fn header(&mut self) -> Result<Table, Error> {
        let line = self.line;
        self.bump();
        let array = self.peek() == Some('[');
        if array {
            self.bump();
        }
        self.blanks();
        let name = self.key()?;
        self.blanks();
        let close = if array { "]]" } else { "]" };
        for expected in close.chars() {
            if self.peek() != Some(expected) {
                return self.error(format!("a table header must end with `{close}`"));
            }
            self.bump();
        }
        self.end_of_line("a table header")?;
        Ok(Table {
            name,
            array,
            line,
            entries: Vec::new(),
        })
    }

    /// A bare key (`A-Za-z0-9_-`) or a quoted one; dotted keys are not of the subset.
    fn key(&mut self) -> Result<String, Error> {
        let key = match self.peek() {
            Some('"') => self.basic_string()?,
            Some('\'') => self.literal_string()?,
            _ => {
                let mut key = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                {
                    key.push(c);
                    self.bump();
                }
                if key.is_empty() {
                    return match self.peek() {
                        Some(c) => self.error(format!("expected a key, found {c:?}")),
                        None => self.error("expected a key, found the end of the file"),
                    };
                }
                key
            }
        };
        self.blanks();
        if self.peek() == Some('.') {
            return self.error("dotted keys are not supported in this file");
        }
        Ok(key)
    }

    fn entry(&mut self) -> Result<Entry, Error> {
        let line = self.line;
        let key = self.key()?;
        self.blanks();
        if self.peek() != Some('=') {
            return self.error(format!("expected `=` after the key `{key}`"));
        }
        self.bump();
        self.blanks();
        let value = self.value(&key)?;
        self.end_of_line(&format!("the value of `{key}`"))?;
        Ok(Entry { key, value, line })
    }

    fn value(&mut self, key: &str) -> Result<Value, Error> {
        match self.peek() {
            Some('"' | '\'') => Ok(Value::String(self.string()?)),
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.blank_lines();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            return Ok(Value::Array(items));
                        }
                        Some('"' | '\'') => {
                            let line = self.line;
                            items.push((self.string()?, line));
                            self.blank_lines();
                            match self.peek() {
                                Some(',') => {
                                    self.bump();
                                }
                                Some(']') => {}
                                None => break,
                                Some(c) => {
                                    return self.error(format!(
                                        "expected `,` or `]` in the array of `{key}`, found {c:?}"
                                    ))
                                }
                            }
                        }
                        None => break,
                        Some(_) => {
                            return self
                                .error(format!("the array of `{key}` may hold only strings"))
                        }
                    }
                }
                self.error(format!("the array of `{key}` is not closed (`]`)"))
            }
            None | Some('\n' | '\r' | '#') => self.error(format!("`{key}` has no value")),
            Some(_) => self.error(format!(
                "the value of `{key}` must be a string or an array of strings"
            )),
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        let quote = self.peek();
        let triple = (0..3).all(|i| self.chars.get(self.at + i).copied() == quote);
        if triple {
            return self.error("multi-line strings are not supported in this file");
        }
        match quote {
            Some('"') => self.basic_string(),
            _ => self.literal_string(),
        }
    }

    /// `'…'`: no escapes.
    fn literal_string(&mut self) -> Result<String, Error> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('\'') => {
                    self.bump();
                    return Ok(out);
                }
                None | Some('\n') => return self.error("a string is not closed (`'`)"),
                Some(c) => {
                    out.push(c);
                    self.bump();
                }
            }
        }
    }

    /// `"…"`, with TOML's escapes.
    fn basic_string(&mut self) -> Result<String, Error> {
        self.bump();
        let mut out = String::new();
        loop {
            let c = match self.peek() {
                None | Some('\n') => return self.error("a string is not closed (`\"`)"),
                Some(c) => c,
            };
            self.bump();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let c = match self.bump() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some(u @ ('u' | 'U')) => {
                            self.unicode_escape(if u == 'u' { 4 } else { 8 })?
                        }
                        Some(other) => {
                            return self.error(format!(
                                "unknown escape `\\{other}` in a string (a backslash in a \
                                 \"…\" string is written `\\\\`)"
                            ))
                        }
                        None => return self.error("a string is not closed (`\"`)"),
                    };
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self, digits: usize) -> Result<char, Error> {
        let mut code = 0u32;
        for _ in 0..digits {
            match self.bump().and_then(|c| c.to_digit(16)) {
                Some(d) => code = code * 16 + d,
                None => return self.error(format!("`\\u` needs {digits} hexadecimal digits")),
            }
        }
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.error(format!("`{code:#x}` is not a Unicode scalar value")),
        }
    }
}

/// `s` as a TOML basic string, quotes included.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use crate::toml_subset::{parse, quote, Entry, Error, Table, Value};

    fn error(text: &str) -> Error {
        parse(text).unwrap_err()
    }

    #[test]
    fn tables_keys_strings_and_arrays() {
        let doc = parse(
            "# suppressions\n\
             \n\
             [[suppress]]  # first\n\
             reason = \"a \\\"quoted\\\" \\\\ \\u00e9\"\n\
             classes = [\n  'src/a.rs:*', # a comment\n  \"b\",\n]\n\
             [[suppress]]\r\n\
             \"reason\" = 'x'\r\n\
             classes=[]\n",
        )
        .unwrap();
        assert_eq!(
            doc.tables,
            [
                Table {
                    name: "suppress".into(),
                    array: true,
                    line: 3,
                    entries: vec![
                        Entry {
                            key: "reason".into(),
                            value: Value::String("a \"quoted\" \\ é".into()),
                            line: 4,
                        },
                        Entry {
                            key: "classes".into(),
                            value: Value::Array(vec![("src/a.rs:*".into(), 6), ("b".into(), 7)]),
                            line: 5,
                        },
                    ],
                },
                Table {
                    name: "suppress".into(),
                    array: true,
                    line: 9,
                    entries: vec![
                        Entry {
                            key: "reason".into(),
                            value: Value::String("x".into()),
                            line: 10,
                        },
                        Entry {
                            key: "classes".into(),
                            value: Value::Array(Vec::new()),
                            line: 11,
                        },
                    ],
                },
            ]
        );
    }

    #[test]
    fn keys_before_any_header_are_a_table_without_a_name() {
        let doc = parse("a = 'b'\n[t]\n").unwrap();
        assert_eq!(doc.tables[0].name, "");
        assert_eq!(doc.tables[1].name, "t");
        assert!(!doc.tables[1].array);
        assert!(parse("").unwrap().tables.is_empty());
        assert!(parse("# only a comment\n\n").unwrap().tables.is_empty());
    }

    #[test]
    fn errors_name_their_line_and_what_is_wrong() {
        let e = error("[[suppress]]\nreason = \"open\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not closed"), "{e}");
        let e = error("[[suppress]]\nclasses = [\"a\"\nreason = 'x'\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("expected `,` or `]`"), "{e}");
        let e = error("[[suppress]\n");
        assert_eq!((e.line, e.message.contains("`]]`")), (1, true), "{e}");
        let e = error("\n\nreason = 1\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("must be a string"), "{e}");
        let e = error("reason = 'a' 'b'\n");
        assert!(e.message.contains("after the value of `reason`"), "{e}");
        let e = error("a = 'x'\na = 'y'\n");
        assert_eq!((e.line, e.message.contains("twice")), (2, true), "{e}");
        let e = error("a.b = 'x'\n");
        assert!(e.message.contains("dotted keys"), "{e}");
        let e = error("a = \"\"\"x\"\"\"\n");
        assert!(e.message.contains("multi-line"), "{e}");
        let e = error("a = \"c:\\dir\"\n");
        assert!(e.message.contains("unknown escape `\\d`"), "{e}");
        let e = error("a = ['x', 2]\n");
        assert!(e.message.contains("only strings"), "{e}");
        let e = error("a = ['x',\n");
        assert!(e.message.contains("not closed"), "{e}");
        let e = error("a =\n");
        assert!(e.message.contains("has no value"), "{e}");
        assert_eq!(e.to_string(), "line 1: `a` has no value");
    }

    #[test]
    fn quoted_strings_read_back_as_written() {
        for s in ["plain", "a \"b\" \\ c", "tab\there", "é ✓", "\u{1}"] {
            let doc = parse(&format!("k = {}\n", quote(s))).unwrap();
            assert_eq!(doc.tables[0].entries[0].value, Value::String(s.into()));
        }
    }
}
