//! The password policy a new password must meet, beyond the length rules
//! that the browser applies too ([`users_protocol::validate::password`]):
//! not one of the 30,000 most common passwords, and not containing the
//! account's own names, the service's name or the operator's context words
//! (ASVS 6.1.2, 6.2.11).
//!
//! The list is the zxcvbn project's (MIT; `data/LICENSE-common-passwords.txt`),
//! bundled into the binary. It is all lower case, and a password is looked
//! up in lower case: `Password1` and `PASSWORD123` are as common as
//! `password1`.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
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

/// The service's own name, refused inside a password in any case and with
/// any separator (`users-service`, `Users Service`), as [`context_key`] has it.
const SERVICE_NAME: &str = "usersservice";

/// What a new password is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Shortest accepted password.
    pub min_length: usize,
    /// Whether common passwords are refused (`--password-blocklist`).
    pub blocklist: bool,
    /// The operator's words no password may contain
    /// (`--password-context-words`), as [`context_key`] has them.
    pub context_words: Arc<[String]>,
}

/// A word or a password as context words are compared: lower case, letters
/// and digits only, so that `Acme Corp`, `acme-corp` and `ACMECORP` are one.
pub(crate) fn context_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The shortest context word: a shorter one occurs inside too many
/// passwords to be worth refusing them for.
pub(crate) const MIN_CONTEXT_WORD: usize = 3;

/// Reads `--password-context-words`: one word or phrase a line; blank lines
/// and lines starting with `#` are skipped. A word shorter than
/// [`MIN_CONTEXT_WORD`] letters and digits is refused, with its line.
pub(crate) fn read_context_words(path: &std::path::Path) -> Result<Arc<[String]>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let word = context_key(line);
        if word.chars().count() < MIN_CONTEXT_WORD {
            return Err(format!(
                "{} line {}: '{line}' has fewer than {MIN_CONTEXT_WORD} letters and digits",
                path.display(),
                n + 1
            ));
        }
        words.push(word);
    }
    Ok(words.into())
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
        let lower = password.to_lowercase();
        // A space around a common password does not make it another.
        if self.blocklist && COMMON.contains(lower.trim()) {
            return Err(weak(
                field,
                "This password is one of the most common passwords; choose another",
            ));
        }
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
        let key = context_key(password);
        if key.contains(SERVICE_NAME) {
            return Err(weak(
                field,
                "The password must not contain the service's name",
            ));
        }
        if self.context_words.iter().any(|w| key.contains(w.as_str())) {
            return Err(weak(
                field,
                "The password must not contain a word this organisation has listed \
                 (--password-context-words)",
            ));
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

    static ON: LazyLock<PasswordPolicy> = LazyLock::new(|| PasswordPolicy {
        min_length: 6,
        blocklist: true,
        context_words: Arc::from(vec![context_key("Acme Corp")]),
    });

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
            ..ON.clone()
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
    fn common_passwords_are_refused_in_any_case() {
        for p in [
            "Password1",
            "PASSWORD123",
            "Pass123",
            "QwErTy123",
            " password1 ",
        ] {
            assert_eq!(
                code(ON.check("password", p, "someone", "x@example.com")),
                Some(ErrorCode::WeakPassword),
                "{p}"
            );
        }
    }

    #[test]
    fn the_service_name_and_the_operators_words_are_refused_with_any_separator() {
        for p in [
            "my-users-service-pw",
            "usersservice42!",
            "Users Service 2026",
            "USERS_SERVICE!x",
            "acmecorp-2026",
            "I work at Acme Corp!",
            "a.c.m.e.c.o.r.p.9",
        ] {
            let e = ON.check("password", p, "someone", "x@example.com");
            assert_eq!(code(e), Some(ErrorCode::WeakPassword), "{p}");
        }
        assert!(ON
            .check("password", "users and services", "someone", "x@example.com")
            .is_ok());
    }

    #[test]
    fn context_words_are_read_one_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("words");
        std::fs::write(&path, "# the organisation\nAcme Corp\n\n  Widget-Works \n").unwrap();
        let words = read_context_words(&path).unwrap();
        assert_eq!(&*words, ["acmecorp".to_owned(), "widgetworks".to_owned()]);
        std::fs::write(&path, "Acme\nA-B\n").unwrap();
        let short = read_context_words(&path).unwrap_err();
        assert!(short.contains("line 2") && short.contains("A-B"), "{short}");
        let missing = read_context_words(&dir.path().join("none")).unwrap_err();
        assert!(missing.contains("cannot read"), "{missing}");
    }

    #[test]
    fn length_rules_still_apply() {
        assert_eq!(
            code(ON.check("password", "Ab1!", "someone", "x@y.z")),
            Some(ErrorCode::WeakPassword)
        );
    }
}
