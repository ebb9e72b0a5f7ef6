//! HTTPS and WSS on the TCP listener (`--tls-cert`, `--tls-key`): rustls,
//! HTTP/1.1 only, as the plain listener. The handshake counts against the
//! connection caps and must end within the header deadline, so a client
//! that opens connections and never finishes a handshake holds nothing for
//! long. The Unix listener, for a proxy on this machine, stays plain.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why the certificate or its key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file could not be read or holds no PEM of that kind.
    #[error("--{flag} {path}: {why}")]
    File {
        /// `tls-cert` or `tls-key`.
        flag: &'static str,
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// rustls refused the pair (a key that is not the certificate's, say).
    #[error("--tls-cert and --tls-key: {0}")]
    Config(String),
}

/// The acceptor for `cert` (PEM, the chain from the server's certificate
/// up) and `key` (PEM, PKCS#8, PKCS#1 or SEC1).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let file_err = |flag, path: &Path| {
        let path = path.display().to_string();
        move |e: rustls::pki_types::pem::Error| TlsError::File {
            flag,
            path,
            why: e.to_string(),
        }
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(file_err("tls-cert", cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(file_err("tls-cert", cert))?;
    if chain.is_empty() {
        return Err(TlsError::File {
            flag: "tls-cert",
            path: cert.display().to_string(),
            why: "no certificate in it".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(file_err("tls-key", key))?;
    // ring, as the service's PostgreSQL client: no C library to build. Its
    // provider is marked deprecated for lacking the post-quantum key
    // exchange, which only aws-lc-rs has.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
