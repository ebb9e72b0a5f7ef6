//! The operator's commands: each checks its arguments, reads the master
//! password, runs the library's command and prints what it did.

use crate::secrets;
use std::path::Path;
use users_protocol::Secret;
use users_service::file_store::{operator, rotate, FileOptions};
use users_service::postgres::backup as pg_backup;
use users_service::postgres::verify as pg_verify;
use users_service::Progress;
use users_service::StoreAt;
use users_service::{Command, ServeArgs};

/// Runs `command`; `serve` holds the defaults of the serving flags.
pub(crate) fn run(command: Command, serve: &ServeArgs) -> anyhow::Result<()> {
    let opts = serve.operator_file_options();
    match command {
        Command::Upgrade { storage_file } => upgrade(&storage_file, &opts),
        Command::Verify { store } => verify(&store),
        Command::Backup {
            store,
            dest,
            kdf_iterations,
        } => backup(&store, &dest, kdf_iterations),
        Command::Restore {
            backup,
            store,
            kdf_iterations,
        } => restore(&backup, &store, kdf_iterations),
        Command::RotateKey {
            store,
            kdf_iterations,
        } => rotate_key(&store, kdf_iterations),
        Command::Export {
            store,
            file,
            plaintext,
        } => export(&store, &file, plaintext, &opts),
        Command::Import {
            store,
            file,
            max_bytes,
        } => import(&store, &file, &opts, max_bytes),
        Command::ResetAdmin { store, username } => {
            reset_admin(&store, &username, &opts, serve.pbkdf2_iterations)
        }
        Command::Migrate {
            from,
            to,
            kdf_iterations,
        } => migrate(
            &from,
            &to,
            &FileOptions {
                kdf_iterations,
                ..opts
            },
        ),
    }
}

fn rotate_key(store: &str, kdf_iterations: u32) -> anyhow::Result<()> {
    // Before the master password is read, which clears the variables.
    let key_file = matches!(StoreAt::parse(store), StoreAt::File(p) if secrets::uses_key_file(&p));
    let (at, old) = existing_store(store)?;
    let new = secrets::new_master_password(&old, key_file)?;
    match &at {
        StoreAt::File(path) => {
            let mut progress = Progress::new("rotate-key", rotate::STAGES);
            let done = rotate::rotate(
                path,
                old.expose(),
                new.expose(),
                key_file,
                kdf_iterations,
                &mut |s| progress.step(s),
            )?;
            drop(progress);
            if let Some(kept) = &done.old_key_kept {
                println!(
                    "the old key file is kept as {}: backups made before need it",
                    kept.display()
                );
            }
            println!(
                "{}: {} users and {} audit batches re-encrypted under the new master password{}",
                path.display(),
                done.users,
                done.audit_lines,
                if key_file {
                    format!(
                        ", which is in {}",
                        users_service::master_password::key_file(path).display()
                    )
                } else {
                    "; give the service the new one from now on".into()
                }
            );
        }
        StoreAt::Database(url) => {
            use users_service::postgres::rotate as pg;
            let mut progress = Progress::new("rotate-key", pg::STAGES);
            let rows = pg::rotate(url, old.expose(), new.expose(), kdf_iterations, &mut |s| {
                progress.step(s)
            })?;
            drop(progress);
            println!(
                "the PostgreSQL database: {rows} rows re-encrypted under the new master password, \
                 in one transaction; give every instance the new one from now on"
            );
        }
    }
    Ok(())
}

