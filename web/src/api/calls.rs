//! The typed calls, split into [`UnauthorizedApi`] and [`AuthorizedApi`] so
//! that a call that needs a session cannot be made without one.

use super::confirm::{given, Proof};
use super::error::ApiError;
use super::socket::call;
use serde::de::DeserializeOwned;
use std::future::Future;
use users_protocol::response::Empty;
use users_protocol::{
    AuditPage, AuditQuery, Credentials, ListQuery, LoginReply, NewUser, RecoveryCodes, Reply,
    Request, Revoked, Secret, SessionList, SessionStatus, TotpSetup, UserCreated, UserList,
    UserReply, UserUpdate, UserView,
};

/// The second factor a login carries, when the account has one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SecondFactor {
    /// A 6-digit code from the authenticator app.
    Code(Secret),
    /// One of the recovery codes.
    Recovery(Secret),
}

/// A login that succeeded.
pub(crate) struct LoggedIn {
    /// Calls with the new session.
    pub(crate) api: AuthorizedApi,
    /// The user.
    pub(crate) user: UserView,
    /// The account still has the well-known first-admin password.
    pub(crate) must_change_password: bool,
}

/// Which sessions revoke_session ends.
pub(crate) enum Revoke {
    /// One of one's own, by id.
    One(String),
    /// All of one's own but this one.
    AllOthers,
    /// All of another user's (admins).
    AllOf(String),
}

/// Calls that need no session.
pub(crate) struct UnauthorizedApi;

impl UnauthorizedApi {
    /// create_user, or with an invitation's token invite_accept; returns
    /// the new username.
    pub(crate) fn register(
        &self,
        user: NewUser,
        invite: Option<Secret>,
    ) -> impl Future<Output = Result<String, ApiError>> {
        let request = match invite {
            Some(invite_token) => Request::InviteAccept {
                invite_token,
                user_data: user,
                passkey: Default::default(),
            },
            None => Request::CreateUser {
                user_data: user,
                session_token: None,
            },
        };
        async move { Ok(send::<UserCreated>(request).await?.username) }
    }

    /// login, with a second factor when the account asks for one
    /// (`totp_required`); returns the session.
    pub(crate) fn login(
        &self,
        username: String,
        password: Secret,
        second: Option<SecondFactor>,
    ) -> impl Future<Output = Result<LoggedIn, ApiError>> {
        let (totp_code, recovery_code) = split(second);
        let request = Request::Login {
            credentials: Credentials {
                username,
                password,
                totp_code,
                recovery_code,
            },
        };
        async move {
            let r = send::<LoginReply>(request).await?;
            Ok(LoggedIn {
                api: AuthorizedApi {
                    token: r.session_token,
                },
                user: r.user,
                must_change_password: r.password_change_required,
            })
        }
    }

    /// Picks up a saved session after a reload.
    pub(crate) fn resume(
        &self,
        token: Secret,
    ) -> impl Future<Output = Result<(AuthorizedApi, UserView), ApiError>> {
        let api = AuthorizedApi { token };
        async move {
            let user = api.me().await?;
            Ok((api, user))
        }
    }
}

/// Calls made with a session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AuthorizedApi {
    pub(super) token: Secret,
}

impl AuthorizedApi {
    /// The session token, for storage.
    pub(crate) fn token(&self) -> &Secret {
        &self.token
    }

    /// get_user of oneself.
    pub(crate) fn me(&self) -> impl Future<Output = Result<UserView, ApiError>> {
        self.get_user(None)
    }

    /// get_user of `username` (admins and moderators).
    pub(crate) fn user(
        &self,
        username: String,
    ) -> impl Future<Output = Result<UserView, ApiError>> {
        self.get_user(Some(username))
    }

    fn get_user(
        &self,
        username: Option<String>,
    ) -> impl Future<Output = Result<UserView, ApiError>> {
        let request = Request::GetUser {
            session_token: self.token.clone(),
            username,
        };
        async move { Ok(send::<UserReply>(request).await?.user) }
    }

    /// update_user of oneself, or (admins) of `target`.
    pub(crate) fn update(
        &self,
        update: UserUpdate,
        target: Option<String>,
    ) -> impl Future<Output = Result<UserView, ApiError>> {
        let request = Request::UpdateUser {
            session_token: self.token.clone(),
            update_data: update,
            username: target,
            passkey: Default::default(),
        };
        async move { Ok(send::<UserReply>(request).await?.user) }
    }

