use super::*;

#[test]
fn a_confirmation_names_the_user_and_the_change() {
    let same = (Role::User, Role::User);
    let active = (UserStatus::Active, UserStatus::Active);
    assert_eq!(describe("alice", same, active), None);
    let q = |r, s| describe("alice", r, s).unwrap().0;
    assert_eq!(
        q(same, (UserStatus::Active, UserStatus::Suspended)),
        "Suspend alice?"
    );
    assert_eq!(
        q(same, (UserStatus::Suspended, UserStatus::Active)),
        "Reactivate alice?"
    );
    assert_eq!(q((Role::User, Role::Admin), active), "Make alice an admin?");
    assert_eq!(
        q((Role::Admin, Role::Moderator), active),
        "Make alice a moderator?"
    );
    assert_eq!(
        q(
            (Role::User, Role::Admin),
            (UserStatus::Active, UserStatus::Inactive)
        ),
        "Make alice an admin, inactive?"
    );
}
