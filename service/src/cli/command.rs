//! The operator's commands, beside serving.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Open the store with the master password, rewrite it in the current format
    /// if it is older, report the number of users, and exit (0 when it opened).
    /// Serving does the same at start-up; this does it without serving.
    Upgrade {
        /// The encrypted store.
        #[arg(default_value = "users_encrypted.json")]
        storage_file: PathBuf,
    },
    /// Open a store read-only with the master password and check it: for a
    /// file, the key derivation header, the snapshot, every journal record
    /// and their chain; for a database, the key; for both, the audit log's
    /// chain up to the newest event the store sealed, naming the first
    /// event where it breaks. Prints what it found; exits 0 when the store
    /// is sound. Running services may have the store open.
    Verify {
        /// The store (or a backup): a file, or a postgres:// URL.
        store: String,
    },
    /// Write a store, as it is at one moment, into DEST as one
    /// self-contained encrypted file (a snapshot sealed as a backup, under
    /// the same master password) that `verify` and `restore` take. STORE is
    /// a file or a postgres:// URL; running services may have it open; DEST
    /// must not exist.
    Backup {
        /// The store: a file, or a postgres:// URL.
        store: String,
        /// The backup file to write.
        dest: PathBuf,
        /// PBKDF2 iterations deriving a database backup's key (a file
        /// store's backup keeps the store's).
        #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
        kdf_iterations: u32,
    },
    /// Replace a store by a backup, unless a service has it open (for a
    /// database, any instance). A file store's files are kept aside as
    /// FILE.before-restore-<time>; a database's users are first written to a
    /// backup file, users-database.before-restore-<time>, beside BACKUP. The
    /// audit log stays, and records the restore.
    Restore {
        /// The backup file.
        backup: PathBuf,
        /// The store to replace (or create): a file, or a postgres:// URL.
        store: String,
        /// PBKDF2 iterations for the key of a new database, and of the
        /// backup of a database's users.
        #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
        kdf_iterations: u32,
    },
    /// Re-encrypt a store under a new master password, with a fresh salt:
    /// the new one is read from USERS_SERVICE_NEW_PASSWORD or
    /// USERS_SERVICE_NEW_PASSWORD_FILE (for a store whose secret is in its
    /// key file, a random one goes into that file when neither is set).
    /// Crash-safe: interrupted anywhere, the old or the new password opens
    /// the store, and the next start finishes or undoes it. A PostgreSQL
    /// store rotates in one transaction. Stop the service (every instance)
    /// first.
    RotateKey {
        /// The store: a file, or a postgres:// URL.
        store: String,
        /// PBKDF2 iterations deriving the new key.
        #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
        kdf_iterations: u32,
    },
    /// Write every user to FILE in the original service's "Data Storage"
    /// structure (keyed by username; hex password_hash and password_salt,
    /// password_iterations), sealed under the master password unless
    /// --plaintext. STORE is a file or a postgres:// URL; FILE must not exist.
    Export {
        /// The store: a file, or a postgres:// URL.
        store: String,
        /// The export to write.
        file: PathBuf,
        /// Write it in clear (with a warning): password hashes and personal
        /// data, readable by anyone who gets the file. Two-factor secrets are
        /// left out.
        #[arg(long)]
        plaintext: bool,
    },
    /// Add the users of FILE (an export, sealed or in clear, or the original
    /// service's decrypted users JSON) to STORE, keeping their password
    /// hashes. A username or email already taken refuses the whole import.
    /// Stop the service first (a file store in use is refused).
    Import {
        /// The store: a file (made if missing), or a postgres:// URL.
        store: String,
        /// The export to read.
        file: PathBuf,
        /// Refuse a file larger than this many bytes: it is read and parsed
        /// whole, which takes several times its size in memory.
        #[arg(long, default_value_t = 256 << 20)]
        max_bytes: u64,
    },
    /// The way back in when no admin can log in: give USERNAME (admin by
    /// default) a new random password, printed once, make it an active admin,
    /// turn its two-factor login off and end its sessions; create it if it
    /// does not exist. The audit log records it. Stop the service first: a
    /// file store in use is refused. STORE is a file or a postgres:// URL.
    ResetAdmin {
        /// The store: a file, or a postgres:// URL.
        #[arg(default_value = "users_encrypted.json")]
        store: String,
        /// The admin's username.
        #[arg(default_value = "admin")]
        username: String,
    },
    /// Copy every user, password hash included, from one store to another,
    /// under the same master password: a file and a PostgreSQL database
    /// (postgres://...), either way. The source is only read; the destination
    /// must be new (a file that does not exist, or a database without users).
    Migrate {
        /// The store to copy from: a file, or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// The store to copy to: a file, or a postgres:// URL.
        #[arg(long)]
        to: String,
        /// PBKDF2 iterations deriving the new store's key.
        #[arg(long, default_value_t = crate::auth::password::DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u32).range(1..))]
        kdf_iterations: u32,
    },
}
