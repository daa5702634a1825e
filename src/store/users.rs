//! Users (the people numbers and handsets belong to).

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor};

use super::lists::ListSql;
use super::{
    corrupt, get, now, unique_or_store, ExtensionUse, Fresh, NumberUse, Sets, Store, Value,
};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, FirstName, LastName, LicenceKind, ListQuery, Listed, NumberId,
    PbxOptions, TenantId, User, UserId, UserState, E164,
};

#[derive(Clone, Debug)]
pub struct NewUser {
    pub tenant_id: TenantId,
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: Option<String>,
    pub number_id: Option<NumberId>,
    pub extension: Option<String>,
    pub mobile: Option<E164>,
    pub contract_number: Option<String>,
    pub trunk_id: Option<i64>,
    /// Drawn from the tenant's pools in the same transaction.
    pub licences: Vec<LicenceKind>,
    /// The e-fax number, with an e-fax licence.
    pub fax: Option<NumberId>,
}

/// The fields an update may change; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub first_name: Option<FirstName>,
    pub last_name: Option<LastName>,
    pub email: Option<Option<String>>,
    pub extension: Option<Option<String>>,
    pub number_id: Option<Option<NumberId>>,
    pub mobile: Option<Option<E164>>,
    pub contract_number: Option<Option<String>>,
    /// A new app e-mail also counts a new invitation.
    pub app_email: Option<Option<String>>,
    pub app_login: Option<Option<String>>,
    pub trunk_id: Option<Option<i64>>,
    pub options: Option<PbxOptions>,
}

/// The user columns, with the number's E.164 as `e164` (joined as `n`).
macro_rules! user_columns {
    () => {
        "u.id, u.tenant_id, u.first_name, u.last_name, u.email, u.state, u.number_id, n.e164, \
         u.extension, u.mobile, u.contract_number, u.app_email, u.app_login, u.app_invitations, \
         u.trunk_id, u.options, u.fax_number_id, n.label_first AS number_label_first, \
         n.label_last AS number_label_last"
    };
}
pub(super) use user_columns;

/// Users with their number, for `WHERE` clauses on `u` and `n`.
pub(super) const SELECT: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users u LEFT JOIN numbers n ON n.id = u.number_id"
);

/// What a new user's rule looks at inside the write: their number's use, their extension's,
/// and the MyRoom facts and e-fax number their licences need.
pub type UserClaim = (
    (Option<NumberUse>, Option<ExtensionUse>),
    super::LicenceFacts,
);

fn extension_taken(extension: Option<&str>) -> String {
    match extension {
        Some(ext) => format!(
            "extension {ext} is already used in this tenant, or the number is already assigned"
        ),
        None => "the number is already assigned to another user".to_owned(),
    }
}

/// A new user's first desk phone, logged in with the add (`Store::user_create_with_line`).
pub struct FirstLine<'a> {
    pub device: &'a crate::model::Device,
    pub sip_user: &'a str,
    pub sip_password: &'a crate::model::Secret,
    /// Judged on the new user's number as the write reads it, after the user is in.
    pub rule: fn(&NumberUse) -> Result<()>,
}

impl Store {
    /// Creates a user, once `rule` holds for what they claim ([`UserClaim`]) as the write
    /// reads it.
    pub async fn user_create(
        &self,
        user: &NewUser,
        rule: impl FnOnce(&UserClaim) -> Result<()> + Send,
    ) -> Result<User> {
        self.user_create_with_line(user, rule, None)
            .await
            .map(|(user, _)| user)
    }

