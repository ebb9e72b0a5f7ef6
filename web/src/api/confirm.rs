//! What confirms a change as oneself ([`Proof`]): the password typed, or
//! for an account without one a passkey confirmation (passkey_confirm_begin,
//! which only the account's own passkeys answer), made as the change is
//! sent, so that it is fresh and used once.

use super::error::ApiError;
use super::socket::call;
use crate::webauthn;
use users_protocol::{CeremonyStart, PasskeyProof, Reply, Request, Secret};

/// How a change is confirmed.
pub(crate) enum Proof {
    /// With the password typed.
    Password(Secret),
    /// With a passkey, which the browser asks for when the change is sent.
    Passkey,
}

impl Proof {
    /// The members a request made with `session` takes it in: the password
    /// (empty with a passkey), and the passkey confirmation (none with a
    /// password).
    pub(super) async fn members(
        self,
        session: &Secret,
    ) -> Result<(Secret, PasskeyProof), ApiError> {
        match self {
            Proof::Password(password) => Ok((password, PasskeyProof::default())),
            Proof::Passkey => {
                let begun: Reply<CeremonyStart> = call(Request::PasskeyConfirmBegin {
                    session_token: session.clone(),
                })
                .await?;
                let begin = begun.data;
                let credential = webauthn::get(&begin.options, None)
                    .await
                    .map_err(ApiError::Browser)?;
                let passkey = PasskeyProof {
                    ceremony_id: Some(begin.ceremony_id),
                    credential: Some(credential),
                };
                Ok((Secret::default(), passkey))
            }
        }
    }
}

/// A password member that may be left out: none when empty.
pub(super) fn given(password: Secret) -> Option<Secret> {
    Some(password).filter(|p| !p.is_empty())
}
