//! Any bytes, as one or two frames of a request: parsing answers, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use users_service::parse_request as parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse(&[data.to_vec()], 65536);
    if let Some(cut) = data.first().map(|&b| b as usize % (data.len() + 1)) {
        let (a, b) = data.split_at(cut);
        let _ = parse(&[a.to_vec(), b.to_vec()], 65536);
    }
});