    /// `user_create`, and with `line` the new user's number logged in to its handset as the
    /// only line, in the same transaction: a handset someone took meanwhile (or a number the
    /// line's rule refuses) adds nobody. The line's slot with the user.
    pub async fn user_create_with_line(
        &self,
        user: &NewUser,
        rule: impl FnOnce(&UserClaim) -> Result<()> + Send,
        line: Option<FirstLine<'_>>,
    ) -> Result<(User, Option<u16>)> {
        let mut tx = self.begin_write().await?;
        let key = ((user.number_id, user.extension.clone()), user.fax);
        tx.checked::<UserClaim>(user.tenant_id, key, rule).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (tenant_id, first_name, last_name, email, state, number_id, \
             extension, created_at, mobile, contract_number, trunk_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(user.tenant_id.0)
        .bind(user.first_name.as_str())
        .bind(user.last_name.as_str())
        .bind(user.email.as_deref())
        .bind(UserState::Pending.as_str())
        .bind(user.number_id.map(|n| n.0))
        .bind(user.extension.as_deref())
        .bind(now())
        .bind(user.mobile.as_ref().map(|m| m.as_str()))
        .bind(user.contract_number.as_deref())
        .bind(user.trunk_id)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || extension_taken(user.extension.as_deref())))?;
        let licences = &user.licences;
        super::licences::assign_licences(&mut tx, user.tenant_id, UserId(id), licences, user.fax)
            .await?;
        let mut position = None;
        if let (Some(line), Some(number)) = (line, user.number_id) {
            let device = line.device;
            tx.checked::<NumberUse>(user.tenant_id, number, line.rule)
                .await?;
            let next = super::devices::insert_line(
                &mut tx,
                device,
                number,
                line.sip_user,
                line.sip_password,
                true,
                Some("handset"),
            )
            .await?;
            // The add's one audit entry shows the desk phone with the user (no secret).
            let mut after = match super::audit::snapshot(tx.conn(), AuditEntity::User, id).await? {
                Some(json) => serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
                None => serde_json::Value::Null,
            };
            if let Some(map) = after.as_object_mut() {
                map.insert(
                    "desk_phone".to_owned(),
                    serde_json::json!({ "device_id": device.id.0, "phone_id": device.phone_id, "position": next }),
                );
            }
            tx.record(None, after);
            position = Some(super::devices::line_position(next)?);
        }
        tx.commit(user.tenant_id, AuditEntity::User, id, AuditAction::Create)
            .await?;
        let created = self.user_get(user.tenant_id, UserId(id)).await?;
        Ok((created, position))
    }

    /// Applies `patch` in one statement, so a concurrent update of other fields is not lost,
    /// once `rule` holds for the user and the extension the patch gives them (if any) as the
    /// write reads them.
    pub async fn user_update(
        &self,
        tenant: TenantId,
        id: UserId,
        patch: &UserPatch,
        rule: impl FnOnce(&(User, Option<ExtensionUse>)) -> Result<()> + Send,
    ) -> Result<User> {
        let key = (id, patch.extension.clone().flatten());
        self.user_patch(tenant, id, patch, key, rule).await
    }

    /// Gives user `id` the `number` (and `extension`, when given), once `rule` holds for the
    /// number's use, the user and the extension as the write reads them: two admins giving one
    /// number to two users, or two numbers to one user, cannot both pass it.
    pub async fn user_assign_number(
        &self,
        tenant: TenantId,
        id: UserId,
        number: NumberId,
        extension: Option<String>,
        rule: impl FnOnce(&((NumberUse, User), Option<ExtensionUse>)) -> Result<()> + Send,
    ) -> Result<User> {
        let patch = UserPatch {
            number_id: Some(Some(number)),
            extension: extension.clone().map(Some),
            ..Default::default()
        };
        self.user_patch(tenant, id, &patch, ((number, id), extension), rule)
            .await
    }

    /// `patch` on user `id`, once `rule` holds for the `T` named `key` inside the write.
    async fn user_patch<T: Fresh>(
        &self,
        tenant: TenantId,
        id: UserId,
        patch: &UserPatch,
        key: T::Key,
        rule: impl FnOnce(&T) -> Result<()>,
    ) -> Result<User> {
        let (sets, raw) = user_sets(patch)?;
        if sets.is_empty() && raw.is_empty() {
            rule(&self.read_now::<T>(tenant, key).await?)?;
            return self.user_get(tenant, id).await;
        }
        let mut tx = self.begin_write().await?;
        tx.checked::<T>(tenant, key, rule).await?;
        tx.snapshot_before(AuditEntity::User, id.0).await?;
        let extension = patch.extension.clone().flatten();
        let done = tx
            .update("users", &sets, raw, id.0, tenant)
            .await
            .map_err(|e| unique_or_store(e, || extension_taken(extension.as_deref())))?;
        if done == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, AuditEntity::User, id.0, AuditAction::Update)
            .await?;
        self.user_get(tenant, id).await
    }

    pub async fn user_set_state(
        &self,
        tenant: TenantId,
        id: UserId,
        state: UserState,
        rule: impl FnOnce(&User) -> Result<()> + Send,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        tx.checked::<User>(tenant, id, rule).await?;
        tx.snapshot_before(AuditEntity::User, id.0).await?;
        let done = sqlx::query("UPDATE users SET state = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(state.as_str())
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, AuditEntity::User, id.0, state.into())
            .await?;
        self.user_get(tenant, id).await
    }

    /// Deactivates a user, with what callers hear (`announcement`, `transfer` number, `mode`),
    /// once `rule` holds for the user as the write reads them.
    pub async fn user_deactivate(
        &self,
        tenant: TenantId,
        id: UserId,
        announcement: Option<&str>,
        transfer: Option<&str>,
        mode: &str,
        rule: impl FnOnce(&User) -> Result<()> + Send,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        tx.checked::<User>(tenant, id, rule).await?;
        tx.snapshot_before(AuditEntity::User, id.0).await?;
        let done = sqlx::query(
            "UPDATE users SET state = 'deactivated', deactivation_announcement = $1, \
             deactivation_transfer = $2, deactivation_mode = $3 WHERE id = $4 AND tenant_id = $5",
        )
        .bind(announcement)
        .bind(transfer)
        .bind(mode)
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, AuditEntity::User, id.0, AuditAction::Deactivate)
            .await?;
        self.user_get(tenant, id).await
    }

    /// Takes the user's number back, in one transaction with resetting what was the user's on
    /// it: the custom PIN (and its lock) and the call features. The label stays: it names the
    /// number, not the person. The user is the number's holder as the write reads it, once
    /// `rule` holds for the number's use there.
    pub async fn user_unassign_number(
        &self,
        tenant: TenantId,
        number: NumberId,
        new_default_pin: &str,
        rule: impl FnOnce(&NumberUse) -> Result<()> + Send,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let fresh = tx.checked::<NumberUse>(tenant, number, rule).await?;
        let id = fresh
            .holder
            .map(|u| u.id)
            .ok_or_else(|| Error::not_found("user with number", number))?;
        tx.snapshot_before(AuditEntity::User, id.0).await?;
        release_number(&mut tx, tenant, id, new_default_pin).await?;
        let done = tx
            .update(
                "users",
                &[("number_id", Value::Int(None))],
                &[],
                id.0,
                tenant,
            )
            .await?;
        if done == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, AuditEntity::User, id.0, AuditAction::UnassignNumber)
            .await?;
        self.user_get(tenant, id).await
    }

    /// Deletes a user in one transaction: their number is logged out of every handset and is
    /// free again at once, without their PIN and call features; monitor lists, BLF grants,
    /// licences and speed dials go with the user (foreign keys). Once `rule` holds for the
    /// user as the write reads them.
    pub async fn user_delete(
        &self,
        tenant: TenantId,
        id: UserId,
        new_default_pin: &str,
        rule: impl FnOnce(&User) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<User>(tenant, id, rule).await?;
        tx.snapshot_before(AuditEntity::User, id.0).await?;
        release_number(&mut tx, tenant, id, new_default_pin).await?;
        sqlx::query(
            "DELETE FROM device_lines WHERE number_id IN \
             (SELECT number_id FROM users WHERE id = $1 AND tenant_id = $2 AND number_id IS NOT NULL)",
        )
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, AuditEntity::User, id.0, AuditAction::Delete)
            .await?;
        Ok(())
    }

    pub async fn user_get(&self, tenant: TenantId, id: UserId) -> Result<User> {
        self.read_now(tenant, id).await
    }

    /// The users of `tenant` matching one of: e-mail, number (E.164), or "First Last".
    pub async fn user_search(&self, tenant: TenantId, key: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE u.tenant_id = $1 AND (u.email = $2 OR n.e164 = $2 \
             OR u.first_name || ' ' || u.last_name = $2) ORDER BY u.id"
        ))
        .bind(tenant.0)
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    pub async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>> {
        read_users(&self.pool, tenant).await
    }

    /// The pending users of every tenant (the operator's activation queue), by tenant and
    /// name, at most `limit` of them: one statement, however many tenants there are.
    pub async fn pending_users(&self, limit: u32) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE u.state = 'pending' \
             ORDER BY u.tenant_id, u.last_name, u.first_name, u.id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    pub async fn user_by_extension(
        &self,
        tenant: TenantId,
        extension: &str,
    ) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "{SELECT} WHERE u.tenant_id = $1 AND u.extension = $2"
        ))
        .bind(tenant.0)
        .bind(extension)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The user a number is assigned to, if any.
    pub async fn user_by_number(&self, number: NumberId) -> Result<Option<User>> {
        read_holder(&self.pool, number).await
    }
}

