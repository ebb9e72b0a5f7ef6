//! Field rules. The service enforces them; the browser checks the same rules before
//! sending, so a form shows the same message either way.

use crate::error::ErrorCode;
use crate::profile::ProfileField;

/// Shortest and longest username.
pub const USERNAME_LEN: (usize, usize) = (3, 32);
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Default shortest password; the service can be configured otherwise.
pub const PASSWORD_MIN_DEFAULT: usize = 6;
/// Longest password: bounds the work one request can cause.
pub const PASSWORD_MAX: usize = 1024;

/// A field that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Wire name of the field.
    pub field: &'static str,
    /// [`ErrorCode::InvalidRequest`], or [`ErrorCode::WeakPassword`] for passwords.
    pub code: ErrorCode,
    /// What is wrong, for people.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        code: ErrorCode::InvalidRequest,
        message: message.into(),
    }
}

/// 3–32 characters: letters, digits, `_`, `.` and `-`.
pub fn username(s: &str) -> Result<(), FieldError> {
    let n = s.chars().count();
    if n < USERNAME_LEN.0 || n > USERNAME_LEN.1 {
        return Err(invalid(
            "username",
            format!(
                "Username must be {} to {} characters",
                USERNAME_LEN.0, USERNAME_LEN.1
            ),
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(invalid(
            "username",
            "Username may contain only letters, digits, '_', '.' and '-'",
        ));
    }
    Ok(())
}

/// A plausible address: `local@domain.tld`, no spaces, at most 254 characters.
pub fn email(s: &str) -> Result<(), FieldError> {
    let bad = || invalid("email", "Enter a valid email address");
    if s.len() > EMAIL_MAX {
        return Err(invalid(
            "email",
            format!("Email must be at most {EMAIL_MAX} characters"),
        ));
    }
    let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// At least `min` and at most [`PASSWORD_MAX`] characters.
pub fn password(field: &'static str, s: &str, min: usize) -> Result<(), FieldError> {
    let n = s.chars().count();
    if n < min {
        return Err(FieldError {
            field,
            code: ErrorCode::WeakPassword,
            message: format!("Password must be at least {min} characters"),
        });
    }
    if n > PASSWORD_MAX {
        return Err(FieldError {
            field,
            code: ErrorCode::WeakPassword,
            message: format!("Password must be at most {PASSWORD_MAX} characters"),
        });
    }
    Ok(())
}

/// A free-text profile field: within its length cap, no control characters
/// (line breaks and tabs are allowed where the field is multi-line);
/// `date_of_birth` empty or `YYYY-MM-DD`.
pub fn profile_field(field: ProfileField, s: &str) -> Result<(), FieldError> {
    let (name, max) = (field.as_str(), field.max_len());
    if s.chars().count() > max {
        return Err(invalid(
            name,
            format!("{} must be at most {max} characters", field.label()),
        ));
    }
    let whitespace_ok = |c: char| field.multiline() && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !whitespace_ok(c)) {
        return Err(invalid(
            name,
            format!("{} contains control characters", field.label()),
        ));
    }
    if field == ProfileField::DateOfBirth && !s.is_empty() && !is_iso_date(s) {
        return Err(invalid(name, "Date of birth must be YYYY-MM-DD"));
    }
    Ok(())
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    matches!(
        (num(0..4), num(5..7), num(8..10)),
        (Some(y), Some(m), Some(d)) if y >= 1900 && (1..=12).contains(&m) && (1..=31).contains(&d)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "alice_updated", "a.b-c", &"x".repeat(32)] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "",
            "has space",
            "é-accent",
            &"x".repeat(33),
            "semi;colon",
        ] {
            assert_eq!(username(bad).unwrap_err().field, "username", "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["alice@example.com", "a.b+tag@sub.example.org", "x@y.io"] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@-x.com",
            "a..b@x.com",
            long.as_str(),
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(password("password", "123456", 6).is_ok());
        let e = password("password", "12345", 6).unwrap_err();
        assert_eq!(e.code, ErrorCode::WeakPassword);
        assert!(password("password", &"p".repeat(1025), 6).is_err());
        assert!(password("password", "12345678", 10).is_err());
    }

    #[test]
    fn profile_fields() {
        use ProfileField::*;
        assert!(profile_field(FullName, "Alice Smith").is_ok());
        assert_eq!(
            profile_field(FullName, &"a".repeat(101)).unwrap_err().field,
            "full_name"
        );
        assert!(profile_field(Notes, "line1\nline2").is_ok());
        assert!(profile_field(City, "line1\nline2").is_err());
        assert!(profile_field(City, "a\u{0}b").is_err());
        assert!(profile_field(DateOfBirth, "1990-05-17").is_ok());
        assert!(profile_field(DateOfBirth, "").is_ok());
        assert!(profile_field(DateOfBirth, "17/05/1990").is_err());
        assert_eq!(PostalCode.label(), "Postal code");
    }
}
