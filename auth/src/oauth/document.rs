//! Reading the JSON documents this client receives (RFC 8259) into typed structs with
//! serde_json: provider metadata, token and error responses, ID token parts, key sets,
//! UserInfo, the app's config and its own stored records. The checks that are security
//! decisions are made afterwards, in plain code, by the module that owns each document.
//!
//! What this adds to serde_json's defaults, and why:
//! - a size limit before parsing ([`MAX_DOCUMENT_BYTES`]). Nesting costs no stack beyond
//!   a bound either way: serde_json refuses documents whose members it reads nest more
//!   than 127 levels deep, and skips members nobody reads without recursion;
//! - only objects: serde's derive would also read a struct from a JSON array, by position.
//!
//! A member that a struct names and that appears twice is refused by serde's derive
//! ("duplicate field"); RFC 8259 §4 leaves duplicates undefined, and "take the last" would
//! let whoever controls one copy win. A member that no struct names is skipped, repeated
//! or not, because it is never read.

use core::fmt;

use serde::de::DeserializeOwned;

/// The largest document accepted, in bytes. Real ones are far smaller: a key set with
/// certificate chains is a few tens of kilobytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentError {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    TooLarge,
    /// Not an object: another JSON value, or text that does not even start like one.
    NotAnObject,
    /// It starts like an object but is not valid JSON (serde_json's words, with the
    /// position), or nests deeper than serde_json reads.
    Syntax(String),
    /// An object, but a member this client reads has the wrong type or appears twice
    /// (serde_json's words, with the position).
    Invalid(String),
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::TooLarge => write!(f, "it is larger than {} KB", MAX_DOCUMENT_BYTES / 1024),
            DocumentError::NotAnObject => f.write_str("it is not a JSON object"),
            DocumentError::Syntax(detail) | DocumentError::Invalid(detail) => f.write_str(detail),
        }
    }
}

/// Reads `text` as a `T`: a JSON object within [`MAX_DOCUMENT_BYTES`].
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, DocumentError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge);
    }
    // JSON's own whitespace only (RFC 8259 §2); anything else fails in serde_json anyway.
    if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
        return Err(DocumentError::NotAnObject);
    }
    serde_json::from_str(text).map_err(|error| {
        if error.is_data() {
            DocumentError::Invalid(error.to_string())
        } else {
            DocumentError::Syntax(error.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        name: Option<String>,
        count: Option<u64>,
        any: Option<serde_json::Value>,
    }

    #[test]
    fn reads_an_object_and_skips_members_it_does_not_name() {
        let sample: Sample = parse(r#" {"name":"a\u00e9","count":3,"other":[1,{"x":null}]} "#).unwrap();
        assert_eq!(sample, Sample { name: Some("aé".into()), count: Some(3), any: None });
    }

    #[test]
    fn a_member_it_reads_may_not_appear_twice() {
        let err = parse::<Sample>(r#"{"name":"a","name":"b"}"#).unwrap_err();
        assert!(matches!(&err, DocumentError::Invalid(detail) if detail.contains("duplicate field `name`")), "{err:?}");
    }

    /// Documented behaviour: a member no struct names is never read, so its repeats do
    /// not matter and are not refused.
    #[test]
    fn a_member_it_does_not_read_may_repeat() {
        let sample: Sample = parse(r#"{"name":"a","other":1,"other":2}"#).unwrap();
        assert_eq!(sample.name.as_deref(), Some("a"));
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        for text in ["", "not json", "[\"a\",3]", "\"text\"", "null", "\u{a0}{}"] {
            assert_eq!(parse::<Sample>(text), Err(DocumentError::NotAnObject), "{text:?}");
        }
        for text in ["{", "{\"name\":\"a\",}", "{} x", "{'name':1}"] {
            assert!(matches!(parse::<Sample>(text), Err(DocumentError::Syntax(_))), "{text:?}");
        }
    }

    #[test]
    fn wrong_types_and_numbers_that_are_not_whole_are_invalid() {
        for text in [r#"{"name":5}"#, r#"{"count":1.5}"#, r#"{"count":-1}"#, r#"{"count":"3"}"#, r#"{"count":1e3}"#] {
            assert!(matches!(parse::<Sample>(text), Err(DocumentError::Invalid(_))), "{text}");
        }
    }

    #[test]
    fn size_and_nesting_are_bounded() {
        let sized = |len: usize| format!(r#"{{"name":"{}"}}"#, "a".repeat(len - r#"{"name":""}"#.len()));
        assert_eq!(
            parse::<Sample>(&sized(MAX_DOCUMENT_BYTES)).map(|s| s.name.map(|n| n.len())),
            Ok(Some(MAX_DOCUMENT_BYTES - 11))
        );
        assert_eq!(parse::<Sample>(&sized(MAX_DOCUMENT_BYTES + 1)), Err(DocumentError::TooLarge));
        // serde_json's limit: 127 levels in all, the document's own object included.
        let nested = |depth: usize| format!(r#"{{"any":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert!(parse::<Sample>(&nested(126)).is_ok());
        assert!(
            matches!(parse::<Sample>(&nested(127)), Err(DocumentError::Syntax(detail)) if detail.contains("recursion limit"))
        );
        // A member nobody reads is skipped without recursion, however deep (and never read).
        let deep = format!(r#"{{"other":{}{},"name":"a"}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse::<Sample>(&deep).unwrap().name.as_deref(), Some("a"));
        let unclosed = format!(r#"{{"other":{}"#, "[".repeat(100_000));
        assert!(matches!(parse::<Sample>(&unclosed), Err(DocumentError::Syntax(_))));
    }
}