fn migrate(from: &str, to: &str, opts: &FileOptions) -> anyhow::Result<()> {
    use users_service::copy;
    let (from, to) = (StoreAt::parse(from), StoreAt::parse(to));
    // The master password is the source file's (its key file may hold it);
    // a copy never makes a new one.
    let master = match (&from, &to) {
        (StoreAt::File(path), _) => {
            anyhow::ensure!(path.exists(), "{} does not exist", path.display());
            secrets::master_password(path)?
        }
        (StoreAt::Database(_), StoreAt::File(path)) => {
            anyhow::ensure!(
                std::env::var_os("USERS_SERVICE_PASSWORD").is_some()
                    || std::env::var_os("USERS_SERVICE_PASSWORD_FILE").is_some(),
                "set USERS_SERVICE_PASSWORD (or _FILE) to the database's master password"
            );
            secrets::master_password(path)?
        }
        (StoreAt::Database(_), StoreAt::Database(_)) => {
            anyhow::bail!("copy between two databases with PostgreSQL's own tools (pg_dump)")
        }
    };
    let n = copy(&from, &to, master.expose(), opts)?;
    println!(
        "copied {n} users from {} to {}; {} is as it was",
        from.describe(),
        to.describe(),
        from.describe()
    );
    Ok(())
}

fn verify(store: &str) -> anyhow::Result<()> {
    let at = StoreAt::parse(store);
    let store = match &at {
        StoreAt::File(path) => path,
        StoreAt::Database(url) => {
            let master = operator_master(&at)?;
            let mut progress = Progress::new("verify", pg_verify::VERIFY_STAGES);
            let events = pg_verify::verify(url, master.expose(), &mut |s| progress.step(s))?;
            drop(progress);
            println!("{}: sound. {events} audit events", at.describe());
            return Ok(());
        }
    };
    anyhow::ensure!(store.exists(), "{} does not exist", store.display());
    let master = secrets::master_password_read_only(store)?;
    let mut progress = Progress::new("verify", operator::VERIFY_STAGES);
    let r = operator::verify(store, master.expose(), &mut |s| progress.step(s))?;
    drop(progress);
    let journal = match r.journal_records {
        Some(n) => format!("{n} journal records after the snapshot"),
        None => "no journal (a backup)".into(),
    };
    println!(
        "{}: sound. {} users, format version {}, {journal}, {} audit events{}",
        store.display(),
        r.users,
        r.version,
        r.audit_events,
        if r.torn_tail {
            "; the journal's last line is incomplete (being written, or cut short by a crash: start-up drops it)"
        } else {
            ""
        }
    );
    Ok(())
}

fn backup(store: &str, dest: &Path, kdf_iterations: u32) -> anyhow::Result<()> {
    let at = StoreAt::parse(store);
    let n = match &at {
        StoreAt::File(path) => {
            anyhow::ensure!(path.exists(), "{} does not exist", path.display());
            let master = secrets::master_password_read_only(path)?;
            let mut progress = Progress::new("backup", operator::BACKUP_STAGES);
            operator::backup(path, dest, master.expose(), &mut |s| progress.step(s))?
        }
        StoreAt::Database(url) => {
            let master = operator_master(&at)?;
            let mut progress = Progress::new("backup", pg_backup::BACKUP_STAGES);
            pg_backup::backup(url, dest, master.expose(), kdf_iterations, &mut |s| {
                progress.step(s)
            })?
        }
    };
    println!(
        "backed up {n} users from {} into {}, under the same master password",
        at.describe(),
        dest.display()
    );
    Ok(())
}

fn restore(backup: &Path, store: &str, kdf_iterations: u32) -> anyhow::Result<()> {
    anyhow::ensure!(backup.exists(), "{} does not exist", backup.display());
    let now = users_service::unix_secs(std::time::SystemTime::now());
    let at = StoreAt::parse(store);
    let (n, aside) = match &at {
        StoreAt::File(store) => {
            // The store's key file, when it has one, opens its backups too.
            let master = match store.exists() {
                true => secrets::master_password(store)?,
                // A backup is only read (it may be on read-only media).
                false => secrets::master_password_read_only(backup)?,
            };
            let mut progress = Progress::new("restore", operator::RESTORE_STAGES);
            operator::restore(backup, store, master.expose(), now, &mut |s| {
                progress.step(s)
            })?
        }
        StoreAt::Database(url) => {
            let master = operator_master(&at)?;
            let dir = backup.parent().unwrap_or(Path::new("."));
            let aside = dir.join(format!("users-database.before-restore-{now}"));
            let mut progress = Progress::new("restore", pg_backup::RESTORE_STAGES);
            let n = pg_backup::restore(
                backup,
                url,
                master.expose(),
                (kdf_iterations, &aside),
                &mut |s| progress.step(s),
            )?;
            (n, vec![aside])
        }
    };
    println!("restored {n} users into {}", at.describe());
    for p in aside {
        println!("kept aside: {}", p.display());
    }
    Ok(())
}

