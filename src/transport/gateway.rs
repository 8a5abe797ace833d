//! What a gateway in front of a target asks of every request: headers of its own (an API key),
//! a private certificate authority, a client certificate (mutual TLS). Read from `--header`,
//! `--ca-cert`, `--client-cert` and `--client-key` (or their `CONFORMANCE_*` variables); every
//! mistake is a one-line usage error that names the flag or file, never a header's value, which
//! is a secret like a credential.

use std::path::Path;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Headers the harness sets itself, per case or per request: a gateway header may not replace
/// them (a case that leaves `Accept` out must leave it out), and `transfer-encoding` would
/// contradict the `content-length` every request with a body carries.
pub const RESERVED_HEADERS: [&str; 6] = [
    "accept",
    "content-type",
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
];

/// The gateway's demands; the default is none.
#[derive(Clone, Default)]
pub struct Gateway {
    /// Sent with every request, after the harness's own headers; values marked sensitive, so
    /// that an exchange records them as `{{secret}}` whatever their length.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Trusted in addition to the platform's roots.
    pub ca_certs: Vec<CertificateDer<'static>>,
    /// Presented when the server asks for a client certificate.
    pub client_identity: Option<Identity>,
}

/// A client certificate chain and its private key.
#[derive(Clone)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Arc<PrivateKeyDer<'static>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: the values are secrets.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Gateway")
            .field("headers", &names)
            .field("ca_certs", &self.ca_certs.len())
            .field("client_identity", &self.client_identity.is_some())
            .finish()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// The header values, for the scrubbers.
    pub fn secrets(&self) -> Vec<String> {
        self.headers
            .iter()
            .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// Whether anything is asked of the TLS layer.
    pub fn has_tls(&self) -> bool {
        !self.ca_certs.is_empty() || self.client_identity.is_some()
    }
}

/// One `NAME: VALUE` header as `--header` takes it (blank lines are not given here). The error
/// names the header (when its name is valid) and never the value.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue)> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(Error::Usage(
            "--header needs NAME: VALUE (no colon found; the value is not shown)".into(),
        ));
    };
    let name = name.trim();
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::Usage(
            "--header: the name before the colon is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)"
                .into(),
        )
    })?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(Error::Usage(format!(
            "--header {name}: the harness sets {name} itself (per case); it cannot be replaced"
        )));
    }
    // Leading and trailing whitespace is not part of a field value (RFC 9110 section 5.5).
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(Error::Usage(format!("--header {name}: the value is empty")));
    }
    // Visible ASCII only: RFC 9110 keeps other bytes (obs-text) for old messages, and a
    // gateway key is ASCII.
    let ascii = value.is_ascii().then_some(value).ok_or(());
    let mut value = ascii.and_then(|v| HeaderValue::from_str(v).map_err(|_| ())).map_err(|_| {
        Error::Usage(format!(
            "--header {name}: the value has a character a header cannot carry (a control character or non-ASCII text; the value is not shown)"
        ))
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// Every header of `lines` (`--header` given several times, or `CONFORMANCE_HEADERS` split at
/// its newlines); blank lines are skipped.
pub fn parse_headers<S: AsRef<str>>(lines: &[S]) -> Result<Vec<(HeaderName, HeaderValue)>> {
    lines
        .iter()
        .flat_map(|l| l.as_ref().split('\n'))
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(parse_header)
        .collect()
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::Usage(format!(
            "{flag} {}: cannot read it: {}",
            path.display(),
            io_reason(&e)
        ))
    })
}

/// The reason of an io error without the OS's error number.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

/// The certificates of a PEM file (`CERTIFICATE` blocks; other blocks are ignored); none at all
/// is an error.
pub fn read_certificates(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read(flag, path)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            Error::Usage(format!(
                "{flag} {}: not a readable PEM file ({e})",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "{flag} {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(flag: &str, path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = read(flag, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        Error::Usage(format!(
            "{flag} {}: no PEM private key in it (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)",
            path.display()
        ))
    })
}

