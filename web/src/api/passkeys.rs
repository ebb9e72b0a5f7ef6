//! The passkey calls. Adding one and signing in with one are ceremonies:
//! the service's begin, the browser's part (`crate::webauthn`), the
//! service's finish, in one future.

use super::calls::{send, send_for_nothing, AuthorizedApi, LoggedIn, UnauthorizedApi};
use super::confirm::{given, Proof};
use super::error::ApiError;
use crate::webauthn;
use std::future::Future;
use users_protocol::{
    CeremonyStart, LoginReply, NewUser, PasskeyList, PasskeyProof, PasskeyReply, PasskeyView,
    Request, Secret, UserCreated,
};
use web_sys::AbortSignal;

impl AuthorizedApi {
    /// Adds a passkey named `name`: confirmed first, then the device.
    pub(crate) fn add_passkey(
        &self,
        name: String,
        proof: Proof,
    ) -> impl Future<Output = Result<PasskeyView, ApiError>> {
        let api = self.clone();
        async move {
            let begun = api.begin_passkey(name.clone(), proof).await?;
            api.finish_passkey(name, begun).await
        }
    }

    /// passkey_register_begin for a passkey named `name`, confirmed with
    /// `proof`: the ceremony, for [`Self::finish_passkey`].
    pub(crate) fn begin_passkey(
        &self,
        name: String,
        proof: Proof,
    ) -> impl Future<Output = Result<CeremonyStart, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (current_password, passkey) = proof.members(&session_token).await?;
            send(Request::PasskeyRegisterBegin {
                session_token,
                current_password,
                passkey,
                name: Some(name),
            })
            .await
        }
    }

    /// The device makes the passkey of the ceremony `begun`, and
    /// passkey_register_finish adds it.
    pub(crate) fn finish_passkey(
        &self,
        name: String,
        begun: CeremonyStart,
    ) -> impl Future<Output = Result<PasskeyView, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let credential = webauthn::create(&begun.options)
                .await
                .map_err(ApiError::Browser)?;
            let added: PasskeyReply = send(Request::PasskeyRegisterFinish {
                session_token,
                ceremony_id: begun.ceremony_id,
                credential,
                name: Some(name),
            })
            .await?;
            Ok(added.passkey)
        }
    }

    /// passkey_list of one's own.
    pub(crate) fn passkeys(&self) -> impl Future<Output = Result<Vec<PasskeyView>, ApiError>> {
        let request = Request::PasskeyList {
            session_token: self.token.clone(),
            username: None,
        };
        async move { Ok(send::<PasskeyList>(request).await?.passkeys) }
    }

    /// passkey_rename.
    pub(crate) fn rename_passkey(
        &self,
        passkey_id: String,
        name: String,
    ) -> impl Future<Output = Result<(), ApiError>> {
        let request = Request::PasskeyRename {
            session_token: self.token.clone(),
            passkey_id,
            name,
        };
        async move { send::<PasskeyReply>(request).await.map(drop) }
    }

    /// passkey_delete of one's own, confirmed by its owner.
    pub(crate) fn remove_passkey(
        &self,
        passkey_id: String,
        proof: Proof,
    ) -> impl Future<Output = Result<(), ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (password, passkey) = proof.members(&session_token).await?;
            send_for_nothing(Request::PasskeyDelete {
                session_token,
                passkey_id,
                password: given(password),
                passkey,
                username: None,
            })
            .await
        }
    }
}

impl UnauthorizedApi {
    /// invite_accept with a passkey instead of a password: the device makes
    /// it for `user`'s username; returns the new username.
    pub(crate) fn register_with_passkey(
        &self,
        user: NewUser,
        invite_token: Secret,
    ) -> impl Future<Output = Result<String, ApiError>> {
        async move {
            let begin: CeremonyStart = send(Request::InvitePasskeyBegin {
                invite_token: invite_token.clone(),
                user_data: user.clone(),
            })
            .await?;
            let credential = webauthn::create(&begin.options)
                .await
                .map_err(ApiError::Browser)?;
            let created: UserCreated = send(Request::InviteAccept {
                invite_token,
                user_data: user,
                passkey: PasskeyProof {
                    ceremony_id: Some(begin.ceremony_id),
                    credential: Some(credential),
                },
            })
            .await?;
            Ok(created.username)
        }
    }

    /// Signs in with a passkey the browser offers: in its own dialog, or
    /// with `autofill` in the username field's autofill, until that signal
    /// aborts the wait.
    pub(crate) fn passkey_login(
        &self,
        autofill: Option<AbortSignal>,
    ) -> impl Future<Output = Result<LoggedIn, ApiError>> {
        async move {
            let begin: CeremonyStart = send(Request::PasskeyLoginBegin { username: None }).await?;
            let credential = webauthn::get(&begin.options, autofill.as_ref())
                .await
                .map_err(ApiError::Browser)?;
            let r: LoginReply = send(Request::PasskeyLoginFinish {
                ceremony_id: begin.ceremony_id,
                credential,
            })
            .await?;
            Ok(LoggedIn {
                api: AuthorizedApi {
                    token: r.session_token,
                },
                user: r.user,
                must_change_password: r.password_change_required,
            })
        }
    }
}
