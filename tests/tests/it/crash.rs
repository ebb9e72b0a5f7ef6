//! Crashes: the service killed with SIGKILL at random moments while clients
//! write, snapshots included (`--compact-after 5`), and started again each
//! time. Every change it acknowledged is there after each restart, and the
//! store always opens.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use users_tests::{ServiceOptions, ServiceProcess, Zmq};

const CYCLES: usize = 20;

/// What the clients were told was done: users created, and each one's
/// last acknowledged city.
#[derive(Default)]
struct Acknowledged {
    cities: HashMap<String, String>,
}

/// Creates users and changes their city until `stop`; records each success.
fn write_load(
    endpoint: String,
    cycle: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let c = Zmq::connect_timeout(&endpoint, Duration::from_millis(500));
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let name = format!("c{cycle:02}u{i:03}");
        let created = c.call(json!({"action": "create_user", "user_data": {
            "username": name, "email": format!("{name}@example.com"), "password": "crashpass"}}));
        match created {
            Ok(r) if r["status"] == "success" => {
                acked
                    .lock()
                    .unwrap()
                    .cities
                    .insert(name.clone(), String::new());
            }
            // A reply lost to the kill: the REQ socket is spent.
            _ => return,
        }
        i += 1;
    }
}

fn admin_view(s: &ServiceProcess) -> HashMap<String, Value> {
    let token = s.admin_token();
    let r = s
        .client()
        .call_ok(json!({"action": "list_users", "session_token": token}));
    r["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap().to_owned(), u.clone()))
        .collect()
}

#[test]
fn nothing_acknowledged_is_lost_to_sigkill_at_random_moments() {
    // Creation as fast as the clients go: the account-creation rate is not
    // what this measures.
    let mut s = ServiceProcess::start(ServiceOptions::default().arg(&[
        "--compact-after",
        "5",
        "--create-rate",
        "100000",
    ]));
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    for cycle in 0..CYCLES {
        // A change to one acknowledged user per cycle, besides the creations.
        let changed = acked.lock().unwrap().cities.keys().next().cloned();
        if let Some(name) = changed {
            let token = s.login(&name, "crashpass");
            let city = format!("City {cycle}");
            s.client()
                .call_ok(json!({"action": "update_user", "session_token": token,
                "update_data": {"city": city}}));
            acked.lock().unwrap().cities.insert(name, city);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let load = {
            let (endpoint, stop, acked) = (s.endpoint(), Arc::clone(&stop), Arc::clone(&acked));
            std::thread::spawn(move || write_load(endpoint, cycle, stop, acked))
        };
        // Killed once the load is under way (a slow machine may take a while
        // to acknowledge its first user), at a random moment after that.
        let before = acked.lock().unwrap().cities.len();
        users_tests::wait_until("the load's first user", Duration::from_secs(10), || {
            acked.lock().unwrap().cities.len() > before
        });
        std::thread::sleep(Duration::from_millis(rand::random_range(20..250)));
        s.kill();
        stop.store(true, Ordering::SeqCst);
        load.join().unwrap();

        s.spawn_now(); // panics, with the log, if the store does not open
        let now = admin_view(&s);
        let acked = acked.lock().unwrap();
        for (name, city) in &acked.cities {
            let user = now
                .get(name)
                .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged user {name} is gone"));
            assert_eq!(user["city"], city.as_str(), "cycle {cycle}: {name}'s city");
        }
    }
    let total = acked.lock().unwrap().cities.len();
    assert!(total > CYCLES, "the load acknowledged only {total} users");
    assert!(
        s.log_text().contains("snapshot written"),
        "snapshots were taken"
    );
}
