//! The URL pieces the protocol needs: `application/x-www-form-urlencoded` both ways
//! (RFC 6749 Appendix B), query strings on endpoints (RFC 6749 §3.1), and the
//! "is this endpoint safe to use" rule (TLS, RFC 6749 §3.1 and §3.2).

/// Builds a form-urlencoded string from pairs, in their order, with the WHATWG URL
/// urlencoded serializer (space becomes `+`), which is what RFC 6749 Appendix B asks for.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Why a query string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

/// Decodes one form-urlencoded component strictly: `+` is a space, `%XX` a byte, and a
/// broken escape or bytes that are not UTF-8 are errors rather than guesses. (Hand-written:
/// `form_urlencoded::parse` passes a broken escape through and replaces bad UTF-8, and a
/// callback that cannot be read exactly must be refused, not guessed at.)
pub fn decode_component(text: &str) -> Result<String, QueryError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                    _ => return Err(QueryError::BadPercentEncoding),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| QueryError::NotUtf8)
}

/// Splits a query (without its leading `?`) into decoded pairs, in order, keeping repeats
/// so that the caller can refuse them. Empty pieces (`a=1&&b=2`) are skipped.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, QueryError> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

/// `endpoint` with `query` appended, keeping a query the endpoint already has
/// (RFC 6749 §3.1: "MUST be retained").
pub fn with_query(endpoint: &str, query: &str) -> String {
    let separator = if endpoint.contains('?') { "&" } else { "?" };
    format!("{endpoint}{separator}{query}")
}

/// True for an absolute `https` URL, or plain `http` on a loopback host (for local
/// development only, as RFC 8252 §8.3 allows). No fragment, no user info.
pub fn is_secure_endpoint(url: &str) -> bool {
    if url.contains('#') {
        return false;
    }
    let (secure, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return false,
    };
    let host_port = authority(rest);
    if host_port.is_empty() || host_port.contains('@') {
        return false;
    }
    secure || is_loopback(host_port)
}

