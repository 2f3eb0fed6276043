//! A strict, small JSON reader (RFC 8259) for the few documents an OAuth client reads:
//! provider metadata, token responses, ID token claims, userinfo, its own config.
//!
//! Why not serde_json: it is the largest single item a client this size would ship, and
//! these documents need only lookups by name. Strictness is a feature here: a member name
//! that appears twice is an error (RFC 8259 §4 leaves it undefined, and "take the last"
//! lets an attacker who controls one copy win), nesting is bounded, and numbers are kept
//! as their validated text so that no float parser is linked in.

use super::text::{concat, decimal};

/// A parsed JSON value. Objects keep member order; names are unique.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, validated against the JSON grammar.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// How deep arrays and objects may nest before the document is refused.
const MAX_DEPTH: usize = 32;

impl Json {
    /// Parses a complete document; anything but whitespace after the value is an error.
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut reader = Reader { bytes: text.as_bytes(), pos: 0 };
        let value = reader.value(0)?;
        reader.skip_whitespace();
        if reader.pos != reader.bytes.len() {
            return Err(concat(&["unexpected text after the JSON value at byte ", &decimal(reader.pos as u64)]));
        }
        Ok(value)
    }

    /// The member `name` of an object; `None` for a missing member or a non-object.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a whole number, if it is one that fits in an `i64` (`3600`, `-5`;
    /// not `1.5`, `1e3` or `"3600"`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

/// Writes `value` as a JSON string literal, escaped.
pub fn write_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn error<T>(&self, what: &str) -> Result<T, String> {
        Err(concat(&[what, " at byte ", &decimal(self.pos as u64)]))
    }

    fn expect_literal(&mut self, literal: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(value)
        } else {
            self.error("invalid literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.skip_whitespace();
        match self.bytes.get(self.pos) {
            None => self.error("unexpected end of JSON"),
            Some(b'n') => self.expect_literal("null", Json::Null),
            Some(b't') => self.expect_literal("true", Json::Bool(true)),
            Some(b'f') => self.expect_literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') | Some(b'{') if depth >= MAX_DEPTH => self.error("JSON nested too deeply"),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_whitespace();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return self.error("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members: Vec<(String, Json)> = Vec::new();
                self.skip_whitespace();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_whitespace();
                    if self.bytes.get(self.pos) != Some(&b'"') {
                        return self.error("expected a member name");
                    }
                    let name = self.string()?;
                    if members.iter().any(|(k, _)| *k == name) {
                        return self.error("duplicate member name");
                    }
                    self.skip_whitespace();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return self.error("expected ':'");
                    }
                    self.pos += 1;
                    let value = self.value(depth + 1)?;
                    members.push((name, value));
                    self.skip_whitespace();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return self.error("expected ',' or '}'"),
                    }
                }
            }
            Some(_) => self.error("unexpected character"),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.error("invalid number"),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return self.error("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.error("invalid number");
            }
        }
        // The range holds only ASCII digits and signs, so it is valid UTF-8.
        let text = core::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        Ok(Json::Number(text.to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = match self.bytes.get(self.pos) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return self.error("invalid \\u escape"),
            };
            n = n * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go. The input is a &str, and runs
            // end only at ASCII bytes, so each run is valid UTF-8.
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(core::str::from_utf8(&self.bytes[run_start..self.pos]).unwrap_or_default());
            match self.bytes.get(self.pos) {
                None => return self.error("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let first = self.hex4()?;
                            let code = match first {
                                0xD800..=0xDBFF => {
                                    if !self.bytes[self.pos..].starts_with(b"\\u") {
                                        return self.error("unpaired surrogate");
                                    }
                                    self.pos += 2;
                                    let second = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&second) {
                                        return self.error("unpaired surrogate");
                                    }
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return self.error("unpaired surrogate"),
                                c => c,
                            };
                            // Every value built above is a valid scalar value.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                        _ => return self.error("invalid escape"),
                    };
                    out.push(escaped);
                    self.pos += 1;
                }
                Some(_) => return self.error("control character in string"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_token_response_shape() {
        let doc = Json::parse(
            r#" {"access_token":"a\u00e9\"b","expires_in":3600,"ok":true,"n":null,"aud":["x","y"],"f":-1.5e3} "#,
        )
        .unwrap();
        assert_eq!(doc.get("access_token").and_then(Json::as_str), Some("aé\"b"));
        assert_eq!(doc.get("expires_in").and_then(Json::as_i64), Some(3600));
        assert_eq!(doc.get("ok").and_then(Json::as_bool), Some(true));
        assert_eq!(doc.get("n"), Some(&Json::Null));
        assert_eq!(doc.get("f").and_then(Json::as_i64), None);
        assert_eq!(doc.get("missing"), None);
        assert!(matches!(doc.get("aud"), Some(Json::Array(items)) if items.len() == 2));
    }

    #[test]
    fn surrogate_pairs_decode_and_lone_ones_are_refused() {
        assert_eq!(Json::parse(r#""\ud83d\ude00""#).unwrap(), Json::String("😀".into()));
        assert!(Json::parse(r#""\ud83d""#).is_err());
        assert!(Json::parse(r#""\ude00""#).is_err());
        assert!(Json::parse(r#""\ud83d\u0041""#).is_err());
    }

    #[test]
    fn refuses_what_rfc8259_forbids_and_duplicate_names() {
        let bad = [
            "",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\" 1}",
            "{'a':1}",
            "01",
            "1.",
            "-",
            "1e",
            "+1",
            "\"tab\there\"",
            "\"\\x\"",
            "tru",
            "{} x",
            "{\"a\":1,\"a\":2}",
            "NaN",
        ];
        for text in bad {
            assert!(Json::parse(text).is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn bounded_nesting() {
        let deep_ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(Json::parse(&deep_ok).is_ok());
        let too_deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(Json::parse(&too_deep).is_err());
        // Very deep input is refused without exhausting the stack.
        assert!(Json::parse(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn write_string_round_trips() {
        let original = "q\"b\\s\n\u{1}é/";
        let mut text = String::new();
        write_string(&mut text, original);
        assert_eq!(Json::parse(&text).unwrap(), Json::String(original.into()));
    }
}
