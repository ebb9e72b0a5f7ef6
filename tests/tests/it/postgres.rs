//! The private PostgreSQL server the PostgreSQL tests run against: it starts
//! for real, answers on loopback only, survives a restart with its data, and
//! leaves nothing behind.

use users_tests::PgCluster;

#[test]
fn a_private_cluster_answers_on_loopback_keeps_data_and_goes_away() {
    let mut pg = PgCluster::start();
    assert_eq!(pg.psql("users", "select 1"), "1");
    assert_eq!(pg.psql("users", "show listen_addresses"), "127.0.0.1");
    pg.psql("users", "create table t (n int); insert into t values (7)");
    pg.restart();
    assert_eq!(pg.psql("users", "select n from t"), "7");
    let port = pg.port;
    drop(pg);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server still answers after drop"
    );
}

fn connect(pg: &PgCluster) -> postgres::Client {
    postgres::Client::connect(&pg.url("users"), postgres::NoTls).expect("a connection")
}

#[test]
fn the_schema_is_made_once_by_versioned_steps_and_a_newer_one_is_refused() {
    use users_service::postgres::schema::{migrate, VERSION};
    let pg = PgCluster::start();
    // Instances starting together: one migrates, the others find it done.
    let migrated: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| migrate(&mut connect(&pg)).expect("migrate")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = migrated.clone();
    sorted.sort();
    assert_eq!(sorted, [0, VERSION, VERSION], "{migrated:?}");
    assert_eq!(
        pg.psql("users", "select version from users_schema"),
        VERSION.to_string()
    );
    for table in ["users_meta", "users_log", "users_snapshot"] {
        assert_eq!(
            pg.psql("users", &format!("select count(*) from {table}")),
            "0"
        );
    }
    // Again: nothing to do.
    assert_eq!(migrate(&mut connect(&pg)).unwrap(), VERSION);
    // A database a newer release has migrated is not touched.
    pg.psql(
        "users",
        &format!("update users_schema set version = {}", VERSION + 1),
    );
    let e = migrate(&mut connect(&pg)).unwrap_err().to_string();
    assert!(e.contains("newer than this release"), "{e}");
    assert_eq!(
        pg.psql("users", "select version from users_schema"),
        (VERSION + 1).to_string()
    );
}

#[test]
fn every_instance_derives_the_same_key_and_a_wrong_password_is_refused() {
    use users_service::postgres::{open_key, schema::migrate};
    use users_service::StorageError;
    let pg = PgCluster::start();
    migrate(&mut connect(&pg)).unwrap();
    // Two instances start together on an empty database: one header is made.
    let ciphers: Vec<fernet::Fernet> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    open_key(&mut connect(&pg), "master-pw", 1000, &mut rand::rng()).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        pg.psql(
            "users",
            "select count(*) from users_meta where name = 'kdf'"
        ),
        "1"
    );
    let token = ciphers[0].encrypt(b"from one instance");
    assert_eq!(ciphers[1].decrypt(&token).unwrap(), b"from one instance");
    // A later start finds it; a wrong password is told before anything else.
    let again = open_key(&mut connect(&pg), "master-pw", 1000, &mut rand::rng()).unwrap();
    assert_eq!(again.decrypt(&token).unwrap(), b"from one instance");
    let wrong = open_key(&mut connect(&pg), "not-the-master", 1000, &mut rand::rng());
    assert!(
        matches!(wrong, Err(StorageError::WrongPassword(_))),
        "{:?}",
        wrong.err()
    );
    let meta = pg.psql("users", "select string_agg(value, ' ') from users_meta");
    assert!(!meta.contains("master-pw"), "{meta}");
}

#[test]
fn the_log_gives_back_each_batch_in_order_and_refuses_rows_moved_or_missing() {
    use users_service::postgres::{log, open_key, schema::migrate};
    use users_service::Change;
    use users_service::UserId;
    let pg = PgCluster::start();
    let mut client = connect(&pg);
    migrate(&mut client).unwrap();
    let cipher = open_key(&mut client, "master-pw", 1000, &mut rand::rng()).unwrap();
    let ids: Vec<UserId> = (0..3).map(|_| UserId::random(&mut rand::rng())).collect();
    let delete = |seq, id| log::Batch::new(seq, &[Change::Delete(id)], &[]);
    let log = log::Log::prepare(&mut client).unwrap();
    let head = |client: &mut postgres::Client| -> i64 {
        client
            .query_one("SELECT coalesce(max(seq), 0) FROM users_log", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(head(&mut client), 0);
    for (seq, id) in (1..).zip(&ids) {
        log.append(&mut client, &cipher, &delete(seq, *id)).unwrap();
    }
    assert_eq!(head(&mut client), 3);
    // The same number twice: the second is refused.
    assert!(log
        .append(&mut client, &cipher, &delete(3, ids[0]))
        .is_err());
    let read = |client: &mut postgres::Client, after| {
        let mut seen = Vec::new();
        let last = log.read_after(client, &cipher, log::Position::seq(after), |seq, batch| {
            for change in batch.changes()? {
                match change {
                    Change::Delete(id) => seen.push((seq, id)),
                    Change::Put(_) => return Err("unexpected change".into()),
                }
            }
            Ok(())
        });
        last.map(|last| (last.seq, seen))
    };
    let (last, seen) = read(&mut client, 0).unwrap();
    assert_eq!(last, 3);
    assert_eq!(seen, [(1, ids[0]), (2, ids[1]), (3, ids[2])]);
    assert_eq!(read(&mut client, 2).unwrap().1, [(3, ids[2])]);
    // Nothing in clear: the tokens only.
    let rows = pg.psql("users", "select string_agg(token, ' ') from users_log");
    assert!(!rows.contains(&ids[0].to_string()), "{rows}");
    // A row moved to another number is refused; so is a gap.
    pg.psql(
        "users",
        "update users_log set token = (select token from users_log where seq = 2) where seq = 3",
    );
    let e = read(&mut client, 0).unwrap_err().to_string();
    assert!(e.contains("row 3") && e.contains("holds batch 2"), "{e}");
    pg.psql("users", "delete from users_log where seq = 2");
    let e = read(&mut client, 0).unwrap_err().to_string();
    assert!(e.contains("batch 2 is missing"), "{e}");
    // An instance at batch 1 whose next batch is gone cannot follow: it is
    // told to restart and load the snapshot.
    let e = read(&mut client, 1).unwrap_err().to_string();
    assert!(e.contains("fell behind"), "{e}");
}
