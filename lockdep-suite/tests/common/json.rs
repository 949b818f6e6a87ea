//! JSON for the tests, read with serde_json (strict: the library's output must be valid JSON
//! for any reader, not only for a lenient one), its object fields kept in document order so
//! that a test can check the order the schema gives.

pub use serde_json::Value as Json;

/// Parses a whole JSON text, panicking with serde_json's error and the text.
pub fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

/// What the tests read of a value, panicking with the value where it is not what they expect.
pub trait JsonExt {
    /// The field `key` of an object.
    fn at(&self, key: &str) -> &Json;
    /// The field `key`, if the object has one.
    fn field(&self, key: &str) -> Option<&Json>;
    /// The names of an object's fields, in order.
    fn keys(&self) -> Vec<&str>;
    fn str(&self) -> &str;
    fn arr(&self) -> &[Json];
    fn num(&self) -> u64;
}

impl JsonExt for Json {
    fn at(&self, key: &str) -> &Json {
        self.field(key)
            .unwrap_or_else(|| panic!("no field {key:?} in {self}"))
    }
    fn field(&self, key: &str) -> Option<&Json> {
        self.as_object()
            .unwrap_or_else(|| panic!("not an object: {self}"))
            .get(key)
    }
    fn keys(&self) -> Vec<&str> {
        self.as_object()
            .unwrap_or_else(|| panic!("not an object: {self}"))
            .keys()
            .map(String::as_str)
            .collect()
    }
    fn str(&self) -> &str {
        self.as_str()
            .unwrap_or_else(|| panic!("not a string: {self}"))
    }
    fn arr(&self) -> &[Json] {
        self.as_array()
            .unwrap_or_else(|| panic!("not an array: {self}"))
    }
    fn num(&self) -> u64 {
        self.as_u64()
            .unwrap_or_else(|| panic!("not an unsigned integer: {self}"))
    }
}
