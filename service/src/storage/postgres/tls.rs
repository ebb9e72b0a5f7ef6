//! TLS to PostgreSQL: what the address's `sslmode` and `sslrootcert` ask
//! for, with the meanings libpq gives them, and the rustls connector that
//! carries it out.
//!
//! | `sslmode` | encrypted | the server's certificate |
//! |---|---|---|
//! | `disable`, or none | no, as this service always did (libpq would try TLS first: say `prefer` for that) | — |
//! | `prefer` | if the server offers TLS, else in clear | not checked, unless `sslrootcert` is given: then as `verify-ca` |
//! | `require` | always, or no connection | the same |
//! | `verify-ca` | always | signed by `sslrootcert`'s CA |
//! | `verify-full` | always | signed by `sslrootcert`'s CA, and made out to the host name in the address |
//!
//! An unchecked certificate keeps out whoever only listens, not whoever can
//! redirect the connection (an active man-in-the-middle): such a one poses
//! as the server, and may ask for the password. `verify-full` is the mode
//! that stops that. `sslrootcert` is a PEM file of one or more CA
//! certificates, read at every connection (a renewed CA is taken without a
//! restart).
//!
//! The client library (rust-postgres) knows `disable`, `prefer` and
//! `require` but neither `verify-*` nor `sslrootcert`: [`Address::parse`]
//! takes both parameters out of the address before it hands the rest on.

use percent_encoding::percent_decode_str;
use postgres::config::SslMode as WireMode;
use postgres::Config;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What is wrong with an address's TLS settings, or its CA file. None of
/// these messages holds the address, and so never its password.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("the database address: {0}")]
    Address(String),
    #[error("the database address: sslmode={0} is not one of disable, prefer, require, verify-ca, verify-full")]
    UnknownMode(String),
    #[error("the database address: sslmode={0} needs sslrootcert=FILE, the PEM file of the CA that signed the server's certificate")]
    NoRootCert(&'static str),
    #[error(
        "the database address: sslrootcert=system is not supported; name the PEM file of the CA"
    )]
    SystemRoots,
    #[error("sslrootcert {path}: {reason}")]
    RootCert { path: String, reason: String },
    #[error("setting up TLS: {0}")]
    Setup(#[from] rustls::Error),
}

/// How much TLS a connection gets; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    const ALL: [Mode; 5] = [
        Mode::Disable,
        Mode::Prefer,
        Mode::Require,
        Mode::VerifyCa,
        Mode::VerifyFull,
    ];

    fn parse(value: &str) -> Result<Mode, TlsError> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == value)
            .ok_or_else(|| TlsError::UnknownMode(value.to_owned()))
    }

    /// As the address spells it.
    fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }

    /// What the client library is told: whether to ask the server for TLS,
    /// and whether to go on without it.
    fn wire(self) -> WireMode {
        match self {
            Mode::Disable => WireMode::Disable,
            Mode::Prefer => WireMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => WireMode::Require,
        }
    }
}

/// An address read: the client library's settings, and the TLS it asks for.
pub(crate) struct Address {
    pub(crate) config: Config,
    pub(crate) mode: Mode,
    root_cert: Option<PathBuf>,
}

impl Address {
    /// Reads `url`. A `postgres://` URL has `sslmode` and `sslrootcert` taken
    /// out of its query (split by the URI grammar, as libpq reads it:
    /// `&`-separated `key=value`, percent-encoded, `+` being a plus) and the
    /// other parameters left byte for byte. An address the URL parser cannot
    /// read (several hosts with ports, or `key=value` words) goes to the
    /// client library as it is: `require` works there, `verify-*` does not.
    pub(crate) fn parse(url: &str) -> Result<Address, TlsError> {
        let Ok(mut parsed) = url::Url::parse(url) else {
            let config = client_config(url)?;
            let mode = match config.get_ssl_mode() {
                WireMode::Require => Mode::Require,
                _ => Mode::Disable,
            };
            return Address::new(config, mode, None);
        };
        let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
        for pair in parsed.query().unwrap_or_default().split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match decode(key)?.as_str() {
                "sslmode" => mode = Some(Mode::parse(&decode(value)?)?),
                "sslrootcert" => root_cert = Some(PathBuf::from(decode(value)?)),
                _ if pair.is_empty() => {}
                _ => kept.push(pair.to_owned()),
            }
        }
        parsed.set_query(
            Some(&kept.join("&"))
                .filter(|q| !q.is_empty())
                .map(|q| q.as_str()),
        );
        let config = client_config(parsed.as_str())?;
        Address::new(config, mode.unwrap_or(Mode::Disable), root_cert)
    }

    fn new(
        mut config: Config,
        mode: Mode,
        root_cert: Option<PathBuf>,
    ) -> Result<Address, TlsError> {
        match (mode, &root_cert) {
            (Mode::VerifyCa | Mode::VerifyFull, None) => {
                return Err(TlsError::NoRootCert(mode.name()))
            }
            (_, Some(path)) if path.as_os_str() == "system" => return Err(TlsError::SystemRoots),
            _ => {}
        }
        config.ssl_mode(mode.wire());
        Ok(Address {
            config,
            mode,
            root_cert,
        })
    }

    /// The connector for this address's mode; `None` for no TLS. The CA
    /// file is read now, at every connection.
    pub(crate) fn connector(&self) -> Result<Option<MakeRustlsConnect>, TlsError> {
        // ring rather than rustls's default, aws-lc-rs: a small build with
        // no C library to compile, and only aws-lc-rs has the post-quantum
        // key exchange for which rustls marks ring's provider deprecated,
        // which the OpenSSL of today's PostgreSQL packages (3.0 in Debian
        // 12) does not offer anyway.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let check = match (self.mode, &self.root_cert) {
            (Mode::Disable, _) => return Ok(None),
            (Mode::Prefer | Mode::Require, None) => Check::Nothing,
            (Mode::VerifyFull, Some(path)) => Check::Full(roots(path)?),
            (_, Some(path)) => Check::Chain(roots(path)?),
            (Mode::VerifyCa | Mode::VerifyFull, None) => {
                return Err(TlsError::NoRootCert(self.mode.name()))
            }
        };
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?;
        let config = match check {
            Check::Full(roots) => builder.with_root_certificates(roots),
            Check::Chain(roots) => {
                let inner =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build();
                let inner = inner.map_err(|e| TlsError::Address(e.to_string()))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
            }
            Check::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider))),
        };
        Ok(Some(MakeRustlsConnect::new(config.with_no_client_auth())))
    }
}