/// `host` or `host:port` naming this machine.
fn is_loopback(host_port: &str) -> bool {
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|host| {
        host_port.strip_prefix(host).is_some_and(|port| {
            port.is_empty()
                || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// The authority part of what follows `scheme://`. (Byte scans here and below: the
/// general substring search costs more than a kilobyte of wasm.)
fn authority(after_scheme: &str) -> &str {
    let end = after_scheme.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(after_scheme.len());
    // get(), not indexing: no panic path, whose message formatting costs ~4 KB of wasm.
    after_scheme.get(..end).unwrap_or(after_scheme)
}

/// `scheme://authority` of an absolute URL, for same-origin comparisons.
pub fn origin_of(url: &str) -> Option<&str> {
    let colon = url.bytes().position(|b| b == b':')?;
    let after = url.get(colon..)?.strip_prefix("://")?;
    url.get(..colon + 3 + authority(after).len())
}

/// An origin as written in the config (`https://api.example.com`, a trailing `/` allowed),
/// in the form a browser serializes origins (RFC 6454 §6.2): scheme and host in lower case,
/// the scheme's default port left out. `None` for anything else: a path, query, fragment or
/// user info; a host other than ASCII letters, digits, `-` and `.` (write others in
/// punycode), or an IP address other than `127.0.0.1` and `[::1]`; a port outside 1-65535 or
/// with a leading zero;
/// an endpoint that is not secure by [`is_secure_endpoint`]. Refused rather than guessed at,
/// so that a typo is an error at start-up, not an origin that silently never matches.
pub fn normalized_origin(text: &str) -> Option<String> {
    let text = text.strip_suffix('/').unwrap_or(text);
    if !is_secure_endpoint(text) || origin_of(text) != Some(text) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let (scheme, authority) = match lower.strip_prefix("https://") {
        Some(authority) => ("https", authority),
        None => ("http", lower.strip_prefix("http://")?),
    };
    let (host, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(at) if !authority.ends_with(']') => (authority.get(..at)?, Some(authority.get(at + 1..)?)),
        _ => (authority, None),
    };
    // Host names; of IP addresses only this machine's, as browsers write them. (Other IP
    // forms, `[0:0::1]` or `127.1`, would be rewritten by the browser and then never match;
    // checking every form costs 2 KB gzip of .wasm, and an API is named by its host.)
    let last_label = host.get(host.bytes().rposition(|b| b == b'.').map_or(0, |dot| dot + 1)..).unwrap_or_default();
    let numeric = host.starts_with('[')
        || (!last_label.is_empty() && last_label.bytes().all(|b| b.is_ascii_digit()))
        || last_label.starts_with("0x");
    let host_ok = match numeric {
        true => host == "127.0.0.1" || host == "[::1]",
        false => !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
    };
    let port = match port {
        None => None,
        Some(digits) => {
            let number: u16 = digits.parse().ok().filter(|n| *n > 0 && !digits.starts_with('0'))?;
            let default = if scheme == "https" { 443 } else { 80 };
            (number != default).then_some(number)
        }
    };
    host_ok.then(|| match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_the_urlencoded_serializer() {
        assert_eq!(
            form_encode(&[("redirect_uri", "http://localhost:8080/callback"), ("scope", "openid profile")]),
            "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid+profile"
        );
        assert_eq!(form_encode(&[("a", "é~*-._")]), "a=%C3%A9%7E*-._");
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(decode_component("a+b%20c%2B").unwrap(), "a b c+");
        assert_eq!(decode_component("%C3%A9").unwrap(), "é");
        assert_eq!(decode_component("%"), Err(QueryError::BadPercentEncoding));
        assert_eq!(decode_component("%4"), Err(QueryError::BadPercentEncoding));
        assert_eq!(decode_component("%zz"), Err(QueryError::BadPercentEncoding));
        assert_eq!(decode_component("%FF%FE"), Err(QueryError::NotUtf8));
        assert_eq!(decode_component("%C3"), Err(QueryError::NotUtf8));
    }

    #[test]
    fn query_pairs_keep_order_and_repeats() {
        let pairs = parse_query("code=a&state=b&&code=c&flag").unwrap();
        let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["code", "state", "code", "flag"]);
        assert_eq!(pairs[3].1, "");
    }

    #[test]
    fn endpoint_query_is_retained() {
        assert_eq!(with_query("https://a.example/auth", "x=1"), "https://a.example/auth?x=1");
        assert_eq!(with_query("https://a.example/auth?tenant=t", "x=1"), "https://a.example/auth?tenant=t&x=1");
    }

    #[test]
    fn only_tls_or_loopback_endpoints_are_secure() {
        for ok in [
            "https://id.example.com/token",
            "http://127.0.0.1:9000/token",
            "http://localhost/token",
            "http://[::1]:9000/token",
        ] {
            assert!(is_secure_endpoint(ok), "{ok}");
        }
        for bad in [
            "http://id.example.com/token",
            "http://127.0.0.1.evil.example/token",
            "http://localhost.evil.example:9000/",
            "https://user@id.example.com/",
            "https://id.example.com/token#frag",
            "https:///token",
            "ftp://id.example.com/",
            "/token",
            "javascript:alert(1)",
        ] {
            assert!(!is_secure_endpoint(bad), "{bad}");
        }
    }

    #[test]
    fn origin_is_scheme_and_authority() {
        assert_eq!(origin_of("https://a.example:8443/x?y"), Some("https://a.example:8443"));
        assert_eq!(origin_of("http://localhost:8080"), Some("http://localhost:8080"));
        assert_eq!(origin_of("nonsense"), None);
    }

    #[test]
    fn origins_are_normalized_as_browsers_serialize_them() {
        for (written, normal) in [
            ("https://API.Example.com", "https://api.example.com"),
            ("https://api.example.com/", "https://api.example.com"),
            ("https://api.example.com:443", "https://api.example.com"),
            ("https://api.example.com:8443", "https://api.example.com:8443"),
            ("http://localhost:80", "http://localhost"),
            ("http://localhost:9200", "http://localhost:9200"),
            ("http://[::1]:9200", "http://[::1]:9200"),
            ("http://[::1]", "http://[::1]"),
            ("http://127.0.0.1:9200", "http://127.0.0.1:9200"),
            ("https://10.api.example", "https://10.api.example"),
            ("https://api.example.com.", "https://api.example.com."),
        ] {
            assert_eq!(normalized_origin(written).as_deref(), Some(normal), "{written}");
        }
        for bad in [
            "https://api.example.com/v1",
            "https://api.example.com?x",
            "https://api.example.com#x",
            "https://user@api.example.com",
            "http://api.example.com",
            "https://bücher.example",
            "https://api.example.com:",
            "https://api.example.com:x1",
            "https://:443",
            "https://a.example:1:443",
            "https://a.example:0443",
            "https://a.example:0",
            "https://a.example:65536",
            "https://a b.example",
            "https://a%2e.example",
            "https://a\\b.example",
            "https://a_b.example",
            "https://127.1",
            "https://0x7f.0.0.1",
            "https://1.2.3.0x4",
            "https://2130706433",
            "https://[0:0::1]",
            "https://127.000.0.1",
            "https://10.0.0.5",
            "https://[2001:db8::1]",
            "api.example.com",
            "*",
        ] {
            assert_eq!(normalized_origin(bad), None, "{bad}");
        }
    }
}
