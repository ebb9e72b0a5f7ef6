//! The master passwords a command is given: the store's, and for
//! `rotate-key` the new one.

use std::path::Path;
use users_protocol::Secret;
use users_service::file_store::rotate;
use users_service::master_password as master;

/// The master password, from the environment, a file, or the key file beside
/// `store`. The variables are removed from the environment once read, so that
/// nothing this process starts later inherits them.
pub(crate) fn master_password(store: &Path) -> anyhow::Result<Secret> {
    // Finishing a key rotation may put a new key file in place: first.
    if store.exists() {
        rotate::recover_if_idle(store)?;
    }
    master_password_read_only(store)
}

/// [`master_password`], for the commands that read a store beside a
/// running service and change nothing (`verify`, `backup`).
pub(crate) fn master_password_read_only(store: &Path) -> anyhow::Result<Secret> {
    let given = take_given("USERS_SERVICE_PASSWORD");
    let (master, source) = master::resolve(given, store)?;
    match &source {
        master::Source::Env => {}
        master::Source::File(p) => {
            tracing::info!(file = %p.display(), "master password from USERS_SERVICE_PASSWORD_FILE")
        }
        master::Source::KeyFile(p) => {
            tracing::info!(key_file = %p.display(), "master secret from key file")
        }
        master::Source::NewKeyFile(p) => tracing::warn!(
            key_file = %p.display(),
            "USERS_SERVICE_PASSWORD is not set: generated a random master secret into the key file; \
             back it up with the store, or the store cannot be opened"
        ),
    }
    Ok(master)
}

/// Whether the store's master secret is in its key file: neither variable
/// is set and the file exists. Read before [`master_password`] clears them.
pub(crate) fn uses_key_file(store: &Path) -> bool {
    // An empty USERS_SERVICE_PASSWORD counts as unset, as `master::resolve` has it.
    std::env::var_os("USERS_SERVICE_PASSWORD").is_none_or(|p| p.is_empty())
        && std::env::var_os("USERS_SERVICE_PASSWORD_FILE").is_none()
        && master::key_file(store).exists()
}

/// The new master password for `rotate-key`, from `USERS_SERVICE_NEW_PASSWORD`
/// or `USERS_SERVICE_NEW_PASSWORD_FILE` (removed from the environment once
/// read), or a random one for a store whose key file will hold it.
pub(crate) fn new_master_password(old: &Secret, key_file: bool) -> anyhow::Result<Secret> {
    let given = take_given("USERS_SERVICE_NEW_PASSWORD");
    Ok(master::resolve_new(given, old, key_file)?)
}

/// The variable `name` and the file `name_FILE` names, as given; both are
/// removed from the environment, so that nothing this process starts later
/// inherits them.
fn take_given(name: &str) -> master::Given {
    let file_var = format!("{name}_FILE");
    let given = master::Given {
        password: std::env::var(name).ok().map(Secret::new),
        file: std::env::var_os(&file_var).map(Into::into),
    };
    std::env::remove_var(name);
    std::env::remove_var(&file_var);
    given
}
