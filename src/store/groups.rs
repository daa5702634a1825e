//! Hunt groups and call centres (one table, `kind` tells them apart) with their ordered agents
//! and their supervisors; a user's memberships.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor};

use super::lists::ListSql;
use super::{corrupt, get, now, unique_or_store, ExtensionUse, Fresh, NumberUse, Store, WriteTx};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, CallGroup, ForwardTo, GroupKind, HuntPolicy, ListQuery, Listed,
    Member, MemberRole, NumberId, OwnerKind, Queue, TenantId, User, UserId,
};

/// A hunt group or call centre to create, or what an update sets (all of it).
#[derive(Clone, Debug)]
pub struct NewGroup {
    pub tenant_id: TenantId,
    /// `HuntGroup` or `CallCentre`.
    pub kind: OwnerKind,
    pub name: String,
    pub number_id: Option<NumberId>,
    pub extension: Option<String>,
    pub policy: HuntPolicy,
    pub skip_after_rings: i64,
    pub forward_to: Option<ForwardTo>,
    pub voicemail: bool,
    pub voicemail_email: Option<String>,
    pub queue: Option<Queue>,
    /// In order, with the weighted policy's percentage.
    pub agents: Vec<(UserId, Option<i64>)>,
    pub supervisors: Vec<UserId>,
}

impl NewGroup {
    fn members(&self) -> Vec<UserId> {
        let agents = self.agents.iter().map(|(u, _)| *u);
        agents.chain(self.supervisors.iter().copied()).collect()
    }

    /// What the write's rule reads: the number, the extension, the members and the
    /// extension unanswered calls go to.
    fn claim_key(&self) -> <GroupClaim as Fresh>::Key {
        let forward = match &self.forward_to {
            Some(ForwardTo::Extension { extension }) => Some(extension.clone()),
            _ => None,
        };
        (
            self.number_id,
            self.extension.clone(),
            self.members(),
            forward,
        )
    }
}

/// What a group's rule looks at inside its write: its number's use, its extension's, the
/// users it makes agents or supervisors, and who owns the extension it forwards to.
#[derive(Clone, Debug)]
pub struct GroupClaim {
    pub number: Option<NumberUse>,
    pub extension: Option<ExtensionUse>,
    pub members: Vec<User>,
    /// The forwarding target's extension and its owner now, when it forwards to one.
    pub forward: Option<ExtensionUse>,
}

/// A user's place in a group.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Membership {
    pub group_id: i64,
    /// `hunt-group`, `call-centre`, `pickup-group` or `park-group`.
    pub kind: GroupKind,
    pub name: String,
    /// Agent or supervisor in a hunt group or call centre; none in a pickup or park group.
    pub role: Option<MemberRole>,
    /// 1 for the first agent; the order calls try agents in.
    pub position: i64,
}

const COLUMNS: &str = "g.id, g.tenant_id, g.kind, g.name, g.number_id, n.e164, g.extension, \
     g.policy, g.skip_after_rings, g.forward_to, g.voicemail, g.voicemail_email, \
     g.queue_length, g.queue_announcement, g.queue_max_wait_secs";
const FROM: &str = "FROM call_groups g LEFT JOIN numbers n ON n.id = g.number_id";

impl Fresh for GroupClaim {
    type Key = (
        Option<NumberId>,
        Option<String>,
        Vec<UserId>,
        Option<String>,
    );

    async fn read(
        conn: &mut AnyConnection,
        tenant: TenantId,
        (number, extension, users, forward): Self::Key,
    ) -> Result<Self> {
        let number = Option::<NumberUse>::read(conn, tenant, number).await?;
        let extension = Option::<ExtensionUse>::read(conn, tenant, extension).await?;
        let forward = Option::<ExtensionUse>::read(conn, tenant, forward).await?;
        let mut members = Vec::with_capacity(users.len());
        for u in users {
            members.push(User::read(conn, tenant, u).await?);
        }
        Ok(GroupClaim {
            number,
            extension,
            members,
            forward,
        })
    }
}

fn entity(kind: OwnerKind) -> AuditEntity {
    match kind {
        OwnerKind::CallCentre => AuditEntity::CallCentre,
        _ => AuditEntity::HuntGroup,
    }
}

