//! Secret strings: tokens, codes and verifiers. They never print (`Debug` is redacted,
//! there is no `Display`) and are not `Clone`, so a copy cannot drift into a log or a store by
//! accident; reading the value takes an explicit `expose()`.

use core::fmt;

/// A string that must not leak: redacted in `Debug`, compared in constant time, and read
/// only through [`Secret::expose`].
pub struct Secret(String);

impl Secret {
    /// Wraps `value` as a secret.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// Compares two byte strings in time that depends only on their lengths (which are not
/// secret), so that a comparison leaks nothing about where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("tok-123".into());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), "tok-123");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