    /// update_user of a password, a role or a status: [`Self::update`],
    /// confirmed by the caller.
    pub(crate) fn update_confirmed(
        &self,
        mut update: UserUpdate,
        proof: Proof,
        target: Option<String>,
    ) -> impl Future<Output = Result<UserView, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (password, passkey) = proof.members(&session_token).await?;
            update.current_password = given(password);
            let request = Request::UpdateUser {
                session_token,
                update_data: update,
                username: target,
                passkey,
            };
            Ok(send::<UserReply>(request).await?.user)
        }
    }

    /// delete_user of oneself, or (admins) of `target`, confirmed by the caller.
    pub(crate) fn delete(
        &self,
        proof: Proof,
        target: Option<String>,
    ) -> impl Future<Output = Result<(), ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (password, passkey) = proof.members(&session_token).await?;
            send_for_nothing(Request::DeleteUser {
                session_token,
                password,
                username: target,
                passkey,
            })
            .await
        }
    }

    /// list_users in the admin view.
    pub(crate) fn list(
        &self,
        query: ListQuery,
    ) -> impl Future<Output = Result<UserList<UserView>, ApiError>> {
        send(Request::ListUsers {
            session_token: Some(self.token.clone()),
            query,
        })
    }

    /// logout, and the sign-in cookie cleared.
    pub(crate) fn logout(&self) -> impl Future<Output = Result<(), ApiError>> {
        let ended = send_for_nothing(Request::Logout {
            session_token: self.token.clone(),
        });
        let cleared = self.clear_sign_in_cookie();
        async move {
            let outcome = ended.await;
            cleared.await;
            outcome
        }
    }

    /// list_sessions, one's own or (admins) `target`'s.
    pub(crate) fn sessions(
        &self,
        target: Option<String>,
    ) -> impl Future<Output = Result<SessionList, ApiError>> {
        send(Request::ListSessions {
            session_token: self.token.clone(),
            username: target,
        })
    }

    /// revoke_session; returns how many ended.
    pub(crate) fn revoke(&self, which: Revoke) -> impl Future<Output = Result<usize, ApiError>> {
        let (session_id, all_others, username, all) = match which {
            Revoke::One(id) => (Some(id), false, None, false),
            Revoke::AllOthers => (None, true, None, false),
            Revoke::AllOf(name) => (None, false, Some(name), true),
        };
        let request = Request::RevokeSession {
            session_token: self.token.clone(),
            session_id,
            all_others,
            username,
            all,
            everyone: false,
            current_password: None,
            passkey: Default::default(),
        };
        async move { Ok(send::<Revoked>(request).await?.revoked) }
    }

    /// session_status: whether the session is still valid, without using it.
    pub(crate) fn still_valid(&self) -> impl Future<Output = Result<(), ApiError>> {
        let request = Request::SessionStatus {
            session_token: self.token.clone(),
        };
        async move { send::<SessionStatus>(request).await.map(drop) }
    }

    /// totp_setup: a secret to confirm.
    pub(crate) fn totp_setup(&self) -> impl Future<Output = Result<TotpSetup, ApiError>> {
        send(Request::TotpSetup {
            session_token: self.token.clone(),
        })
    }

    /// totp_enable; returns the recovery codes.
    pub(crate) fn totp_enable(
        &self,
        proof: Proof,
        code: Secret,
    ) -> impl Future<Output = Result<Vec<Secret>, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (password, passkey) = proof.members(&session_token).await?;
            let request = Request::TotpEnable {
                session_token,
                password,
                passkey,
                code,
            };
            Ok(send::<RecoveryCodes>(request).await?.recovery_codes)
        }
    }

    /// totp_disable: one's own with a second factor, or (admins) `target`'s.
    pub(crate) fn totp_disable(
        &self,
        proof: Proof,
        second: Option<SecondFactor>,
        target: Option<String>,
    ) -> impl Future<Output = Result<(), ApiError>> {
        let (code, recovery_code) = split(second);
        let session_token = self.token.clone();
        async move {
            let (password, passkey) = proof.members(&session_token).await?;
            send_for_nothing(Request::TotpDisable {
                session_token,
                password,
                passkey,
                code,
                recovery_code,
                username: target,
            })
            .await
        }
    }

    /// audit_log.
    pub(crate) fn audit(
        &self,
        query: AuditQuery,
    ) -> impl Future<Output = Result<AuditPage, ApiError>> {
        send(Request::AuditLog {
            session_token: self.token.clone(),
            query,
        })
    }
}

/// A second factor as the protocol's pair of fields: (code, recovery code).
fn split(second: Option<SecondFactor>) -> (Option<Secret>, Option<Secret>) {
    match second {
        Some(SecondFactor::Code(c)) => (Some(c), None),
        Some(SecondFactor::Recovery(c)) => (None, Some(c)),
        None => (None, None),
    }
}

/// Sends `request` and returns its reply's data. The calls build their
/// request before they return, so the future owns all it needs: it can
/// run on after the screen that asked has gone.
pub(super) async fn send<T: DeserializeOwned>(request: Request) -> Result<T, ApiError> {
    let reply: Reply<T> = call(request).await?;
    Ok(reply.data)
}

/// Sends `request`, whose success carries nothing.
pub(super) async fn send_for_nothing(request: Request) -> Result<(), ApiError> {
    send::<Empty>(request).await.map(drop)
}
