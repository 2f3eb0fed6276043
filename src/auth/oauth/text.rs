//! Joining text without `format!`. Each `format!` call site compiles to its own argument
//! plumbing; this client builds a few dozen messages and URLs, and one small function
//! serves them all (measured: about 1 KB of the gzip bundle).

/// The parts, in order, as one string.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `n` in decimal.
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..].iter().map(|&d| d as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_and_decimal() {
        assert_eq!(concat(&["a", "", "bc"]), "abc");
        assert_eq!(concat(&[]), "");
        for n in [0, 7, 10, 404, 1_700_000_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
