//! Call pickup groups and call park groups: their members and a park group's slots. A deleted
//! user leaves them by the tables' `ON DELETE CASCADE`, inside the user's delete.

use sqlx::AnyConnection;

use super::extensions::ExtensionUse;
use super::lists::{by_bytes, ListSql};
use super::users::{user_from, SELECT as USER_SELECT};
use super::{get, unique_on, unique_or_store, Store, WriteTx};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, ListQuery, Listed, Member, ParkGroup, PickupGroup, TenantId, User,
    UserId,
};

/// Which kind of group: the two share their shape (a name and ordered members).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Pickup,
    Park,
}

impl Kind {
    fn groups(self) -> &'static str {
        match self {
            Kind::Pickup => "pickup_groups",
            Kind::Park => "park_groups",
        }
    }

    fn members(self) -> &'static str {
        match self {
            Kind::Pickup => "pickup_members",
            Kind::Park => "park_members",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Pickup => "pickup group",
            Kind::Park => "park group",
        }
    }

    fn entity(self) -> AuditEntity {
        match self {
            Kind::Pickup => AuditEntity::PickupGroup,
            Kind::Park => AuditEntity::ParkGroup,
        }
    }
}

/// A would-be member of a pickup group as the write reads them: the user, and the other pickup
/// group they are in, if any (by name).
#[derive(Clone, Debug)]
pub struct PickupSeat {
    pub user: User,
    pub other_group: Option<String>,
}

/// What a park group's write reads for its rule: the members, and each slot's owner in the
/// extension plan (the group itself for a slot it keeps).
#[derive(Clone, Debug)]
pub struct ParkCheck {
    pub members: Vec<User>,
    pub slot_owners: Vec<ExtensionUse>,
}

/// A group's name, members and (park) slots as a write sets them.
pub struct GroupWrite<'a> {
    pub name: &'a str,
    pub members: &'a [UserId],
    pub slots: &'a [String],
}