fn taken(g: &NewGroup) -> String {
    format!(
        "{} cannot be saved: its name, number or extension is taken in this tenant",
        g.name
    )
}

impl Store {
    /// Creates a group with its members, once `rule` holds for what it claims as the write
    /// reads it.
    pub async fn group_create(
        &self,
        g: &NewGroup,
        rule: impl FnOnce(&GroupClaim) -> Result<()> + Send,
    ) -> Result<CallGroup> {
        let mut tx = self.begin_write().await?;
        let key = g.claim_key();
        tx.checked::<GroupClaim>(g.tenant_id, key, rule).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO call_groups (tenant_id, kind, name, number_id, extension, policy, \
             skip_after_rings, forward_to, voicemail, voicemail_email, queue_length, \
             queue_announcement, queue_max_wait_secs, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(g.tenant_id.0)
        .bind(g.kind.as_str())
        .bind(&g.name)
        .bind(g.number_id.map(|n| n.0))
        .bind(g.extension.as_deref())
        .bind(g.policy.as_str())
        .bind(g.skip_after_rings)
        .bind(g.forward_to.as_ref().map(ForwardTo::stored))
        .bind(i64::from(g.voicemail))
        .bind(g.voicemail_email.as_deref())
        .bind(g.queue.as_ref().map(|q| q.length))
        .bind(g.queue.as_ref().and_then(|q| q.announcement.clone()))
        .bind(g.queue.as_ref().map(|q| q.max_wait_secs))
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || taken(g)).coded("group_taken", [("name", g.name.clone())])
        })?;
        write_members(&mut tx, id, g).await?;
        let after = CallGroup::read(tx.conn(), g.tenant_id, id).await?;
        tx.record(
            None,
            serde_json::to_value(&after).map_err(Error::json("a group"))?,
        );
        tx.commit(g.tenant_id, entity(g.kind), id, AuditAction::Create)
            .await?;
        Ok(after)
    }

    /// Replaces group `id` (of `g.kind`) with `g`, members too, once `rule` holds.
    pub async fn group_update(
        &self,
        id: i64,
        g: &NewGroup,
        rule: impl FnOnce(&GroupClaim) -> Result<()> + Send,
    ) -> Result<CallGroup> {
        let tenant = g.tenant_id;
        let mut tx = self.begin_write().await?;
        let before = read_kind(tx.conn(), tenant, g.kind, id).await?;
        let key = g.claim_key();
        tx.checked::<GroupClaim>(tenant, key, rule).await?;
        sqlx::query(
            "UPDATE call_groups SET name = $1, number_id = $2, extension = $3, policy = $4, \
             skip_after_rings = $5, forward_to = $6, voicemail = $7, voicemail_email = $8, \
             queue_length = $9, queue_announcement = $10, queue_max_wait_secs = $11 \
             WHERE id = $12 AND tenant_id = $13",
        )
        .bind(&g.name)
        .bind(g.number_id.map(|n| n.0))
        .bind(g.extension.as_deref())
        .bind(g.policy.as_str())
        .bind(g.skip_after_rings)
        .bind(g.forward_to.as_ref().map(ForwardTo::stored))
        .bind(i64::from(g.voicemail))
        .bind(g.voicemail_email.as_deref())
        .bind(g.queue.as_ref().map(|q| q.length))
        .bind(g.queue.as_ref().and_then(|q| q.announcement.clone()))
        .bind(g.queue.as_ref().map(|q| q.max_wait_secs))
        .bind(id)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || taken(g)).coded("group_taken", [("name", g.name.clone())])
        })?;
        write_members(&mut tx, id, g).await?;
        let after = CallGroup::read(tx.conn(), tenant, id).await?;
        let json = |g: &CallGroup| serde_json::to_value(g).map_err(Error::json("a group"));
        tx.record(Some(json(&before)?), json(&after)?);
        tx.commit(tenant, entity(g.kind), id, AuditAction::Update)
            .await?;
        Ok(after)
    }

    /// Deletes a group with its memberships: its number and extension are free at once.
    pub async fn group_delete(&self, tenant: TenantId, kind: OwnerKind, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = read_kind(tx.conn(), tenant, kind, id).await?;
        sqlx::query("DELETE FROM call_groups WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        let json = serde_json::to_value(&before).map_err(Error::json("a group"))?;
        tx.record(Some(json), serde_json::Value::Null);
        tx.commit(tenant, entity(kind), id, AuditAction::Delete)
            .await?;
        Ok(())
    }

    /// The group of `kind` that `key` names: its id or its name.
    pub async fn group_by_key(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        key: &str,
    ) -> Result<CallGroup> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM call_groups WHERE tenant_id = $1 AND kind = $2 \
             AND (name = $3 OR CAST(id AS TEXT) = $3)",
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .bind(key.trim())
        .fetch_optional(&self.pool)
        .await?;
        let id = id.ok_or_else(|| Error::not_found(kind.as_str(), key))?;
        self.read_now(tenant, id).await
    }

    /// Every group of the tenant (both kinds), by kind and name, with members.
    pub async fn group_list(&self, tenant: TenantId) -> Result<Vec<CallGroup>> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} {FROM} WHERE g.tenant_id = $1 ORDER BY g.kind, g.name, g.id"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut groups = Vec::with_capacity(rows.len());
        for row in &rows {
            groups.push(with_members(&mut conn, group_from(row)?).await?);
        }
        Ok(groups)
    }

    /// A page of the tenant's groups of `kind` by name, with members; a search looks in the
    /// name, number and extension.
    pub async fn group_page(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        query: &ListQuery,
    ) -> Result<Listed<CallGroup>> {
        let rows = format!(
            "{FROM} WHERE g.tenant_id = $1 AND g.kind = '{}'",
            kind.as_str()
        );
        let page = self
            .list(
                &ListSql::new(COLUMNS, &rows, &[tenant.0], "g.name, g.id").search(&[
                    "g.name",
                    "n.e164",
                    "g.extension",
                ]),
                query,
                group_from,
            )
            .await?;
        let mut conn = self.pool.acquire().await?;
        let mut items = Vec::with_capacity(page.items.len());
        for g in page.items {
            items.push(with_members(&mut conn, g).await?);
        }
        Ok(Listed { items, ..page })
    }

    /// The groups `user` is an agent or supervisor of.
    pub async fn memberships(&self, tenant: TenantId, user: UserId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT g.id, g.kind, g.name, m.role, m.position FROM call_group_members m \
             JOIN call_groups g ON g.id = m.group_id WHERE g.tenant_id = $1 AND m.user_id = $2 \
             UNION ALL SELECT g.id, 'pickup-group', g.name, NULL, m.position \
             FROM pickup_members m JOIN pickup_groups g ON g.id = m.group_id \
             WHERE g.tenant_id = $1 AND m.user_id = $2 \
             UNION ALL SELECT g.id, 'park-group', g.name, NULL, m.position \
             FROM park_members m JOIN park_groups g ON g.id = m.group_id \
             WHERE g.tenant_id = $1 AND m.user_id = $2 ORDER BY 2, 3, 4",
        )
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                let role: Option<String> = get(r, "role")?;
                Ok(Membership {
                    group_id: get(r, "id")?,
                    kind: kind.parse().map_err(|e| corrupt("group kind", e))?,
                    name: get(r, "name")?,
                    role: role
                        .map(|role| role.parse().map_err(|e| corrupt("member role", e)))
                        .transpose()?,
                    position: get(r, "position")?,
                })
            })
            .collect()
    }
}

