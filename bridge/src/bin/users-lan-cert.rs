//! `users-lan-cert`: makes (or reuses) a small certificate authority and a
//! certificate for this machine's names and addresses, for
//! `users-bridge --tls-cert --tls-key` on a LAN; see `--help`.

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;

/// A certificate authority of this machine's own, and a server certificate
/// it signs for the names and addresses given. Both are kept in --dir and
/// reused; the authority's file and fingerprint are printed, to trust it
/// on a phone.
#[derive(Parser)]
#[command(name = "users-lan-cert", version)]
struct Args {
    /// Where the authority and the certificate are kept.
    #[arg(long)]
    dir: PathBuf,
    /// A DNS name the certificate is for (repeatable), e.g. myhost.local.
    #[arg(long = "name", required = true)]
    names: Vec<String>,
    /// An IP address the certificate is for (repeatable).
    #[arg(long = "address")]
    addresses: Vec<IpAddr>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let files = users_bridge::lan_cert::ensure(&args.dir, &args.names, &args.addresses)?;
    println!("authority:   {}", files.ca_cert.display());
    println!("fingerprint: SHA-256 {}", files.ca_fingerprint);
    println!("certificate: {}", files.cert.display());
    println!("key:         {}", files.key.display());
    println!(
        "made now:    {}",
        if files.made { "yes" } else { "no (reused)" }
    );
    Ok(())
}