impl Store {
    /// Creates (`id` None) or replaces a pickup group, once `rule` holds on its members as the
    /// transaction reads them.
    pub async fn pickup_group_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        group: &GroupWrite<'_>,
        rule: impl FnOnce(&[PickupSeat]) -> Result<()> + Send,
    ) -> Result<PickupGroup> {
        let mut tx = self.begin_write().await?;
        let mut seats = Vec::new();
        for user in members_of(&mut tx, tenant, group.members).await? {
            let other: Option<String> = sqlx::query_scalar(
                "SELECT g.name FROM pickup_members m JOIN pickup_groups g ON g.id = m.group_id \
                 WHERE m.user_id = $1 AND m.group_id <> $2",
            )
            .bind(user.id.0)
            .bind(id.unwrap_or(0))
            .fetch_optional(tx.conn())
            .await?;
            seats.push(PickupSeat {
                user,
                other_group: other,
            });
        }
        rule(&seats)?;
        let id = write_group(&mut tx, Kind::Pickup, tenant, id, group).await?;
        let saved = read_pickup(tx.conn(), tenant, id).await?;
        finish(tx, Kind::Pickup, tenant, id, &saved).await?;
        Ok(saved)
    }

    /// Creates (`id` None) or replaces a park group and its slots, once `rule` holds on what
    /// the transaction reads of its members and slots.
    pub async fn park_group_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        group: &GroupWrite<'_>,
        rule: impl FnOnce(&ParkCheck) -> Result<()> + Send,
    ) -> Result<ParkGroup> {
        let mut tx = self.begin_write().await?;
        let members = members_of(&mut tx, tenant, group.members).await?;
        let mut slot_owners = Vec::new();
        for slot in group.slots {
            slot_owners.push(tx.fresh::<ExtensionUse>(tenant, slot.clone()).await?);
        }
        rule(&ParkCheck {
            members,
            slot_owners,
        })?;
        let id = write_group(&mut tx, Kind::Park, tenant, id, group).await?;
        sqlx::query("DELETE FROM park_slots WHERE group_id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        for (position, slot) in (1i64..).zip(group.slots) {
            sqlx::query(
                "INSERT INTO park_slots (group_id, tenant_id, extension, position) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(tenant.0)
            .bind(slot)
            .bind(position)
            .execute(tx.conn())
            .await
            .map_err(|e| {
                unique_or_store(e, || format!("extension {slot} is already a park slot"))
                    .coded("slot_taken", [("extension", slot.clone())])
            })?;
        }
        let saved = read_park(tx.conn(), tenant, id).await?;
        finish(tx, Kind::Park, tenant, id, &saved).await?;
        Ok(saved)
    }

    pub async fn pickup_group_delete(&self, tenant: TenantId, id: i64) -> Result<()> {
        self.pp_group_delete(Kind::Pickup, tenant, id).await
    }

    pub async fn park_group_delete(&self, tenant: TenantId, id: i64) -> Result<()> {
        self.pp_group_delete(Kind::Park, tenant, id).await
    }

    async fn pp_group_delete(&self, kind: Kind, tenant: TenantId, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = match kind {
            Kind::Pickup => json(&read_pickup(tx.conn(), tenant, id).await?)?,
            Kind::Park => json(&read_park(tx.conn(), tenant, id).await?)?,
        };
        sqlx::query(&format!(
            "DELETE FROM {} WHERE id = $1 AND tenant_id = $2",
            kind.groups()
        ))
        .bind(id)
        .bind(tenant.0)
        .execute(tx.conn())
        .await?;
        tx.record(Some(before), serde_json::Value::Null);
        tx.commit(tenant, kind.entity(), id, AuditAction::Delete)
            .await?;
        Ok(())
    }

    pub async fn pickup_group_get(&self, tenant: TenantId, id: i64) -> Result<PickupGroup> {
        let mut conn = self.pool.acquire().await?;
        read_pickup(&mut conn, tenant, id).await
    }

    pub async fn park_group_get(&self, tenant: TenantId, id: i64) -> Result<ParkGroup> {
        let mut conn = self.pool.acquire().await?;
        read_park(&mut conn, tenant, id).await
    }

    /// The id of the pickup (`park` false) or park group named `name`.
    pub async fn group_id_by_name(
        &self,
        tenant: TenantId,
        park: bool,
        name: &str,
    ) -> Result<Option<i64>> {
        let kind = if park { Kind::Park } else { Kind::Pickup };
        let id = sqlx::query_scalar(&format!(
            "SELECT id FROM {} WHERE tenant_id = $1 AND name = $2",
            kind.groups()
        ))
        .bind(tenant.0)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    /// A page of the tenant's pickup groups by name, searched in their names.
    pub async fn pickup_group_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<PickupGroup>> {
        let ids = self.group_ids(Kind::Pickup, tenant, query).await?;
        let mut conn = self.pool.acquire().await?;
        let mut items = Vec::new();
        for id in &ids.items {
            items.push(read_pickup(&mut conn, tenant, *id).await?);
        }
        Ok(Listed {
            items,
            total: ids.total,
        })
    }

    /// A page of the tenant's park groups by name, searched in their names.
    pub async fn park_group_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<ParkGroup>> {
        let ids = self.group_ids(Kind::Park, tenant, query).await?;
        let mut conn = self.pool.acquire().await?;
        let mut items = Vec::new();
        for id in &ids.items {
            items.push(read_park(&mut conn, tenant, *id).await?);
        }
        Ok(Listed {
            items,
            total: ids.total,
        })
    }

    async fn group_ids(
        &self,
        kind: Kind,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<i64>> {
        let rows = format!("FROM {} WHERE tenant_id = $1", kind.groups());
        let order = format!("{}, id", by_bytes(self.backend, "name"));
        self.list(
            &ListSql::new("id", &rows, &[tenant.0], &order).search(&["name"]),
            query,
            |row| get(row, "id"),
        )
        .await
    }

    /// The pickup group `user` is in, if any.
    pub async fn pickup_group_of(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<PickupGroup>> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT group_id FROM pickup_members WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant.0)
        .bind(user.0)
        .fetch_optional(&mut *conn)
        .await?;
        match id {
            Some(id) => read_pickup(&mut conn, tenant, id).await.map(Some),
            None => Ok(None),
        }
    }

    /// The park groups `user` is in, by name.
    pub async fn park_groups_of(&self, tenant: TenantId, user: UserId) -> Result<Vec<ParkGroup>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT g.id FROM park_members m JOIN park_groups g ON g.id = m.group_id \
             WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY {}, g.id",
            by_bytes(self.backend, "g.name")
        ))
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut groups = Vec::new();
        for id in ids {
            groups.push(read_park(&mut conn, tenant, id).await?);
        }
        Ok(groups)
    }
}

/// The users `ids` of `tenant`, read inside the write, in the order given (one not there: not
/// found).
async fn members_of(tx: &mut WriteTx<'_>, tenant: TenantId, ids: &[UserId]) -> Result<Vec<User>> {
    let mut users = Vec::new();
    for id in ids {
        users.push(tx.fresh::<User>(tenant, *id).await?);
    }
    Ok(users)
}

