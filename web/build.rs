//! The browser's copy of the most common passwords: the head of the list the
//! service refuses (`service/data/common-passwords.txt`, most common first),
//! so that the strength hint warns of them without the whole list's download.

use std::io::Write;

/// How many of the most common passwords the browser knows: about 1.2 KB
/// gzip-compressed (README, "The web UI").
const KNOWN: usize = 300;

fn main() -> std::io::Result<()> {
    let list = "../service/data/common-passwords.txt";
    println!("cargo::rerun-if-changed={list}");
    let text = std::fs::read_to_string(list)?;
    let out_dir = std::env::var_os("OUT_DIR").ok_or(std::io::ErrorKind::NotFound)?;
    let mut f = std::fs::File::create(std::path::Path::new(&out_dir).join("common.txt"))?;
    for word in text.lines().filter(|l| !l.is_empty()).take(KNOWN) {
        writeln!(f, "{word}")?;
    }
    Ok(())
}
