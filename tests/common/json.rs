//! A small strict JSON parser for the tests (the library has no JSON dependency, and its
//! output must be valid JSON for any reader, not only for a lenient one).

/// A JSON value, from a small strict parser (RFC 8259 grammar; numbers kept as text).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no field {key:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => panic!("not an array: {self:?}"),
        }
    }
    /// The field `key`, if the object has one.
    pub fn field(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => panic!("not an object: {self:?}"),
        }
    }
    /// The names of an object's fields, in order.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Json::Obj(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("not an object: {self:?}"),
        }
    }
    pub fn is_null(&self) -> bool {
        *self == Json::Null
    }
    pub fn num(&self) -> u64 {
        match self {
            Json::Num(n) => n.parse().expect("an integer"),
            _ => panic!("not a number: {self:?}"),
        }
    }
}

/// Parses a whole JSON text, panicking with the position of the first error.
pub fn parse_json(text: &str) -> Json {
    struct P<'a> {
        s: &'a [u8],
        i: usize,
    }
    impl P<'_> {
        fn fail(&self, what: &str) -> ! {
            let from = self.i.saturating_sub(40);
            let to = (self.i + 40).min(self.s.len());
            panic!(
                "invalid JSON at {}: {what}: ...{}...",
                self.i,
                String::from_utf8_lossy(&self.s[from..to])
            )
        }
        fn ws(&mut self) {
            while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) {
            self.ws();
            if self.s.get(self.i) != Some(&c) {
                self.fail(&format!("expected {:?}", c as char));
            }
            self.i += 1;
        }
        fn lit(&mut self, word: &str, v: Json) -> Json {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                v
            } else {
                self.fail("bad literal")
            }
        }
        fn value(&mut self) -> Json {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Json::Obj(fields);
                    }
                    loop {
                        self.ws();
                        let k = self.string();
                        self.eat(b':');
                        fields.push((k, self.value()));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Json::Obj(fields);
                            }
                            _ => self.fail("expected , or }"),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Json::Arr(items);
                    }
                    loop {
                        items.push(self.value());
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Json::Arr(items);
                            }
                            _ => self.fail("expected , or ]"),
                        }
                    }
                }
                Some(b'"') => Json::Str(self.string()),
                Some(b't') => self.lit("true", Json::Bool(true)),
                Some(b'f') => self.lit("false", Json::Bool(false)),
                Some(b'n') => self.lit("null", Json::Null),
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    if self.s[self.i] == b'-' {
                        self.i += 1;
                    }
                    let digits = |p: &mut Self| {
                        let d = p.i;
                        while p.s.get(p.i).is_some_and(u8::is_ascii_digit) {
                            p.i += 1;
                        }
                        if p.i == d {
                            p.fail("expected digits");
                        }
                    };
                    if self.s.get(self.i) == Some(&b'0') {
                        self.i += 1;
                    } else {
                        digits(self);
                    }
                    if self.s.get(self.i) == Some(&b'.') {
                        self.i += 1;
                        digits(self);
                    }
                    if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                        self.i += 1;
                        if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                            self.i += 1;
                        }
                        digits(self);
                    }
                    Json::Num(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
                }
                _ => self.fail("expected a value"),
            }
        }
        fn string(&mut self) -> String {
            if self.s.get(self.i) != Some(&b'"') {
                self.fail("expected a string");
            }
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let Some(&c) = self.s.get(self.i) else {
                    self.fail("unterminated string")
                };
                self.i += 1;
                match c {
                    b'"' => return String::from_utf8(out).expect("UTF-8"),
                    b'\\' => {
                        let e = self.s.get(self.i).copied();
                        self.i += 1;
                        match e {
                            Some(b'"') => out.push(b'"'),
                            Some(b'\\') => out.push(b'\\'),
                            Some(b'/') => out.push(b'/'),
                            Some(b'b') => out.push(8),
                            Some(b'f') => out.push(12),
                            Some(b'n') => out.push(b'\n'),
                            Some(b'r') => out.push(b'\r'),
                            Some(b't') => out.push(b'\t'),
                            Some(b'u') => {
                                let hex = self.s.get(self.i..self.i + 4).unwrap_or_default();
                                let hex = std::str::from_utf8(hex).unwrap_or("");
                                let code = u32::from_str_radix(hex, 16)
                                    .unwrap_or_else(|_| self.fail("bad \\u escape"));
                                self.i += 4;
                                let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                                out.extend_from_slice(ch.to_string().as_bytes());
                            }
                            _ => self.fail("bad escape"),
                        }
                    }
                    c if c < 0x20 => self.fail("control character in a string"),
                    c => out.push(c),
                }
            }
        }
    }
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value();
    p.ws();
    if p.i != p.s.len() {
        p.fail("trailing characters");
    }
    v
}
