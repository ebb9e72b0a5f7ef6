//! Invitations and recovery links, as an admin makes them; the invitee's
//! and the user's side are `UnauthorizedApi::register` (with the token) and
//! [`UnauthorizedApi::reset_redeem`].

use super::calls::{send, send_for_nothing, AuthorizedApi, UnauthorizedApi};
use super::confirm::Proof;
use super::error::ApiError;
use std::future::Future;
use users_protocol::{
    Invitation, InviteCreated, InviteList, Request, ResetLinkCreated, Role, Secret,
};

/// What an admin gives invite_create.
pub(crate) struct NewInvite {
    pub(crate) role: Role,
    pub(crate) email: Option<String>,
    pub(crate) expires_in: String,
    pub(crate) note: Option<String>,
    pub(crate) proof: Proof,
    pub(crate) link_prefix: String,
}

impl AuthorizedApi {
    /// invite_create.
    pub(crate) fn invite(
        &self,
        i: NewInvite,
    ) -> impl Future<Output = Result<InviteCreated, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (current_password, passkey) = i.proof.members(&session_token).await?;
            send(Request::InviteCreate {
                session_token,
                current_password,
                passkey,
                role: i.role,
                email: i.email,
                expires_in: Some(i.expires_in),
                note: i.note,
                link_prefix: Some(i.link_prefix),
            })
            .await
        }
    }

    /// invite_list.
    pub(crate) fn invitations(&self) -> impl Future<Output = Result<Vec<Invitation>, ApiError>> {
        let request = Request::InviteList {
            session_token: self.token.clone(),
        };
        async move { Ok(send::<InviteList>(request).await?.invitations) }
    }

    /// invite_revoke.
    pub(crate) fn revoke_invite(
        &self,
        invite_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> {
        send_for_nothing(Request::InviteRevoke {
            session_token: self.token.clone(),
            invite_id,
        })
    }

    /// reset_link_create for `username`, the link under `link_prefix`.
    pub(crate) fn reset_link(
        &self,
        username: String,
        proof: Proof,
        link_prefix: String,
    ) -> impl Future<Output = Result<ResetLinkCreated, ApiError>> {
        let session_token = self.token.clone();
        async move {
            let (current_password, passkey) = proof.members(&session_token).await?;
            send(Request::ResetLinkCreate {
                session_token,
                current_password,
                passkey,
                username,
                expires_in: None,
                link_prefix: Some(link_prefix),
            })
            .await
        }
    }
}

impl UnauthorizedApi {
    /// reset_redeem: the link's account gets `password`.
    pub(crate) fn reset_redeem(
        &self,
        reset_token: Secret,
        password: Secret,
    ) -> impl Future<Output = Result<(), ApiError>> {
        send_for_nothing(Request::ResetRedeem {
            reset_token,
            password,
        })
    }
}
