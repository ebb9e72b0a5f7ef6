//! `users-lan-cert`: a small certificate authority of this machine's own and
//! a certificate for its names and LAN addresses, so that the bridge can
//! serve HTTPS on a LAN (browsers offer passkeys only in a secure context).
//! Both are kept in a state directory; the authority (valid 3 years) is
//! kept, and the server's certificate is reused while it covers the same
//! names and has months to go. Its validity, 397 days, is within what
//! browsers and phones take from any authority; a phone trusts the
//! authority once.
//!
//! A device that trusts the authority must not be exposed to more than the
//! LAN: the authority is name-constrained (RFC 5280) to the names it was
//! made for, the LAN's own suffixes (`.local`, `.lan`, `.home.arpa`,
//! `.internal`, `localhost`) and private, loopback and link-local
//! addresses, so its key could not pass for any public site. Addresses
//! outside those are left out of the server's certificate.

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How old the server's certificate may be before a run makes a new one.
const REISSUE_AFTER: time::Duration = time::Duration::days(300);

/// The files in the state directory.
pub struct LanFiles {
    /// The authority's certificate: what a phone or a browser trusts.
    pub ca_cert: PathBuf,
    /// The server's certificate, with the authority's after it.
    pub cert: PathBuf,
    /// The server's key.
    pub key: PathBuf,
    /// SHA-256 of the authority's certificate (DER), as `AB:CD:…`.
    pub ca_fingerprint: String,
    /// Whether this run made them (rather than reusing them).
    pub made: bool,
}

/// The authority and the server's certificate for `names` and `addresses`
/// under `dir`, made if missing or if they cover other names.
pub fn ensure(dir: &Path, names: &[String], addresses: &[IpAddr]) -> std::io::Result<LanFiles> {
    fs::create_dir_all(dir)?;
    let ca_cert = dir.join("ca.pem");
    let ca_key = dir.join("ca-key.pem");
    let cert = dir.join("server.pem");
    let key = dir.join("server-key.pem");
    let covers = dir.join("server.names");
    let now = time::OffsetDateTime::now_utc();
    let wanted = format!("{names:?} {addresses:?}");
    let other = |e: rcgen::Error| std::io::Error::other(e.to_string());
    let mut made = false;
    if !ca_cert.is_file() || !ca_key.is_file() {
        let key_pair = KeyPair::generate().map_err(other)?;
        let mut params = ca_params();
        params.name_constraints = Some(lan_only(names));
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3 * 365);
        let ca = params.self_signed(&key_pair).map_err(other)?;
        write_private(&ca_key, &key_pair.serialize_pem())?;
        fs::write(&ca_cert, ca.pem())?;
        made = true;
    }
    // "<names> <addresses>\n<Unix time it was made>"
    let fresh = fs::read_to_string(&covers).is_ok_and(|c| {
        let (what, when) = c.split_once('\n').unwrap_or((&c, "0"));
        let age = now.unix_timestamp() - when.trim().parse::<i64>().unwrap_or(0);
        what == wanted && age < REISSUE_AFTER.whole_seconds()
    });
    if made || !fresh || !cert.is_file() || !key.is_file() {
        owner_only(&ca_key)?;
        let ca_pem = fs::read_to_string(&ca_cert)?;
        let ca_key_pair = KeyPair::from_pem(&fs::read_to_string(&ca_key)?).map_err(other)?;
        // The authority's name and key are what its certificates name it by.
        let issuer = Issuer::new(ca_params(), ca_key_pair);
        let key_pair = KeyPair::generate().map_err(other)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(other)?;
        let lan = addresses.iter().filter(|a| on_the_lan(a));
        params
            .subject_alt_names
            .extend(lan.map(|a| SanType::IpAddress(*a)));
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map_or("users-bridge", |n| n.as_str()),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(397);
        let server = params.signed_by(&key_pair, &issuer).map_err(other)?;
        write_private(&key, &key_pair.serialize_pem())?;
        fs::write(&cert, format!("{}{ca_pem}", server.pem()))?;
        fs::write(&covers, format!("{wanted}\n{}", now.unix_timestamp()))?;
        made = true;
    }
    let der = rustls::pki_types::CertificateDer::from_pem_file(&ca_cert)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let digest = Sha256::digest(der.as_ref());
    let ca_fingerprint = digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Ok(LanFiles {
        ca_cert,
        cert,
        key,
        ca_fingerprint,
        made,
    })
}

/// The authority's name and use: what the certificates it signs name it by.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "users-service LAN authority");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// The names and addresses the authority may sign for.
fn lan_only(names: &[String]) -> NameConstraints {
    const SUFFIXES: [&str; 5] = ["local", "lan", "home.arpa", "internal", "localhost"];
    let dns = names.iter().map(String::as_str).chain(SUFFIXES);
    let v6 = |s: &str| s.parse::<std::net::Ipv6Addr>().map(IpAddr::V6).ok();
    let nets: Vec<(IpAddr, u8)> = [
        (Some(IpAddr::from([10, 0, 0, 0])), 8),
        (Some(IpAddr::from([172, 16, 0, 0])), 12),
        (Some(IpAddr::from([192, 168, 0, 0])), 16),
        (Some(IpAddr::from([127, 0, 0, 0])), 8),
        (Some(IpAddr::from([169, 254, 0, 0])), 16),
        (v6("::1"), 128),
        (v6("fc00::"), 7),
        (v6("fe80::"), 10),
    ]
    .into_iter()
    .filter_map(|(a, p)| Some((a?, p)))
    .collect();
    let subnets = nets
        .into_iter()
        .map(|(a, p)| GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(a, p)));
    NameConstraints {
        permitted_subtrees: dns
            .map(|d| GeneralSubtree::DnsName(d.to_owned()))
            .chain(subnets)
            .collect(),
        excluded_subtrees: vec![],
    }
}

/// Whether `a` is a private, loopback or link-local address.
fn on_the_lan(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
        }
    }
}

/// Refuses a key that others may read: it would not be this machine's alone.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        let m = format!(
            "{} may be read by others (mode {:o}): make it 0600, or remove its directory",
            path.display(),
            mode & 0o777
        );
        return Err(std::io::Error::other(m));
    }
    Ok(())
}

/// Writes a key readable by its owner only, from its creation.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_lan_addresses_go_in_the_certificate() {
        for lan in [
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.9",
            "127.0.0.1",
            "fe80::1",
            "fd00::5",
            "::1",
        ] {
            assert!(on_the_lan(&lan.parse().unwrap()), "{lan}");
        }
        for public in ["8.8.8.8", "172.32.0.1", "2001:db8::1"] {
            assert!(!on_the_lan(&public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn kept_reused_and_refused_when_others_may_read_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["box.local".to_owned()];
        let first = ensure(dir.path(), &names, &["192.168.1.2".parse().unwrap()]).unwrap();
        assert!(first.made);
        let again = ensure(dir.path(), &names, &["192.168.1.2".parse().unwrap()]).unwrap();
        assert!(!again.made);
        assert_eq!(first.ca_fingerprint, again.ca_fingerprint);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("ca-key.pem")), 0o600);
        assert_eq!(mode(&first.key), 0o600);
        // New names: a new server certificate from the same authority.
        let other = ensure(dir.path(), &["nas.local".to_owned()], &[]).unwrap();
        assert!(other.made);
        assert_eq!(other.ca_fingerprint, first.ca_fingerprint);
        let key = dir.path().join("ca-key.pem");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ensure(dir.path(), &names, &[]).is_err());
    }
}
