//! The certificates and rules of a private PostgreSQL server that takes TLS
//! connections only ([`crate::PgCluster::start_tls`]): a throw-away CA made
//! with the `openssl` command (scripts/setup installs it), the server's key
//! and certificate signed by it for `localhost`, a second CA that signed
//! nothing, and a `pg_hba.conf` that refuses every connection over TCP in
//! clear.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `postgres` role's password on such a server: tests look for it in
/// what the service prints, and must never find it.
pub const PASSWORD: &str = "tls-only-Secret-7";

/// The files, in the cluster's directory.
pub struct TlsFiles {
    /// The CA that signed the server's certificate (PEM).
    pub ca: PathBuf,
    /// Another CA, which signed nothing the server shows (PEM).
    pub other_ca: PathBuf,
    /// The server's certificate, for `localhost` only.
    pub cert: PathBuf,
    /// The server's private key; the server's user must own it, mode 0600.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The server's command-line settings that turn TLS on.
    pub fn server_options(&self) -> String {
        format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// Runs `openssl ARGS` in `dir`; panics, loudly, if it cannot.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed (scripts/setup installs it): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA, `NAME.pem` and `NAME.key`, valid for two days.
fn make_ca(dir: &Path, name: &str, subject: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            subject,
        ],
    );
}

/// Makes the CAs and the server's key and certificate in `dir`.
pub fn make(dir: &Path) -> TlsFiles {
    make_ca(dir, "ca", "/CN=users-service test CA");
    make_ca(dir, "other-ca", "/CN=another test CA");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    // A server's certificate as a CA makes one: for one name, for TLS
    // servers only, and no CA itself.
    let ext = "subjectAltName = DNS:localhost\n\
               basicConstraints = critical, CA:FALSE\n\
               keyUsage = critical, digitalSignature\n\
               extendedKeyUsage = serverAuth\n";
    std::fs::write(dir.join("server.ext"), ext).expect("server.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    let key = dir.join("server.key");
    set_mode(&key, 0o600);
    TlsFiles {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        cert: dir.join("server.pem"),
        key,
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Replaces the cluster's `pg_hba.conf`: the Unix socket (the tests' own
/// psql) is trusted; over TCP, TLS with a SCRAM password, and nothing in
/// clear.
pub fn write_hba(path: &Path) {
    let rules = "local all all trust\n\
                 hostssl all all 127.0.0.1/32 scram-sha-256\n\
                 hostssl all all ::1/128 scram-sha-256\n\
                 hostnossl all all 0.0.0.0/0 reject\n\
                 hostnossl all all ::/0 reject\n";
    std::fs::write(path, rules).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
