//! users-bridge in front of several instances on one PostgreSQL: requests
//! take turns, an instance that stops answering is gone around, and one that
//! comes back gets its turn again.

use super::cluster::instances;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use users_tests::PgCluster;

/// `/healthz`'s instances: (endpoint, up, requests given).
fn instances_health(port: u16) -> (u16, Vec<(String, bool, u64)>) {
    let (code, body) = users_tests::http::http_get(port, "/healthz").unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    let list = v["instances"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|i| {
            (
                i["endpoint"].as_str().unwrap().to_owned(),
                i["service"] == "up",
                i["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    (code, list)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_spreads_requests_and_goes_around_an_instance_that_stops() {
    use users_tests::{ws, BridgeProcess};
    let pg = PgCluster::start();
    let [a, mut b] = <[_; 2]>::try_from(instances(&pg, 2)).ok().unwrap();
    let bridge = BridgeProcess::start(
        &a.endpoint(),
        &["--service", &b.endpoint(), "--request-timeout", "2s"],
    );
    let (code, list) = instances_health(bridge.port);
    assert_eq!(code, 200);
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|i| i.1), "{list:?}");

    // Logins take turns: both instances get some, and every token works
    // whichever instance the next request reaches.
    let mut c = ws::connect(&bridge.ws_url(), None).await.unwrap();
    let login = json!({"action": "login",
        "credentials": {"username": "admin", "password": users_tests::ADMIN_PASSWORD}});
    for _ in 0..10 {
        let r = ws::call(&mut c, login.clone()).await;
        let t = r["session_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"))
            .to_owned();
        for _ in 0..2 {
            let r = ws::call(&mut c, json!({"action": "get_user", "session_token": t})).await;
            assert_eq!(r["user"]["username"], "admin", "{r}");
        }
    }
    let (_, list) = instances_health(bridge.port);
    assert!(
        list.iter().all(|i| i.2 >= 10),
        "both instances got requests: {list:?}"
    );

    // b stops answering without closing its sockets: what reaches it gets
    // service_unavailable within the request timeout, and soon every request
    // goes to a.
    let pid = b.pid().unwrap().to_string();
    let signal = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
    };
    assert!(signal("-STOP").success());
    let health = json!({"action": "health_check"});
    let started = Instant::now();
    let mut unavailable = 0;
    for _ in 0..4 {
        let asked = Instant::now();
        let r = ws::call(&mut c, health.clone()).await;
        if r["code"] == "service_unavailable" {
            unavailable += 1;
            assert!(
                asked.elapsed() < Duration::from_secs(4),
                "not within the timeout"
            );
        } else {
            assert_eq!(r["status"], "success", "{r}");
        }
    }
    assert!(unavailable >= 1, "no request reached the stopped instance");
    loop {
        let ok = futures_util::future::join_all((0..10).map(|_| async {
            let mut c = ws::connect(&bridge.ws_url(), None).await.unwrap();
            ws::call(&mut c, health.clone()).await["status"] == "success"
        }))
        .await;
        if ok.iter().all(|ok| *ok) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "requests still go to the stopped instance"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, list) = instances_health(bridge.port);
    assert_eq!(code, 200, "degraded is still served");
    assert_eq!((list[0].1, list[1].1), (true, false), "{list:?}");

    // b is back: it gets its turn again.
    assert!(signal("-CONT").success());
    let before = instances_health(bridge.port).1[1].2;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        for _ in 0..4 {
            ws::call(&mut c, health.clone()).await;
        }
        let (_, list) = instances_health(bridge.port);
        if list[1].1 && list[1].2 > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "b gets no traffic again: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.stop();
}