/// A taken name's conflict, coded by the kind of group.
fn group_taken(e: Error, kind: Kind, name: &str) -> Error {
    let args = [("name", name.to_owned())];
    match kind {
        Kind::Pickup => e.coded("pickup_group_taken", args),
        Kind::Park => e.coded("park_group_taken", args),
    }
}

/// Inserts or renames the group and replaces its members; its id.
async fn write_group(
    tx: &mut WriteTx<'_>,
    kind: Kind,
    tenant: TenantId,
    id: Option<i64>,
    group: &GroupWrite<'_>,
) -> Result<i64> {
    let taken = || {
        format!(
            "this tenant already has a {} named {:?}",
            kind.what(),
            group.name
        )
    };
    let id = match id {
        None => sqlx::query_scalar(&format!(
            "INSERT INTO {} (tenant_id, name) VALUES ($1, $2) RETURNING id",
            kind.groups()
        ))
        .bind(tenant.0)
        .bind(group.name)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| group_taken(unique_on(e, "name", taken), kind, group.name))?,
        Some(id) => {
            tx.snapshot_group(kind, tenant, id).await?;
            sqlx::query(&format!(
                "UPDATE {} SET name = $1 WHERE id = $2 AND tenant_id = $3",
                kind.groups()
            ))
            .bind(group.name)
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await
            .map_err(|e| group_taken(unique_on(e, "name", taken), kind, group.name))?;
            id
        }
    };
    sqlx::query(&format!(
        "DELETE FROM {} WHERE group_id = $1",
        kind.members()
    ))
    .bind(id)
    .execute(tx.conn())
    .await?;
    for (position, user) in (1i64..).zip(group.members) {
        sqlx::query(&format!(
            "INSERT INTO {} (group_id, tenant_id, user_id, position) VALUES ($1, $2, $3, $4)",
            kind.members()
        ))
        .bind(id)
        .bind(tenant.0)
        .bind(user.0)
        .bind(position)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || match kind {
                Kind::Pickup => format!("user {user} is already in a pickup group"),
                Kind::Park => format!("user {user} is listed twice"),
            })
        })?;
    }
    Ok(id)
}

impl WriteTx<'_> {
    /// Keeps the group as it was, for the audit trail (a missing one is not found).
    async fn snapshot_group(&mut self, kind: Kind, tenant: TenantId, id: i64) -> Result<()> {
        let before = match kind {
            Kind::Pickup => json(&read_pickup(self.conn(), tenant, id).await?)?,
            Kind::Park => json(&read_park(self.conn(), tenant, id).await?)?,
        };
        self.before = Some(before.to_string());
        Ok(())
    }
}

/// Commits a group's write, the group as saved in the trail.
async fn finish<T: serde::Serialize>(
    mut tx: WriteTx<'_>,
    kind: Kind,
    tenant: TenantId,
    id: i64,
    saved: &T,
) -> Result<()> {
    let before = tx.before.take();
    let action = if before.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    tx.before = before;
    tx.after = Some(json(saved)?);
    tx.commit(tenant, kind.entity(), id, action).await?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(Error::json("a group"))
}

async fn group_name(
    conn: &mut AnyConnection,
    kind: Kind,
    tenant: TenantId,
    id: i64,
) -> Result<String> {
    sqlx::query_scalar(&format!(
        "SELECT name FROM {} WHERE id = $1 AND tenant_id = $2",
        kind.groups()
    ))
    .bind(id)
    .bind(tenant.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found(kind.what(), id))
}

async fn group_members(conn: &mut AnyConnection, kind: Kind, id: i64) -> Result<Vec<Member>> {
    let rows = sqlx::query(&format!(
        "{USER_SELECT} JOIN {} m ON m.user_id = u.id WHERE m.group_id = $1 ORDER BY m.position",
        kind.members()
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let user = user_from(row)?;
            Ok(Member {
                user_id: user.id,
                name: user.display_name(),
                state: user.state,
                extension: user.extension,
                number: user.number,
                weight: None,
            })
        })
        .collect()
}

async fn read_pickup(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<PickupGroup> {
    let name = group_name(conn, Kind::Pickup, tenant, id).await?;
    Ok(PickupGroup {
        id,
        name,
        members: group_members(conn, Kind::Pickup, id).await?,
    })
}

async fn read_park(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<ParkGroup> {
    let name = group_name(conn, Kind::Park, tenant, id).await?;
    let slots = sqlx::query_scalar(
        "SELECT extension FROM park_slots WHERE group_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ParkGroup {
        id,
        name,
        members: group_members(conn, Kind::Park, id).await?,
        slots,
    })
}
