//! Stores written by earlier versions, opened by this one.

use super::tests::{opts, put, user};
use super::*;

#[test]
fn a_version_3_store_keeps_no_plain_recovery_code_digest_after_it_opens() {
    use crate::model::totp::TotpState;
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    let mut store = o.store;
    // As a version-3 build stored them: a plain SHA-256 of each code.
    let plain = hex::encode(Sha256::digest(b"abcdefghijklmnop"));
    let mut alice = (*user("alice")).clone();
    let mut totp = TotpState::generate(&mut rand::rng());
    totp.enabled = true;
    totp.recovery = crate::model::totp::RecoveryCodes::plain_for_test(vec![plain.clone()]);
    alice.totp = Some(totp);
    store.commit(&[put(&Arc::new(alice))]).unwrap();
    drop(store);
    let mut header: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    header["version"] = 3.into();
    std::fs::write(&path, header.to_string()).unwrap();

    let o = FileStore::open(&path, "pw", &opts()).unwrap();
    assert_eq!(o.upgraded_from, Some(3));
    let mut alice = o.users[0].clone();
    drop(o);
    let snap = snapshot::read(&path, "pw").unwrap();
    let text = String::from_utf8_lossy(&snap.plain).into_owned();
    assert!(text.contains("s1:") && !text.contains(&plain), "{text}");
    let journal = std::fs::metadata(journal::path_for(&path)).unwrap().len();
    assert_eq!(journal, 0, "the old record is gone from the journal too");
    // The code still works, once.
    let totp = alice.totp.as_mut().unwrap();
    assert!(totp.use_recovery_code("ABCD-EFGH-IJKL-MNOP"));
    assert!(!totp.use_recovery_code("abcd-efgh-ijkl-mnop"));
}