/// The client library's reading of an address. Its messages name the
/// option at fault, never the address.
fn client_config(url: &str) -> Result<Config, TlsError> {
    url.parse::<Config>()
        .map_err(|e| TlsError::Address(super::errors::explain(&e)))
}

/// A percent-encoded part of the query, decoded.
fn decode(part: &str) -> Result<String, TlsError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| TlsError::Address("a parameter that is not UTF-8".into()))
}

/// The CA certificates in the PEM file at `path`.
fn roots(path: &std::path::Path) -> Result<RootCertStore, TlsError> {
    let fail = |reason: String| TlsError::RootCert {
        path: path.display().to_string(),
        reason,
    };
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| fail(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| fail(e.to_string()))?;
        store.add(cert).map_err(|e| fail(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(fail("holds no certificate".into()));
    }
    Ok(store)
}

/// What is checked of the server's certificate.
enum Check {
    /// Nothing: `prefer` and `require` without `sslrootcert`.
    Nothing,
    /// Its chain up to one of these CAs: `verify-ca`, and `prefer` and
    /// `require` with `sslrootcert`.
    Chain(RootCertStore),
    /// The chain and the host name: `verify-full`.
    Full(RootCertStore),
}

/// Accepts any certificate. The handshake's signatures are still checked,
/// so the server must hold the key of the certificate it shows.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// rustls's own verifier, less the host name: it checks the chain (dates,
/// usage, signatures up to a trusted CA) before the name, so a name that
/// does not match is the only error let through.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let checked = self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        match checked {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Address {
        Address::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn no_sslmode_is_no_tls_as_before() {
        let a = parse("postgres://u:pw@db.example:5433/users");
        assert_eq!(a.mode, Mode::Disable);
        assert_eq!(a.config.get_ssl_mode(), WireMode::Disable);
        assert_eq!(a.config.get_dbname(), Some("users"));
        assert!(a.connector().unwrap().is_none());
    }

    #[test]
    fn verify_full_and_its_root_are_taken_out_and_the_rest_kept_as_it_was() {
        let a = parse(
            "postgresql://u:p%40ss@localhost:5433/users?application_name=a+b\
             &sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&options=-c%20x%3Dy",
        );
        assert_eq!(a.mode, Mode::VerifyFull);
        assert_eq!(a.config.get_ssl_mode(), WireMode::Require);
        assert_eq!(
            a.root_cert.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert_eq!(a.config.get_password(), Some(&b"p@ss"[..]));
        // libpq's reading: `+` is a plus, not a space.
        assert_eq!(a.config.get_application_name(), Some("a+b"));
        assert_eq!(a.config.get_options(), Some("-c x=y"));
    }

    #[test]
    fn require_works_where_the_url_parser_gives_up() {
        let a = parse("postgres://u@h1:5432,h2:5433/users?sslmode=require");
        assert_eq!(a.mode, Mode::Require);
        assert_eq!(a.config.get_hosts().len(), 2);
    }

    #[test]
    fn mistakes_are_named_without_the_password() {
        let secret = "s3cret-pw";
        let wrong = [
            format!("postgres://u:{secret}@h/db?sslmode=verify-full"),
            format!("postgres://u:{secret}@h/db?sslmode=verify-ca"),
            format!("postgres://u:{secret}@h/db?sslmode=always"),
            format!("postgres://u:{secret}@h/db?sslmode=require&sslrootcert=system"),
            format!("postgres://u:{secret}@h/db?sslmode=require&nonsense=1"),
            format!("postgres://u:{secret}@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem"),
        ];
        for url in wrong {
            let e = Address::parse(&url)
                .and_then(|a| a.connector().map(drop))
                .err()
                .unwrap_or_else(|| panic!("{url} was taken"))
                .to_string();
            assert!(!e.contains(secret), "{e}");
            assert!(
                e.contains("sslmode") || e.contains("sslrootcert") || e.contains("nonsense"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_root_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let url = format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}",
            path.display()
        );
        let e = parse(&url).connector().err().unwrap().to_string();
        assert!(e.contains("holds no certificate"), "{e}");
    }
}
