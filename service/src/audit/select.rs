//! audit_log's filters, order and paging over stored records, and what each
//! reader may see: admins everything; moderators everything but why a login
//! failed and who has two-factor login; anyone else their own account's
//! events, without why a login failed and without the address of anyone
//! else who acted on it.

use super::reader::AuditReader;
use super::record::AuditRecord;
use super::want::{Key, Want};
use crate::clock::rfc3339;
use crate::model::{NameKey, UserId};
use std::time::{Duration, UNIX_EPOCH};
use users_protocol::{AuditEvent, AuditKind, AuditPage, AuditQuery};

/// Page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// Largest page.
pub(crate) const MAX_LIMIT: usize = 500;
/// Matching events counted past `offset` for `total`: a read stops there,
/// so that its cost follows the page and not the size of the log.
pub(crate) const MAX_COUNTED: usize = 1000;
/// Largest `offset`; `cursor` pages on from there.
pub(crate) const MAX_OFFSET: usize = 10_000;

/// Who reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// Sees every event in full.
    Admin,
    /// Sees every event, without why logins failed.
    Moderator,
    /// Sees their own account's events, without why logins failed.
    Owner(UserId),
}

/// Why a query is refused: the field at fault and what is wrong.
pub(crate) type Refusal = (&'static str, String);

/// A query checked, ready to read: what it asks of the store, and what
/// every event it is given must match.
pub(crate) struct Plan {
    want: Want,
    reader: Reader,
    event: Option<AuditKind>,
    /// The name asked for, and the id of the account it names now, so that
    /// a renamed account's older events match.
    name: Option<(NameKey, Option<UserId>)>,
    offset: usize,
    limit: usize,
    /// A kind this reader never sees: the answer is empty, read or not.
    unseen: bool,
}

/// Checks `q` for `reader`; `named` is the id of the account `q.username`
/// names now.
pub(crate) fn plan(q: &AuditQuery, reader: Reader, named: Option<UserId>) -> Result<Plan, Refusal> {
    let time = |field: &'static str, v: &Option<String>| -> Result<Option<u64>, Refusal> {
        v.as_deref()
            .map(|t| {
                humantime::parse_rfc3339_weak(t.trim())
                    .map(|t| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
                    .map_err(|_| (field, format!("'{t}' is not an RFC 3339 time")))
            })
            .transpose()
    };
    let (since, until) = (time("since", &q.since)?, time("until", &q.until)?);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(("limit", format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        let why = format!("offset may be at most {MAX_OFFSET}; page on with cursor");
        return Err(("offset", why));
    }
    let name = q
        .username
        .as_deref()
        .map(|n| (NameKey::of(n.trim()), named));
    let mut all_of = Vec::new();
    if let Reader::Owner(me) = reader {
        all_of.push(vec![Key::Target(me)]);
    }
    if let Some((n, id)) = &name {
        let mut any = vec![
            Key::ActorName(n.as_str().to_owned()),
            Key::TargetName(n.as_str().to_owned()),
        ];
        any.extend(id.iter().flat_map(|id| [Key::Actor(*id), Key::Target(*id)]));
        all_of.push(any);
    }
    all_of.extend(q.event.map(|k| vec![Key::Kind(k)]));
    Ok(Plan {
        want: Want {
            all_of,
            before: q.cursor,
            since,
            until,
        },
        reader,
        event: q.event,
        name,
        offset,
        limit,
        unseen: reader == Reader::Moderator && q.event.is_some_and(|k| TWO_FACTOR.contains(&k)),
    })
}

impl Plan {
    /// Whether `r` is one this query shows.
    fn matches(&self, r: &AuditRecord) -> bool {
        let involves = |id: UserId| {
            [&r.actor, &r.target]
                .into_iter()
                .flatten()
                .any(|p| p.id == Some(id))
        };
        let visible = match self.reader {
            Reader::Owner(me) => r.target.as_ref().is_some_and(|t| t.id == Some(me)),
            Reader::Moderator => !TWO_FACTOR.contains(&r.kind),
            Reader::Admin => true,
        };
        let named_ok = self.name.as_ref().is_none_or(|(n, id)| {
            [&r.actor, &r.target]
                .into_iter()
                .flatten()
                .any(|p| NameKey::of(&p.name) == *n)
                || id.is_some_and(involves)
        });
        let w = &self.want;
        visible
            && named_ok
            && self.event.is_none_or(|k| r.kind == k)
            && w.since.is_none_or(|s| r.at >= s)
            && w.until.is_none_or(|u| r.at < u)
            && w.before.is_none_or(|c| r.id < c)
    }

    /// The page, newest first, read from `source`; `total` counts matches
    /// up to [`MAX_COUNTED`] past the offset.
    pub(crate) fn run(&self, source: &dyn AuditReader) -> Result<AuditPage, String> {
        let (mut count, mut page) = (0usize, Vec::new());
        let stop_at = self.offset + MAX_COUNTED + 1;
        let read = match self.unseen {
            true => Ok(()),
            false => source.newest_first(&self.want, &mut |r| {
                if !self.matches(&r) {
                    return true;
                }
                count += 1;
                if count > self.offset && page.len() < self.limit {
                    page.push(r);
                }
                count < stop_at
            }),
        };
        read?;
        let total_capped = count == stop_at;
        let total = count.min(stop_at - 1);
        let next_cursor = (count > self.offset + page.len())
            .then(|| page.last().map(|r| r.id))
            .flatten();
        let events: Vec<AuditEvent> = page.into_iter().map(|r| view(r, self.reader)).collect();
        Ok(AuditPage {
            count: events.len(),
            events,
            total,
            total_capped,
            next_cursor,
        })
    }
}

/// The events that tell whether an account has two-factor login, which
/// moderators do not see (as `get_user` does not show it them).
const TWO_FACTOR: [AuditKind; 3] = [
    AuditKind::TotpEnabled,
    AuditKind::TotpDisabled,
    AuditKind::RecoveryCodeUsed,
];

fn view(r: AuditRecord, reader: Reader) -> AuditEvent {
    let hide = r.kind == AuditKind::LoginFailed && reader != Reader::Admin;
    // An owner sees where they acted from, not where an admin did.
    let client = match reader {
        Reader::Owner(me) if r.actor.as_ref().is_some_and(|a| a.id != Some(me)) => None,
        _ => r.client,
    };
    AuditEvent {
        id: r.id,
        at: rfc3339(UNIX_EPOCH + Duration::from_secs(r.at)),
        kind: r.kind,
        actor: r.actor.map(|p| p.name),
        target: r.target.map(|p| p.name),
        client_address: client,
        outcome: if r.success { "success" } else { "failure" }.into(),
        detail: if hide { String::new() } else { r.detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::{Party, VERSION};

    fn select(
        records: Vec<AuditRecord>,
        q: &AuditQuery,
        reader: Reader,
        named: Option<UserId>,
    ) -> Result<AuditPage, Refusal> {
        let log = std::sync::Mutex::new(records);
        Ok(plan(q, reader, named)?.run(&log).unwrap())
    }

    fn rec(id: u64, at: u64, kind: AuditKind, who: (UserId, &str)) -> AuditRecord {
        AuditRecord {
            v: VERSION,
            id,
            at,
            kind,
            actor: None,
            target: Some(Party {
                id: Some(who.0),
                name: who.1.into(),
            }),
            client: None,
            success: kind != AuditKind::LoginFailed,
            detail: "wrong password".into(),
            prev: None,
        }
    }

    #[test]
    fn filters_order_paging_and_who_sees_what() {
        let (a, b) = (
            UserId::random(&mut rand::rng()),
            UserId::random(&mut rand::rng()),
        );
        let records = vec![
            rec(1, 100, AuditKind::AccountCreated, (a, "ann")),
            rec(2, 200, AuditKind::LoginFailed, (a, "ann")),
            rec(3, 300, AuditKind::LoginSucceeded, (b, "ben")),
            rec(4, 400, AuditKind::AccountUpdated, (a, "anna")),
        ];
        let all = AuditQuery::default();
        let page = select(records.clone(), &all, Reader::Admin, None).unwrap();
        let ids: Vec<u64> = page.events.iter().map(|e| e.id).collect();
        assert_eq!(ids, [4, 3, 2, 1], "newest first");
        assert_eq!(page.events[2].detail, "wrong password");
        let m = select(records.clone(), &all, Reader::Moderator, None).unwrap();
        assert_eq!(m.events[2].detail, "", "only admins see why");
        let own = select(records.clone(), &all, Reader::Owner(b), None).unwrap();
        assert_eq!(own.total, 1);
        // By a name it had then, or by the account it is now.
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        let by_name = select(
            records.clone(),
            &q(|q| q.username = Some("ANN".into())),
            Reader::Admin,
            None,
        )
        .unwrap();
        assert_eq!(by_name.total, 2);
        let by_id = select(
            records.clone(),
            &q(|q| q.username = Some("anna".into())),
            Reader::Admin,
            Some(a),
        )
        .unwrap();
        assert_eq!(by_id.total, 3);
        let kind = select(
            records.clone(),
            &q(|q| q.event = Some(AuditKind::LoginFailed)),
            Reader::Admin,
            None,
        )
        .unwrap();
        assert_eq!(kind.total, 1);
        let window = q(|q| {
            q.since = Some("1970-01-01T00:03:00Z".into());
            q.until = Some("1970-01-01T00:06:00Z".into());
        });
        assert_eq!(
            select(records.clone(), &window, Reader::Admin, None)
                .unwrap()
                .total,
            2
        );
        // A cursor walks the pages.
        let first = select(
            records.clone(),
            &q(|q| q.limit = Some(3)),
            Reader::Admin,
            None,
        )
        .unwrap();
        assert_eq!((first.count, first.next_cursor), (3, Some(2)));
        let rest = select(
            records.clone(),
            &q(|q| {
                q.limit = Some(3);
                q.cursor = Some(2);
            }),
            Reader::Admin,
            None,
        )
        .unwrap();
        assert_eq!(
            (rest.count, rest.next_cursor, rest.events[0].id),
            (1, None, 1)
        );
        assert!(select(
            records.clone(),
            &q(|q| q.limit = Some(0)),
            Reader::Admin,
            None
        )
        .is_err());
        assert!(select(
            records,
            &q(|q| q.since = Some("yesterday".into())),
            Reader::Admin,
            None
        )
        .is_err());
    }

    #[test]
    fn moderators_do_not_see_two_factor_and_owners_not_an_admins_address() {
        let (me, admin) = (
            UserId::random(&mut rand::rng()),
            UserId::random(&mut rand::rng()),
        );
        let mut reset = rec(1, 100, AuditKind::PasswordReset, (me, "me"));
        reset.actor = Some(Party {
            id: Some(admin),
            name: "admin".into(),
        });
        reset.client = Some("10.0.0.1".into());
        let mut own = rec(2, 200, AuditKind::TotpEnabled, (me, "me"));
        own.actor = Some(Party {
            id: Some(me),
            name: "me".into(),
        });
        own.client = Some("10.0.0.2".into());
        let records = vec![reset, own];
        let all = AuditQuery::default();
        let m = select(records.clone(), &all, Reader::Moderator, None).unwrap();
        assert_eq!(m.total, 1, "no two-factor events for moderators");
        let o = select(records, &all, Reader::Owner(me), None).unwrap();
        let addresses: Vec<_> = o.events.iter().map(|e| e.client_address.clone()).collect();
        assert_eq!(addresses, [Some("10.0.0.2".into()), None]);
    }

    #[test]
    fn a_kind_a_moderator_never_sees_is_not_read_for_them() {
        /// A log that must not be read.
        struct Untouchable;
        impl AuditReader for Untouchable {
            fn read_all(&self) -> Result<Vec<AuditRecord>, String> {
                panic!("read for a kind the reader never sees")
            }
        }
        let q = AuditQuery {
            event: Some(AuditKind::TotpEnabled),
            ..AuditQuery::default()
        };
        let page = plan(&q, Reader::Moderator, None)
            .unwrap()
            .run(&Untouchable)
            .unwrap();
        assert_eq!((page.total, page.count), (0, 0));
    }
}
