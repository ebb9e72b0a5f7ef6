//! The password policy a new password must meet, beyond the length rules
//! that the browser applies too ([`users_protocol::validate::password`]):
//! not one of the 30,000 most common passwords, and not containing the
//! account's own names.
//!
//! The list is the zxcvbn project's (MIT; `data/LICENSE-common-passwords.txt`),
//! bundled into the binary and matched exactly as typed, the way breached-
//! password lists are: it is all lower case, so `Pass123` is not on it
//! while `pass123` is.

use std::collections::HashSet;
use std::sync::LazyLock;
use users_protocol::validate::{self, FieldError};
use users_protocol::ErrorCode;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});

/// The first admin's password when none is given: a login with it is told
/// to change it (`password_change_required`).
pub(crate) const DEFAULT_ADMIN_PASSWORD: &str = "admin123";

/// Names shorter than this are not looked for inside a password: short
/// names such as `test` or `bob` occur inside ordinary words, and refusing
/// them would refuse the original service's own test script
/// (`testuser`, `test@example.com`, `TestPass123`).
pub(crate) const MIN_NAME_CHECKED: usize = 5;

/// What a new password is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Shortest accepted password.
    pub min_length: usize,
    /// Whether common passwords are refused (`--password-blocklist`).
    pub blocklist: bool,
}

impl PasswordPolicy {
    /// Checks `password`, given in `field`, for the account named `username`
    /// with `email`. The error says which rule it broke.
    pub fn check(
        &self,
        field: &'static str,
        password: &str,
        username: &str,
        email: &str,
    ) -> Result<(), FieldError> {
        validate::password(field, password, self.min_length)?;
        if self.blocklist && COMMON.contains(password) {
            return Err(weak(
                field,
                "This password is one of the most common passwords; choose another",
            ));
        }
        let lower = password.to_lowercase();
        let local = email.split('@').next().unwrap_or_default();
        for (name, what) in [(username, "username"), (local, "email address")] {
            let name = name.trim().to_lowercase();
            if name.chars().count() >= MIN_NAME_CHECKED && lower.contains(&name) {
                return Err(weak(
                    field,
                    format!("The password must not contain your {what}"),
                ));
            }
        }
        Ok(())
    }
}

/// A `weak_password` error on `field`.
pub(crate) fn weak(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        code: ErrorCode::WeakPassword,
        message: message.into(),
    }
}

/// How many passwords the bundled list holds.
#[cfg(test)]
fn common_count() -> usize {
    COMMON.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: PasswordPolicy = PasswordPolicy {
        min_length: 6,
        blocklist: true,
    };

    fn code(r: Result<(), FieldError>) -> Option<ErrorCode> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn the_list_holds_at_least_ten_thousand_passwords() {
        assert!(common_count() >= 10_000, "{}", common_count());
    }

    #[test]
    fn common_passwords_are_refused_unless_the_list_is_off() {
        for p in ["password", "123456789", "qwerty123", "letmein1", "admin123"] {
            assert_eq!(
                code(ON.check("password", p, "someone", "x@example.com")),
                Some(ErrorCode::WeakPassword),
                "{p}"
            );
        }
        let off = PasswordPolicy {
            blocklist: false,
            ..ON
        };
        assert!(off
            .check("password", "password", "someone", "x@example.com")
            .is_ok());
    }

    #[test]
    fn the_original_readme_passwords_pass() {
        for (user, email, p) in [
            ("alice", "alice@example.com", "SecurePass123!"),
            ("alice", "alice@example.com", "NewSecurePass456!"),
            ("alice", "alice@ex..", "Pass123"),
            ("alice", "alice@ex..", "NewPass456"),
            ("testuser", "test@example.com", "TestPass123"),
        ] {
            assert!(ON.check("password", p, user, email).is_ok(), "{p}");
        }
    }

    #[test]
    fn a_password_containing_the_names_is_refused() {
        let e = ON
            .check("password", "xxAliceSmith1", "alicesmith", "a@b.c")
            .unwrap_err();
        assert!(e.message.contains("username"), "{}", e.message);
        let e = ON
            .check("password", "my-carol.w-pw", "cw", "carol.w@example.com")
            .unwrap_err();
        assert!(e.message.contains("email"), "{}", e.message);
        assert!(
            ON.check("password", "bobsled-9", "bob", "bob@x.io").is_ok(),
            "short names are not looked for"
        );
    }

    #[test]
    fn length_rules_still_apply() {
        assert_eq!(
            code(ON.check("password", "Ab1!", "someone", "x@y.z")),
            Some(ErrorCode::WeakPassword)
        );
    }
}
