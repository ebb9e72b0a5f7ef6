use super::*;
use std::time::UNIX_EPOCH;
use users_protocol::Secret;

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn lives(absolute: u64, max_per_user: usize) -> Lifetimes {
    Lifetimes {
        absolute: Duration::from_secs(absolute),
        idle: None,
        max_per_user,
    }
}

fn id() -> UserId {
    UserId::random(&mut rand::rng())
}

fn login(s: &MemorySessions, user: UserId, now: SystemTime) -> Secret {
    let token = new_token(&mut rand::rng());
    s.apply(SessionOp::Insert {
        id: SessionId::of(token.expose()),
        user,
        expires: s.expiry(now),
        created: Some(now),
        last_used: Some(now),
        origin: Origin::default(),
    });
    token
}

#[test]
fn tokens_are_32_random_bytes_urlsafe() {
    let a = new_token(&mut rand::rng());
    let b = new_token(&mut rand::rng());
    assert_eq!(a.expose().len(), 43);
    assert_ne!(a, b);
    assert!(a
        .expose()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
}

#[test]
fn absolute_expiry() {
    let s = MemorySessions::new(lives(100, 100), false);
    let alice = id();
    let tok = login(&s, alice, t(1000));
    assert_eq!(s.validate(tok.expose(), t(1099)).unwrap().user, alice);
    assert!(s.validate(tok.expose(), t(1100)).is_none());
    assert_eq!(s.active(t(1000)), 0, "the expired session was removed");
}

#[test]
fn revoke_keeps_the_exception_only() {
    let s = MemorySessions::new(lives(100, 100), false);
    let (alice, bob) = (id(), id());
    let a1 = login(&s, alice, t(0));
    let a2 = login(&s, alice, t(0));
    let b = login(&s, bob, t(0));
    s.apply(SessionOp::RevokeUser {
        user: alice,
        except: Some(SessionId::of(a1.expose())),
    });
    assert!(s.validate(a1.expose(), t(1)).is_some());
    assert!(s.validate(a2.expose(), t(1)).is_none());
    assert!(s.validate(b.expose(), t(1)).is_some());
    assert!(s.remove(b.expose()));
    assert!(!s.remove(b.expose()));
}

#[test]
fn past_the_cap_the_session_that_ends_first_goes() {
    let s = MemorySessions::new(lives(100, 3), false);
    let (alice, bob) = (id(), id());
    let tokens: Vec<Secret> = (0..4).map(|i| login(&s, alice, t(i))).collect();
    let b = login(&s, bob, t(0));
    assert!(
        s.validate(tokens[0].expose(), t(5)).is_none(),
        "the oldest went"
    );
    for tok in &tokens[1..] {
        assert!(s.validate(tok.expose(), t(5)).is_some());
    }
    assert!(
        s.validate(b.expose(), t(5)).is_some(),
        "others' are not touched"
    );
    // The index follows every way a session ends.
    s.apply(SessionOp::RevokeUser {
        user: alice,
        except: Some(SessionId::of(tokens[3].expose())),
    });
    assert!(s.remove(tokens[3].expose()));
    s.sweep(t(200));
    let table = s.table();
    assert!(table.by_hash.is_empty() && table.by_user.is_empty());
}

#[test]
fn sweep_drops_expired() {
    let s = MemorySessions::new(lives(10, 100), false);
    login(&s, id(), t(0));
    login(&s, id(), t(5));
    s.sweep(t(12));
    assert_eq!(s.active(t(12)), 1);
}

#[test]
fn an_idle_session_ends_and_a_used_one_goes_on() {
    let s = MemorySessions::new(
        Lifetimes {
            idle: Some(Duration::from_secs(60)),
            ..lives(1000, 100)
        },
        false,
    );
    let alice = id();
    let used = login(&s, alice, t(0));
    let idle = login(&s, alice, t(0));
    for at in [50, 100, 150] {
        assert!(s.validate(used.expose(), t(at)).is_some(), "{at}");
    }
    assert!(
        s.validate(idle.expose(), t(150)).is_none(),
        "idle for 150 s"
    );
    assert_eq!(s.of_user(alice, t(151)).len(), 1);
    assert!(s.validate(used.expose(), t(211)).is_none(), "then idle too");
}

#[test]
fn uses_are_told_to_other_instances_a_tenth_of_the_timeout_apart() {
    let lifetimes = Lifetimes {
        idle: Some(Duration::from_secs(100)),
        ..lives(1000, 100)
    };
    let here = MemorySessions::new(lifetimes, true);
    let there = MemorySessions::new(lifetimes, true);
    let alice = id();
    let token = login(&here, alice, t(0));
    for op in here.live(t(0)) {
        there.apply(op);
    }
    here.validate(token.expose(), t(5));
    assert!(here.take_touches().is_empty(), "too soon to tell");
    here.validate(token.expose(), t(90));
    let told = here.take_touches();
    assert_eq!(told.len(), 1);
    assert!(here.take_touches().is_empty(), "taken once");
    for op in told {
        there.apply(op);
    }
    assert!(
        there.validate(token.expose(), t(150)).is_some(),
        "the other instance knows it was used at 90"
    );
}

#[test]
fn a_snapshot_keeps_when_and_where_a_session_started() {
    let s = MemorySessions::new(lives(1000, 100), false);
    let alice = id();
    let token = new_token(&mut rand::rng());
    let origin = Origin {
        client: Some("203.0.113.9".into()),
        agent: Some("Firefox".into()),
    };
    s.apply(SessionOp::Insert {
        id: SessionId::of(token.expose()),
        user: alice,
        expires: t(1000),
        created: Some(t(10)),
        last_used: Some(t(10)),
        origin: origin.clone(),
    });
    s.validate(token.expose(), t(20));
    let copy = MemorySessions::new(lives(1000, 100), false);
    let ops = s.live(t(30));
    let text = serde_json::to_string(&ops).unwrap();
    for op in serde_json::from_str::<Vec<SessionOp>>(&text).unwrap() {
        copy.apply(op);
    }
    let (_, got) = &copy.of_user(alice, t(30))[0];
    assert_eq!((got.created, got.last_used), (t(10), t(20)));
    assert_eq!(*got.origin, origin);
    // A log written before these were kept still reads.
    let old = format!(
        r#"{{"op":"insert","id":"{}","user":"{alice}","expires":{{"secs_since_epoch":1000,"nanos_since_epoch":0}}}}"#,
        hex::encode([7u8; 32])
    );
    assert!(serde_json::from_str::<SessionOp>(&old).is_ok());
}

#[test]
fn a_use_of_an_unknown_session_is_not_kept_and_an_old_session_counts_as_used_at_load() {
    let lifetimes = Lifetimes {
        idle: Some(Duration::from_secs(60)),
        ..lives(100_000, 100)
    };
    let s = MemorySessions::new(lifetimes, true);
    s.apply(SessionOp::Touch {
        id: SessionId::of("gone"),
        at: t(5),
    });
    assert!(
        s.table().told.is_empty(),
        "nothing kept for a session not here"
    );
    // A session from a log written before uses were kept.
    let now = SystemTime::now();
    let token = new_token(&mut rand::rng());
    s.apply(SessionOp::Insert {
        id: SessionId::of(token.expose()),
        user: id(),
        expires: now + Duration::from_secs(3600),
        created: None,
        last_used: None,
        origin: Origin::default(),
    });
    assert!(s
        .validate(token.expose(), now + Duration::from_secs(30))
        .is_some());
}