/// The client identity of `--client-cert` and `--client-key`: both or neither, the key the
/// one the certificate was issued for.
pub fn read_identity(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Identity>> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(Error::Usage(
                "--client-cert needs --client-key (or CONFORMANCE_CLIENT_KEY): the certificate's private key".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::Usage(
                "--client-key needs --client-cert (or CONFORMANCE_CLIENT_CERT): the certificate it belongs to".into(),
            ))
        }
        (Some(c), Some(k)) => (c, k),
    };
    let chain = read_certificates("--client-cert", cert)?;
    let key_der = read_private_key("--client-key", key)?;
    let provider = super::client::crypto_provider();
    rustls::sign::CertifiedKey::from_der(chain.clone(), key_der.clone_key(), &provider).map_err(
        |e| {
            let why = match e {
                rustls::Error::InconsistentKeys(_) => {
                    "the key does not belong to the certificate".to_owned()
                }
                other => format!("the key cannot be used: {other}"),
            };
            Error::Usage(format!(
                "--client-key {} (with --client-cert {}): {why}",
                key.display(),
                cert.display()
            ))
        },
    )?;
    Ok(Some(Identity {
        chain,
        key: Arc::new(key_der),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_header_and_marks_its_value_sensitive() {
        let (n, v) = parse_header("X-Api-Key:  s3cr3t value ").unwrap();
        assert_eq!(n.as_str(), "x-api-key");
        assert_eq!(v.as_bytes(), b"s3cr3t value");
        assert!(v.is_sensitive());
        // Only the first colon separates.
        let (_, v) = parse_header("X-Url: https://gw:8443/x").unwrap();
        assert_eq!(v.as_bytes(), b"https://gw:8443/x");
    }

    #[test]
    fn malformed_headers_are_refused_without_their_value() {
        for (text, needle) in [
            ("no-colon-hunter2", "no colon"),
            ("Bad Name: hunter2", "not a valid HTTP header name"),
            (": hunter2", "not a valid HTTP header name"),
            ("X-Key:   ", "empty"),
            ("X-Key: hunter2\u{7f}", "cannot carry"),
            ("X-Key: hünter2", "cannot carry"),
        ] {
            let e = parse_header(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(!e.contains("hunter2") && !e.contains("nter2"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn headers_the_harness_sets_are_refused_by_name() {
        for name in [
            "Accept",
            "content-type",
            "AUTHORIZATION",
            "Host",
            "Content-Length",
        ] {
            let e = parse_header(&format!("{name}: hunter2"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&name.to_ascii_lowercase()), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn a_sensitive_value_is_recorded_as_a_secret_however_short() {
        let (name, value) = parse_header("X-Pin: abc").unwrap();
        let mut map = http::HeaderMap::new();
        map.insert(name, value);
        map.insert("x-plain", HeaderValue::from_static("abc"));
        let recorded = crate::transport::record_headers(&map, &crate::scrub::Scrubber::default());
        assert_eq!(
            recorded,
            [
                ("x-pin".to_owned(), "{{secret}}".to_owned()),
                ("x-plain".to_owned(), "abc".to_owned())
            ]
        );
    }

    #[test]
    fn header_lists_split_at_newlines_and_skip_blank_lines() {
        let h = parse_headers(&["X-A: 1\r\n\nX-B: 2\n", "X-C: 3"]).unwrap();
        let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-a", "x-b", "x-c"]);
        assert!(parse_headers(&["X-A: 1\nbroken"]).is_err());
    }

    #[test]
    fn certificate_and_key_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("gateway-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = read_certificates("--ca-cert", &missing).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = read_certificates("--ca-cert", &junk).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        let e = read_identity(Some(&junk), None).unwrap_err();
        assert!(e.to_string().contains("needs --client-key"), "{e}");
        let e = read_identity(None, Some(&junk)).unwrap_err();
        assert!(e.to_string().contains("needs --client-cert"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
