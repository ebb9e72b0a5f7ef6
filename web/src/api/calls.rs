//! The typed calls, split into [`UnauthorizedApi`] and [`AuthorizedApi`] so
//! that a call that needs a session cannot be made without one.

use super::error::ApiError;
use super::socket::call;
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
    /// create_user; returns the new username.
    pub(crate) async fn register(&self, user: NewUser) -> Result<String, ApiError> {
        let r: Reply<UserCreated> = call(Request::CreateUser { user_data: user }).await?;
        Ok(r.data.username)
    }

    /// login, with a second factor when the account asks for one
    /// (`totp_required`); returns the session.
    pub(crate) async fn login(
        &self,
        username: String,
        password: Secret,
        second: Option<SecondFactor>,
    ) -> Result<LoggedIn, ApiError> {
        let (totp_code, recovery_code) = match second {
            Some(SecondFactor::Code(c)) => (Some(c), None),
            Some(SecondFactor::Recovery(c)) => (None, Some(c)),
            None => (None, None),
        };
        let r: Reply<LoginReply> = call(Request::Login {
            credentials: Credentials {
                username,
                password,
                totp_code,
                recovery_code,
            },
        })
        .await?;
        Ok(LoggedIn {
            api: AuthorizedApi {
                token: r.data.session_token,
            },
            user: r.data.user,
            must_change_password: r.data.password_change_required,
        })
    }

    /// Picks up a saved session after a reload.
    pub(crate) async fn resume(
        &self,
        token: Secret,
    ) -> Result<(AuthorizedApi, UserView), ApiError> {
        let api = AuthorizedApi { token };
        let user = api.me().await?;
        Ok((api, user))
    }
}

/// Calls made with a session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AuthorizedApi {
    token: Secret,
}

impl AuthorizedApi {
    /// The session token, for storage.
    pub(crate) fn token(&self) -> &Secret {
        &self.token
    }

    /// get_user of oneself.
    pub(crate) async fn me(&self) -> Result<UserView, ApiError> {
        self.get_user(None).await
    }

    /// get_user of `username` (admins and moderators).
    pub(crate) async fn user(&self, username: String) -> Result<UserView, ApiError> {
        self.get_user(Some(username)).await
    }

    async fn get_user(&self, username: Option<String>) -> Result<UserView, ApiError> {
        let r: Reply<UserReply> = call(Request::GetUser {
            session_token: self.token.clone(),
            username,
        })
        .await?;
        Ok(r.data.user)
    }

    /// update_user of oneself, or (admins) of `target`.
    pub(crate) async fn update(
        &self,
        update: UserUpdate,
        target: Option<String>,
    ) -> Result<UserView, ApiError> {
        let r: Reply<UserReply> = call(Request::UpdateUser {
            session_token: self.token.clone(),
            update_data: update,
            username: target,
        })
        .await?;
        Ok(r.data.user)
    }

    /// delete_user of oneself, or (admins) of `target`, confirmed by the caller's password.
    pub(crate) async fn delete(
        &self,
        password: Secret,
        target: Option<String>,
    ) -> Result<(), ApiError> {
        let _: Reply<Empty> = call(Request::DeleteUser {
            session_token: self.token.clone(),
            password,
            username: target,
        })
        .await?;
        Ok(())
    }

    /// list_users in the admin view.
    pub(crate) async fn list(&self, query: ListQuery) -> Result<UserList<UserView>, ApiError> {
        let r: Reply<UserList<UserView>> = call(Request::ListUsers {
            session_token: Some(self.token.clone()),
            query,
        })
        .await?;
        Ok(r.data)
    }

    pub(crate) async fn logout(&self) -> Result<(), ApiError> {
        let _: Reply<Empty> = call(Request::Logout {
            session_token: self.token.clone(),
        })
        .await?;
        Ok(())
    }

    /// list_sessions, one's own or (admins) `target`'s.
    pub(crate) async fn sessions(&self, target: Option<String>) -> Result<SessionList, ApiError> {
        let r: Reply<SessionList> = call(Request::ListSessions {
            session_token: self.token.clone(),
            username: target,
        })
        .await?;
        Ok(r.data)
    }

    /// revoke_session; returns how many ended.
    pub(crate) async fn revoke(&self, which: Revoke) -> Result<usize, ApiError> {
        let (session_id, all_others, username, all) = match which {
            Revoke::One(id) => (Some(id), false, None, false),
            Revoke::AllOthers => (None, true, None, false),
            Revoke::AllOf(name) => (None, false, Some(name), true),
        };
        let r: Reply<Revoked> = call(Request::RevokeSession {
            session_token: self.token.clone(),
            session_id,
            all_others,
            username,
            all,
        })
        .await?;
        Ok(r.data.revoked)
    }

    /// session_status: whether the session is still valid, without using it.
    pub(crate) async fn still_valid(&self) -> Result<(), ApiError> {
        let _: Reply<SessionStatus> = call(Request::SessionStatus {
            session_token: self.token.clone(),
        })
        .await?;
        Ok(())
    }

    /// totp_setup: a secret to confirm.
    pub(crate) async fn totp_setup(&self) -> Result<TotpSetup, ApiError> {
        let r: Reply<TotpSetup> = call(Request::TotpSetup {
            session_token: self.token.clone(),
        })
        .await?;
        Ok(r.data)
    }

    /// totp_enable; returns the recovery codes.
    pub(crate) async fn totp_enable(
        &self,
        password: Secret,
        code: Secret,
    ) -> Result<Vec<Secret>, ApiError> {
        let r: Reply<RecoveryCodes> = call(Request::TotpEnable {
            session_token: self.token.clone(),
            password,
            code,
        })
        .await?;
        Ok(r.data.recovery_codes)
    }

    /// totp_disable: one's own with a second factor, or (admins) `target`'s.
    pub(crate) async fn totp_disable(
        &self,
        password: Secret,
        second: Option<SecondFactor>,
        target: Option<String>,
    ) -> Result<(), ApiError> {
        let (code, recovery_code) = match second {
            Some(SecondFactor::Code(c)) => (Some(c), None),
            Some(SecondFactor::Recovery(c)) => (None, Some(c)),
            None => (None, None),
        };
        let _: Reply<Empty> = call(Request::TotpDisable {
            session_token: self.token.clone(),
            password,
            code,
            recovery_code,
            username: target,
        })
        .await?;
        Ok(())
    }

    /// audit_log.
    pub(crate) async fn audit(&self, query: AuditQuery) -> Result<AuditPage, ApiError> {
        let r: Reply<AuditPage> = call(Request::AuditLog {
            session_token: self.token.clone(),
            query,
        })
        .await?;
        Ok(r.data)
    }
}
