//! A TLS client that trusts only one authority (the one `users-lan-cert`
//! made): HTTPS requests, and the streams WSS runs on.

use crate::http::{exchange, HttpResponse};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A client configuration whose only root is the certificate in `ca` (PEM).
pub fn client_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("the authority's file") {
        roots.add(cert.expect("a certificate")).expect("a root");
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// `method path` over HTTPS to `host` (a name the certificate covers) on
/// loopback `port`, trusting only `ca`.
pub fn https_request(
    port: u16,
    host: &str,
    ca: &Path,
    method: &str,
    path: &str,
) -> std::io::Result<HttpResponse> {
    let name = ServerName::try_from(host.to_owned()).map_err(std::io::Error::other)?;
    let conn =
        rustls::ClientConnection::new(client_config(ca), name).map_err(std::io::Error::other)?;
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    exchange(rustls::StreamOwned::new(conn, tcp), port, method, path, &[])
}