/// Replaces the group's members with `g`'s, agents in order.
async fn write_members(tx: &mut WriteTx<'_>, id: i64, g: &NewGroup) -> Result<()> {
    sqlx::query("DELETE FROM call_group_members WHERE group_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    let agents = g.agents.iter().map(|(u, w)| (MemberRole::Agent, *u, *w));
    let supervisors = g
        .supervisors
        .iter()
        .map(|u| (MemberRole::Supervisor, *u, None));
    for (i, (role, user, weight)) in agents.chain(supervisors).enumerate() {
        sqlx::query(
            "INSERT INTO call_group_members (group_id, user_id, role, position, weight) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user.0)
        .bind(role.as_str())
        .bind(i as i64 + 1)
        .bind(weight)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || format!("user {user} is listed twice as {role}")))?;
    }
    Ok(())
}

/// Group `id` if it is of `kind` (else "not found").
async fn read_kind(
    conn: &mut AnyConnection,
    tenant: TenantId,
    kind: OwnerKind,
    id: i64,
) -> Result<CallGroup> {
    let g = CallGroup::read(conn, tenant, id).await?;
    match g.kind == kind {
        true => Ok(g),
        false => Err(Error::not_found(kind.as_str(), id)),
    }
}

impl Fresh for CallGroup {
    type Key = i64;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<CallGroup> {
        let sql = format!("SELECT {COLUMNS} {FROM} WHERE g.id = $1 AND g.tenant_id = $2");
        let row = super::row_by_id(&mut *conn, &sql, ("group", id), tenant).await?;
        with_members(conn, group_from(&row)?).await
    }
}