/// The tenant's users by name, read with `conn`.
pub(super) async fn read_users<'c>(
    conn: impl Executor<'c, Database = Any>,
    tenant: TenantId,
) -> Result<Vec<User>> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE u.tenant_id = $1 ORDER BY u.last_name, u.first_name, u.id"
    ))
    .bind(tenant.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(user_from).collect()
}

/// The user `number` is assigned to, if any, read with `conn`.
pub(super) async fn read_holder<'c>(
    conn: impl Executor<'c, Database = Any>,
    number: NumberId,
) -> Result<Option<User>> {
    let row = sqlx::query(&format!("{SELECT} WHERE u.number_id = $1"))
        .bind(number.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(user_from).transpose()
}

impl Fresh for User {
    type Key = UserId;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: UserId) -> Result<User> {
        let sql = format!("{SELECT} WHERE u.id = $1 AND u.tenant_id = $2");
        user_from(&super::row_by_id(conn, &sql, ("user", id.0), tenant).await?)
    }
}

/// The columns `patch` sets, and the raw assignments that go with them.
fn user_sets(patch: &UserPatch) -> Result<(Sets, &'static [&'static str])> {
    let text = |v: &Option<Option<String>>| v.clone().map(Value::Text);
    let mut sets: Sets = Vec::new();
    if let Some(v) = &patch.first_name {
        sets.push(("first_name", Value::Text(Some(v.as_str().to_owned()))));
    }
    if let Some(v) = &patch.last_name {
        sets.push(("last_name", Value::Text(Some(v.as_str().to_owned()))));
    }
    for (column, value) in [
        ("email", &patch.email),
        ("extension", &patch.extension),
        ("contract_number", &patch.contract_number),
        ("app_email", &patch.app_email),
        ("app_login", &patch.app_login),
    ] {
        if let Some(v) = text(value) {
            sets.push((column, v));
        }
    }
    if let Some(v) = &patch.mobile {
        sets.push(("mobile", Value::Text(v.as_ref().map(|m| m.to_string()))));
    }
    if let Some(v) = &patch.number_id {
        sets.push(("number_id", Value::Int(v.map(|n| n.0))));
    }
    if let Some(v) = &patch.trunk_id {
        sets.push(("trunk_id", Value::Int(*v)));
    }
    if let Some(v) = &patch.options {
        let json = serde_json::to_string(v).map_err(Error::json("user options"))?;
        sets.push(("options", Value::Text(Some(json))));
    }
    let raw: &[&str] = if matches!(patch.app_email, Some(Some(_))) {
        &["app_invitations = app_invitations + 1"]
    } else {
        &[]
    };
    Ok((sets, raw))
}

