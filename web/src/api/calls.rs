//! The typed calls, split into [`UnauthorizedApi`] and [`AuthorizedApi`] so
//! that a call that needs a session cannot be made without one.

use super::error::ApiError;
use super::socket::call;
use users_protocol::response::Empty;
use users_protocol::{
    Credentials, ListQuery, LoginReply, NewUser, Reply, Request, Secret, UserCreated, UserList,
    UserReply, UserUpdate, UserView,
};

/// Calls that need no session.
pub struct UnauthorizedApi;

impl UnauthorizedApi {
    /// create_user; returns the new username.
    pub async fn register(&self, user: NewUser) -> Result<String, ApiError> {
        let r: Reply<UserCreated> = call(Request::CreateUser { user_data: user }).await?;
        Ok(r.data.username)
    }

    /// login; returns the session.
    pub async fn login(
        &self,
        username: String,
        password: Secret,
    ) -> Result<(AuthorizedApi, UserView), ApiError> {
        let r: Reply<LoginReply> = call(Request::Login {
            credentials: Credentials {
                username,
                password,
                totp_code: None,
                recovery_code: None,
            },
        })
        .await?;
        Ok((
            AuthorizedApi {
                token: r.data.session_token,
            },
            r.data.user,
        ))
    }

    /// Picks up a saved session after a reload.
    pub async fn resume(&self, token: Secret) -> Result<(AuthorizedApi, UserView), ApiError> {
        let api = AuthorizedApi { token };
        let user = api.me().await?;
        Ok((api, user))
    }
}

/// Calls made with a session.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizedApi {
    token: Secret,
}

impl AuthorizedApi {
    /// The session token, for storage.
    pub fn token(&self) -> &Secret {
        &self.token
    }

    /// get_user of oneself.
    pub async fn me(&self) -> Result<UserView, ApiError> {
        self.get_user(None).await
    }

    /// get_user of `username` (admins and moderators).
    pub async fn user(&self, username: String) -> Result<UserView, ApiError> {
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
    pub async fn update(
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
    pub async fn delete(&self, password: Secret, target: Option<String>) -> Result<(), ApiError> {
        let _: Reply<Empty> = call(Request::DeleteUser {
            session_token: self.token.clone(),
            password,
            username: target,
        })
        .await?;
        Ok(())
    }

    /// list_users in the admin view.
    pub async fn list(&self, query: ListQuery) -> Result<UserList<UserView>, ApiError> {
        let r: Reply<UserList<UserView>> = call(Request::ListUsers {
            session_token: Some(self.token.clone()),
            query,
        })
        .await?;
        Ok(r.data)
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        let _: Reply<Empty> = call(Request::Logout {
            session_token: self.token.clone(),
        })
        .await?;
        Ok(())
    }
}
