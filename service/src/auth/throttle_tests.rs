use super::*;
use std::time::UNIX_EPOCH;

fn cfg() -> ThrottleConfig {
    ThrottleConfig {
        free_failures: 3,
        peer_free_failures: 10,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(8),
        trusted_peers: vec!["10.0.0.9".parse().unwrap()],
    }
}

/// One whole failed attempt.
fn miss(t: &mut Throttle, key: &str, peer: Option<&str>, now: SystemTime) {
    t.begin(key, peer, now).unwrap();
    t.fail(key, peer, now);
}

#[test]
fn backs_off_exponentially_to_the_cap() {
    let mut t = Throttle::new(cfg());
    let now = UNIX_EPOCH + Duration::from_secs(1000);
    for _ in 0..3 {
        miss(&mut t, "k", None, now);
    }
    let mut waits = Vec::new();
    let mut later = now;
    for _ in 0..6 {
        t.begin("k", None, later).unwrap();
        assert!(t.fail("k", None, later), "past the free failures");
        waits.push(t.begin("k", None, later).unwrap_err());
        later += Duration::from_secs(waits.last().copied().unwrap_or(0));
    }
    assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
    t.begin("k", None, later).unwrap();
    t.succeed("k", None, later);
    assert!(t.begin("k", None, later).is_ok());
}

#[test]
fn attempts_in_flight_count_before_their_result() {
    let mut t = Throttle::new(cfg());
    let now = UNIX_EPOCH;
    for _ in 0..3 {
        t.begin("k", None, now).unwrap();
    }
    assert_eq!(
        t.begin("k", None, now),
        Err(1),
        "three guesses are in flight"
    );
    t.fail("k", None, now);
    t.fail("k", None, now);
    assert!(t.begin("k", None, now).is_err(), "one still in flight");
    assert!(!t.fail("k", None, now), "three failures are free");
    t.begin("k", None, now).unwrap();
    assert!(t.fail("k", None, now));
    assert_eq!(t.begin("k", None, now), Err(1));
}

#[test]
fn an_attempt_never_made_gives_its_slot_back() {
    let store: Arc<dyn ThrottleStore> = Arc::new(MemoryThrottle::new(cfg()));
    let now = UNIX_EPOCH;
    for _ in 0..10 {
        // Reserved, then refused as busy before its hash ran.
        drop(Attempt::begin(&store, "k".into(), Some("10.0.0.1".into()), now).unwrap());
    }
    let a = Attempt::begin(&store, "k".into(), None, now).unwrap();
    a.succeed(now);
}

#[test]
fn keys_name_accounts_or_what_was_typed() {
    let id = UserId::random(&mut rand::rng());
    assert_eq!(account_key(id), format!("user:{id}"));
    assert_eq!(name_key("  Ghost "), "name:ghost");
    let mut t = Throttle::new(cfg());
    for _ in 0..4 {
        miss(&mut t, &name_key("nobody"), None, UNIX_EPOCH);
    }
    assert_eq!(t.begin(&name_key("NOBODY"), None, UNIX_EPOCH), Err(1));
}

#[test]
fn per_peer_and_trusted_peers() {
    let mut t = Throttle::new(cfg());
    let now = UNIX_EPOCH;
    for i in 0..11 {
        miss(&mut t, &format!("user{i}"), Some("10.0.0.1"), now);
        miss(&mut t, &format!("user{i}"), Some("10.0.0.9"), now);
    }
    assert!(t.begin("fresh", Some("10.0.0.1"), now).is_err());
    assert!(t.begin("fresh", Some("10.0.0.9"), now).is_ok());
    assert!(t.begin("fresh2", Some("10.0.0.2"), now).is_ok());
}

#[test]
fn old_entries_go_a_few_at_a_time_as_work_goes_by() {
    let mut t = Throttle::new(cfg());
    for i in 0..1000 {
        miss(&mut t, &format!("k{i}"), None, UNIX_EPOCH);
    }
    assert_eq!(t.keys.len(), 1000);
    let later = UNIX_EPOCH + FORGET_AFTER + Duration::from_secs(9);
    for i in 0..200 {
        miss(&mut t, &format!("new{i}"), None, later);
    }
    // 200 calls, each forgetting a few: the old thousand are gone, the
    // new two hundred stay.
    assert_eq!(t.keys.len(), 200);
}

#[test]
fn old_failures_are_forgotten() {
    let mut t = Throttle::new(cfg());
    for _ in 0..4 {
        miss(&mut t, "k", None, UNIX_EPOCH);
    }
    let later = UNIX_EPOCH + FORGET_AFTER;
    t.begin("k", None, later).unwrap();
    assert!(!t.fail("k", None, later), "counting starts again");
}