/// Resets the user's number's personal settings: custom PIN, lock, call features, and a new
/// default PIN (the old one was the user's to read).
async fn release_number(
    tx: &mut super::WriteTx<'_>,
    tenant: TenantId,
    id: UserId,
    new_default_pin: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE numbers SET pin_hash = NULL, pin_failures = 0, features = '{}', default_pin = $3 \
         WHERE id = (SELECT number_id FROM users WHERE id = $1 AND tenant_id = $2)",
    )
    .bind(id.0)
    .bind(tenant.0)
    .bind(new_default_pin)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub(super) fn user_from(row: &AnyRow) -> Result<User> {
    let first: String = get(row, "first_name")?;
    let last: String = get(row, "last_name")?;
    let state: String = get(row, "state")?;
    let number: Option<String> = get(row, "e164")?;
    Ok(User {
        id: UserId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        first_name: FirstName::stored(first),
        last_name: LastName::stored(last),
        email: get(row, "email")?,
        state: state.parse().map_err(|e| corrupt("user state", e))?,
        number_id: get::<Option<i64>>(row, "number_id")?.map(NumberId),
        number: number
            .map(|n| n.parse())
            .transpose()
            .map_err(|e| corrupt("number", e))?,
        extension: get(row, "extension")?,
        mobile: get::<Option<String>>(row, "mobile")?
            .map(|m| m.parse())
            .transpose()
            .map_err(|e| corrupt("mobile", e))?,
        contract_number: get(row, "contract_number")?,
        app_email: get(row, "app_email")?,
        app_login: get(row, "app_login")?,
        app_invitations: get(row, "app_invitations")?,
        trunk_id: get(row, "trunk_id")?,
        fax_number_id: get::<Option<i64>>(row, "fax_number_id")?.map(NumberId),
        number_label: crate::model::join_label(
            get::<Option<String>>(row, "number_label_first")?.as_deref(),
            get::<Option<String>>(row, "number_label_last")?.as_deref(),
        ),
        options: {
            let json: String = get(row, "options")?;
            serde_json::from_str(&json)
                .map_err(|e| Error::store("stored user options are invalid", e))?
        },
    })
}

impl Store {
    /// A page of the tenant's users, by name; a search looks in the name, e-mail, number and
    /// extension.
    pub async fn user_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<User>> {
        self.list(
            &ListSql::new(
                user_columns!(),
                "FROM users u LEFT JOIN numbers n ON n.id = u.number_id WHERE u.tenant_id = $1",
                &[tenant.0],
                "u.last_name, u.first_name, u.id",
            )
            .search(&[
                "u.first_name || ' ' || u.last_name",
                "u.email",
                "n.e164",
                "u.extension",
            ]),
            query,
            user_from,
        )
        .await
    }
}
