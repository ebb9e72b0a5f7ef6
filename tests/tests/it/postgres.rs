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
