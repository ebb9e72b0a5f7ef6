use super::*;

#[test]
fn filter_options_offer_any_then_every_value_by_wire_name() {
    let roles = filter_options(Role::ALL, "Any role", role_label);
    assert_eq!(roles.len(), Role::ALL.len() + 1);
    let values: Vec<String> = roles.iter().map(|(v, _)| filter_value(*v)).collect();
    assert_eq!(values, ["", "user", "moderator", "admin"]);
    assert_eq!(roles[0].1, "Any role");
    assert_eq!(roles[2].1, "Moderator");
    let statuses: Vec<String> = filter_options(UserStatus::ALL, "Any status", status_label)
        .into_iter()
        .map(|(v, _)| filter_value(v))
        .collect();
    assert_eq!(statuses, ["", "active", "inactive", "suspended"]);
}

#[test]
fn every_sort_key_has_a_column() {
    for &key in SortKey::ALL {
        assert!(
            COLUMNS.iter().any(|(_, k, _)| *k == Some(key)),
            "{key} has no column"
        );
    }
}
