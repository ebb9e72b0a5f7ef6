//! Journal lines: any bytes as a line, and any bytes encrypted under the
//! store's key as a record, so that the record decoder itself is reached.
#![no_main]

use fernet::Fernet;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use users_service::file_store::journal::check_line;

fn cipher() -> &'static Fernet {
    static CIPHER: OnceLock<Fernet> = OnceLock::new();
    CIPHER.get_or_init(|| {
        Fernet::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").expect("a valid key")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = check_line(cipher(), data);
    let mut line = cipher().encrypt(data).into_bytes();
    line.push(b'\n');
    let _ = check_line(cipher(), &line);
});
