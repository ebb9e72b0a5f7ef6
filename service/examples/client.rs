//! The original's client flow in Rust: register, log in, change the username,
//! change the password, log out.
//!
//!     cargo run -p users-service --example client -- [ENDPOINT]
//!
//! ENDPOINT defaults to tcp://127.0.0.1:5556.

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;
use users_protocol::response::{parse_reply, Empty};
use users_protocol::{
    Credentials, LoginReply, NewUser, ProfileField, Reply, Request, RequestEnvelope, Secret,
    UserCreated, UserReply, UserUpdate,
};

fn call<T: DeserializeOwned>(sock: &zmq::Socket, request: Request) -> anyhow::Result<Reply<T>> {
    let env = RequestEnvelope {
        request_id: None,
        request,
    };
    sock.send(serde_json::to_vec(&env)?, 0)?;
    let bytes = sock
        .recv_bytes(0)
        .context("no reply (is users-service running?)")?;
    let text = String::from_utf8(bytes)?;
    parse_reply(&text).map_err(Into::into)
}

fn main() -> anyhow::Result<()> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:5556".into());
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq::REQ)?;
    sock.set_rcvtimeo(10_000)?;
    sock.set_linger(0)?;
    sock.connect(&endpoint)?;

    let suffix = std::process::id();
    let username = format!("alice{suffix}");
    let created: Reply<UserCreated> = call(
        &sock,
        Request::CreateUser {
            user_data: NewUser {
                username: username.clone(),
                email: format!("alice{suffix}@example.com"),
                password: Secret::from("SecurePass123!"),
                profile: [(ProfileField::FullName, "Alice Smith".to_owned())]
                    .into_iter()
                    .collect(),
            },
            session_token: None,
        },
    )?;
    println!("Account created: {}", created.data.username);

    let login: Reply<LoginReply> = call(
        &sock,
        Request::Login {
            credentials: Credentials {
                username: username.clone(),
                password: Secret::from("SecurePass123!"),
                totp_code: None,
                recovery_code: None,
            },
        },
    )?;
    let token = login.data.session_token;
    println!(
        "Logged in as {} until {}",
        login.data.user.username, login.data.expires_at
    );

    let renamed: Reply<UserReply> = call(
        &sock,
        Request::UpdateUser {
            passkey: Default::default(),
            session_token: token.clone(),
            update_data: UserUpdate {
                username: Some(format!("{username}_updated")),
                ..Default::default()
            },
            username: None,
        },
    )?;
    println!("New username: {}", renamed.data.user.username);

    let _: Reply<UserReply> = call(
        &sock,
        Request::UpdateUser {
            passkey: Default::default(),
            session_token: token.clone(),
            update_data: UserUpdate {
                current_password: Some(Secret::from("SecurePass123!")),
                password: Some(Secret::from("NewSecurePass456!")),
                ..Default::default()
            },
            username: None,
        },
    )?;
    println!("Password updated successfully");

    let out: Reply<Empty> = call(
        &sock,
        Request::Logout {
            session_token: token,
        },
    )?;
    if out.message.is_empty() {
        bail!("empty logout reply");
    }
    println!("{}", out.message);
    Ok(())
}