async fn with_members(conn: &mut AnyConnection, mut g: CallGroup) -> Result<CallGroup> {
    let members = read_members(conn, g.id).await?;
    for (role, m) in members {
        match role {
            MemberRole::Agent => g.agents.push(m),
            MemberRole::Supervisor => g.supervisors.push(m),
        }
    }
    Ok(g)
}

async fn read_members<'c>(
    conn: impl Executor<'c, Database = Any>,
    group: i64,
) -> Result<Vec<(MemberRole, Member)>> {
    let rows = sqlx::query(
        "SELECT m.role, m.weight, u.id, u.first_name, u.last_name, u.state, u.extension, n.e164 \
         FROM call_group_members m JOIN users u ON u.id = m.user_id \
         LEFT JOIN numbers n ON n.id = u.number_id WHERE m.group_id = $1 ORDER BY m.position",
    )
    .bind(group)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = get(r, "role")?;
            let state: String = get(r, "state")?;
            let first: String = get(r, "first_name")?;
            let last: String = get(r, "last_name")?;
            let number: Option<String> = get(r, "e164")?;
            Ok((
                role.parse().map_err(|e| corrupt("member role", e))?,
                Member {
                    user_id: UserId(get(r, "id")?),
                    name: format!("{first} {last}"),
                    state: state.parse().map_err(|e| corrupt("user state", e))?,
                    extension: get(r, "extension")?,
                    number: number
                        .map(|n| n.parse())
                        .transpose()
                        .map_err(|e| corrupt("number", e))?,
                    weight: get(r, "weight")?,
                },
            ))
        })
        .collect()
}

fn group_from(row: &AnyRow) -> Result<CallGroup> {
    let kind: String = get(row, "kind")?;
    let policy: String = get(row, "policy")?;
    let number: Option<String> = get(row, "e164")?;
    let forward: Option<String> = get(row, "forward_to")?;
    let queue_length: Option<i64> = get(row, "queue_length")?;
    Ok(CallGroup {
        id: get(row, "id")?,
        tenant_id: TenantId(get(row, "tenant_id")?),
        kind: kind.parse().map_err(|e| corrupt("group kind", e))?,
        name: get(row, "name")?,
        number_id: get::<Option<i64>>(row, "number_id")?.map(NumberId),
        number: number
            .map(|n| n.parse())
            .transpose()
            .map_err(|e| corrupt("number", e))?,
        extension: get(row, "extension")?,
        policy: policy.parse().map_err(|e| corrupt("policy", e))?,
        skip_after_rings: get(row, "skip_after_rings")?,
        forward_to: match forward {
            Some(f) => {
                Some(ForwardTo::from_stored(&f).ok_or_else(|| corrupt("forwarding", f.clone()))?)
            }
            None => None,
        },
        voicemail: get::<i64>(row, "voicemail")? != 0,
        voicemail_email: get(row, "voicemail_email")?,
        queue: match queue_length {
            Some(length) => Some(Queue {
                length,
                announcement: get(row, "queue_announcement")?,
                max_wait_secs: get::<Option<i64>>(row, "queue_max_wait_secs")?.unwrap_or(0),
            }),
            None => None,
        },
        agents: Vec::new(),
        supervisors: Vec::new(),
    })
}
