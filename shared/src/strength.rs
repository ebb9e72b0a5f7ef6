//! A rough password strength hint for forms, shown while typing. It is a
//! hint, not a rule: the service's rules (length, the common-password list,
//! the account's own names) decide. It needs no word list, so the browser's
//! download stays small.

/// How strong a password looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Shorter than the minimum.
    TooShort,
    /// Easy to guess: short, one kind of character, a run, or a name in it.
    Weak,
    /// Reasonable.
    Fair,
    /// Long and varied.
    Strong,
}

impl Strength {
    /// What to tell the user.
    pub fn hint(self) -> &'static str {
        match self {
            Strength::TooShort => "Too short",
            Strength::Weak => "Weak: easy to guess. Try a longer phrase of unrelated words",
            Strength::Fair => "Fair: longer is stronger",
            Strength::Strong => "Strong",
        }
    }
}

/// The strength of `password` for an account with these `names` (username,
/// email), given the shortest accepted length `min`.
pub fn strength(password: &str, names: &[&str], min: usize) -> Strength {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < min {
        return Strength::TooShort;
    }
    let lower = password.to_lowercase();
    let has_name = names
        .iter()
        .map(|n| n.split('@').next().unwrap_or_default().to_lowercase())
        .any(|n| n.chars().count() >= 3 && lower.contains(&n));
    let distinct = {
        let mut c = chars.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    // "123456", "abcdef", "aaaaaa": each step the same.
    let run = chars
        .windows(3)
        .all(|w| (w[1] as i32 - w[0] as i32) == (w[2] as i32 - w[1] as i32));
    let kinds = [
        chars.iter().any(|c| c.is_lowercase()),
        chars.iter().any(|c| c.is_uppercase()),
        chars.iter().any(|c| c.is_numeric()),
        chars.iter().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if has_name || run || distinct < 4 {
        return Strength::Weak;
    }
    let score = match chars.len() {
        0..=7 => 0,
        8..=11 => 1,
        12..=15 => 2,
        _ => 3,
    } + usize::from(kinds >= 3);
    match score {
        0 => Strength::Weak,
        1 | 2 => Strength::Fair,
        _ => Strength::Strong,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_grow_with_length_and_variety() {
        assert_eq!(strength("abc", &[], 6), Strength::TooShort);
        assert_eq!(strength("123456789", &[], 6), Strength::Weak);
        assert_eq!(strength("aaaaaaaaaaaa", &[], 6), Strength::Weak);
        assert_eq!(strength("alice-2024!", &["alice"], 6), Strength::Weak);
        assert_eq!(strength("pass123", &[], 6), Strength::Weak);
        assert_eq!(strength("TestPass123", &["testuser"], 6), Strength::Fair);
        assert_eq!(strength("SecurePass123!", &["alice"], 6), Strength::Strong);
        assert_eq!(
            strength("correct horse battery staple", &[], 6),
            Strength::Strong
        );
    }
}
