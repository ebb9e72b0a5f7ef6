//! What an action did, as values: the server's codec turns an [`Outcome`] into
//! reply bytes, and the writer hands [`Event`]s on.

use crate::model::UserId;
use users_protocol::{Health, LoginReply, PublicUser, UserList, UserView};

/// The result of a successful action.
#[derive(Debug)]
pub enum Outcome {
    /// health_check.
    Health(Health),
    /// logout.
    LoggedOut,
    /// get_user.
    Found(Box<UserView>),
    /// list_users.
    Listed(Listing),
    /// create_user; the new username.
    Created(String),
    /// login.
    LoggedIn(Box<LoginReply>),
    /// update_user; the user as it is now.
    Updated(Box<UserView>),
    /// delete_user.
    Deleted,
    /// A background change, such as a login's `last_login`: no one is told.
    Recorded,
}

/// A list_users page in the view the caller may see.
#[derive(Debug)]
pub enum Listing {
    /// For admins and moderators.
    Admin(UserList<UserView>),
    /// For everyone else.
    Public(UserList<PublicUser>),
}

/// Something that happened to an account. The writer hands it on only once the
/// change that caused it is committed; the audit log will record it there
/// (until it exists, the writer logs it at debug level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Who did it: the account whose session made the request, if any.
    pub actor: Option<UserId>,
    /// The account it happened to.
    pub target: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// An account was registered.
    Created,
    /// A login succeeded.
    LoggedIn,
    /// Fields were changed; their names, never their values.
    Updated(Vec<&'static str>),
    /// An account was deleted.
    Deleted,
}