/// The master password for an operator command on `at`: an existing file
/// store's own (its key file may hold it), else the environment's, which a
/// database or a new file store needs.
fn operator_master(at: &StoreAt) -> anyhow::Result<Secret> {
    let given = std::env::var_os("USERS_SERVICE_PASSWORD").is_some()
        || std::env::var_os("USERS_SERVICE_PASSWORD_FILE").is_some();
    match at {
        StoreAt::File(path) if path.exists() => secrets::master_password(path),
        _ => {
            anyhow::ensure!(
                given,
                "set USERS_SERVICE_PASSWORD (or _FILE) to the {} master password",
                at.describe()
            );
            secrets::master_password(Path::new("/nonexistent/users_encrypted.json"))
        }
    }
}

/// A store an operator command reads or changes, which must exist, and its
/// master password.
fn existing_store(store: &str) -> anyhow::Result<(StoreAt, Secret)> {
    let at = StoreAt::parse(store);
    if let StoreAt::File(p) = &at {
        anyhow::ensure!(p.exists(), "{} does not exist", p.display());
    }
    let master = operator_master(&at)?;
    Ok((at, master))
}

fn export(store: &str, file: &Path, plaintext: bool, opts: &FileOptions) -> anyhow::Result<()> {
    let (at, master) = existing_store(store)?;
    let mut progress = Progress::new("export", users_service::EXPORT_STAGES);
    let n = users_service::export(&at, file, master.expose(), opts, plaintext, &mut |s| {
        progress.step(s)
    })?;
    drop(progress);
    if plaintext {
        eprintln!(
            "WARNING: {} holds password hashes and personal data IN CLEAR: keep it private, and delete it when done",
            file.display()
        );
    }
    println!(
        "exported {n} users from {} into {}{}",
        at.describe(),
        file.display(),
        if plaintext {
            " (in clear)"
        } else {
            ", sealed under the master password"
        }
    );
    Ok(())
}

fn import(store: &str, file: &Path, opts: &FileOptions, max_bytes: u64) -> anyhow::Result<()> {
    let at = StoreAt::parse(store);
    anyhow::ensure!(file.exists(), "{} does not exist", file.display());
    let master = operator_master(&at)?;
    let mut progress = Progress::new("import", users_service::IMPORT_STAGES);
    let n = users_service::import(&at, file, master.expose(), opts, max_bytes, &mut |s| {
        progress.step(s)
    })?;
    drop(progress);
    println!(
        "imported {n} users into {}; they log in with their old passwords",
        at.describe()
    );
    Ok(())
}

fn reset_admin(
    store: &str,
    username: &str,
    opts: &FileOptions,
    iterations: u32,
) -> anyhow::Result<()> {
    let (at, master) = existing_store(store)?;
    let done = users_service::reset_admin(&at, master.expose(), opts, username, iterations)?;
    println!(
        "{} admin '{}' in {}: its new password is\n\n    {}\n\n(shown once). It is an active admin, its two-factor login is off and its sessions ended; the audit log records the reset.",
        if done.created { "made" } else { "reset" },
        done.username,
        at.describe(),
        done.password.expose()
    );
    Ok(())
}

fn upgrade(store: &Path, opts: &FileOptions) -> anyhow::Result<()> {
    anyhow::ensure!(store.exists(), "{} does not exist", store.display());
    let master = secrets::master_password(store)?;
    let (_, table) = users_service::open_file_store(store, &master, opts)?;
    println!("{}: {} users, current format", store.display(), table.len());
    Ok(())
}
