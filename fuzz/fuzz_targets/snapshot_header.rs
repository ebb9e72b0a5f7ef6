//! Any bytes as a snapshot file: its header is checked, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use users_service::file_store::check_header;

fuzz_target!(|data: &[u8]| {
    let _ = check_header(data);
});
