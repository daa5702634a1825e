//! Phone numbers allocated to a tenant's sites.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::lists::ListSql;
use super::{corrupt, get, now, unique_or_store, Fresh, Sets, Store, Value};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, ListQuery, Listed, LoggedIn, Number, NumberFeatures, NumberId,
    NumberStatus, NumberView, SiteId, TenantId, User, UserId, E164,
};

#[derive(Clone, Debug)]
pub struct NewNumber {
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub e164: E164,
    pub status: NumberStatus,
    pub is_main: bool,
    pub default_pin: String,
}

pub(super) const COLUMNS: &str = "id, tenant_id, site_id, e164, status, is_main, label_first, \
     label_last, default_pin, pin_hash, pin_failures, features";

/// Wrong PINs in a row that lock a number's PIN.
pub const PIN_ATTEMPTS: i64 = 3;

/// Changes to a number; `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct NumberPatch {
    pub status: Option<NumberStatus>,
    pub label_first: Option<Option<String>>,
    pub label_last: Option<Option<String>>,
    pub features: Option<NumberFeatures>,
}

/// A number with who uses it, as a guarded write reads it: the user it is assigned to and the
/// handset it is logged in to.
#[derive(Clone, Debug)]
pub struct NumberUse {
    pub number: Number,
    pub holder: Option<User>,
    /// The Phone ID of the handset the number is logged in to.
    pub handset: Option<String>,
    /// Who owns it, when not a user's line: a group, a bridge, a user's e-fax
    /// (`store/extensions.rs`).
    pub owner: Option<super::NumberOwner>,
}

/// Who shows a number to callers: the first number that has it as its CLI (its E.164), else
/// the first user who has it as their displayed number (their name).
#[derive(Clone, Debug)]
pub struct ShownBy(pub Option<String>);

/// What a PIN check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinCheck {
    Ok,
    /// Wrong; this many attempts are left before the lock.
    Wrong(i64),
    Locked,
}

impl Store {
    pub async fn number_create(&self, number: &NewNumber) -> Result<Number> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO numbers (tenant_id, site_id, e164, status, is_main, created_at, \
             default_pin) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(number.tenant_id.0)
        .bind(number.site_id.0)
        .bind(number.e164.as_str())
        .bind(number.status.as_str())
        .bind(i64::from(number.is_main))
        .bind(now())
        .bind(&number.default_pin)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || {
                if number.is_main {
                    format!(
                        "{} cannot be added: either it exists already or the site has a main number",
                        number.e164
                    )
                } else {
                    format!("{} exists already", number.e164)
                }
            })
        })
        .map_err(|e| {
            let args = [("number", number.e164.to_string())];
            match number.is_main {
                true => e.coded("number_exists_or_main", args),
                false => e.coded("number_exists", args),
            }
        })?;
        tx.commit(
            number.tenant_id,
            AuditEntity::Number,
            id,
            AuditAction::Create,
        )
        .await?;
        self.number_get(number.tenant_id, NumberId(id)).await
    }

    pub async fn number_get(&self, tenant: TenantId, id: NumberId) -> Result<Number> {
        self.read_now(tenant, id).await
    }

    /// A number with its holder and handset.
    pub async fn number_use(&self, tenant: TenantId, id: NumberId) -> Result<NumberUse> {
        self.read_now(tenant, id).await
    }

    /// Applies `patch`, once `rule` holds for the number as the write reads it.
    pub async fn number_update(
        &self,
        tenant: TenantId,
        id: NumberId,
        patch: &NumberPatch,
        action: AuditAction,
        rule: impl FnOnce(&Number) -> Result<()> + Send,
    ) -> Result<Number> {
        self.number_write(tenant, (id, id), &number_sets(patch)?, action, rule)
            .await
    }

    /// Moves a number to `status`, once `rule` holds for its use and who shows it to callers, as
    /// the write reads them.
    pub async fn number_set_status(
        &self,
        tenant: TenantId,
        id: NumberId,
        status: NumberStatus,
        rule: impl FnOnce(&(NumberUse, ShownBy)) -> Result<()> + Send,
    ) -> Result<Number> {
        let sets = [("status", Value::Text(Some(status.as_str().to_owned())))];
        self.number_write(tenant, (id, (id, id)), &sets, status.into(), rule)
            .await
    }

    /// Sets the user's own PIN (an argon2 hash), or back to the default with `None`; either
    /// way the lock opens. Once `rule` holds for the number as the write reads it.
    pub async fn number_set_pin(
        &self,
        tenant: TenantId,
        id: NumberId,
        hash: Option<&str>,
        action: AuditAction,
        rule: impl FnOnce(&Number) -> Result<()> + Send,
    ) -> Result<Number> {
        let sets = [
            ("pin_hash", Value::Text(hash.map(str::to_owned))),
            ("pin_failures", Value::Int(Some(0))),
        ];
        self.number_write(tenant, (id, id), &sets, action, rule)
            .await
    }

    /// Records a PIN check: a right PIN clears the count, a wrong one adds to it. Not a
    /// configuration change (no revision), but serialised per number by the single UPDATE.
    pub async fn number_pin_attempt(&self, id: NumberId, right: bool) -> Result<PinCheck> {
        let failures: i64 = if right {
            sqlx::query_scalar(
                "UPDATE numbers SET pin_failures = 0 WHERE id = $1 AND pin_failures < $2 \
                 RETURNING pin_failures",
            )
        } else {
            sqlx::query_scalar(
                "UPDATE numbers SET pin_failures = pin_failures + 1 WHERE id = $1 \
                 AND pin_failures < $2 RETURNING pin_failures",
            )
        }
        .bind(id.0)
        .bind(PIN_ATTEMPTS)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or(PIN_ATTEMPTS);
        Ok(match (right, failures) {
            (_, f) if f >= PIN_ATTEMPTS && !right => PinCheck::Locked,
            (true, 0) => PinCheck::Ok,
            (true, _) => PinCheck::Locked,
            (false, f) => PinCheck::Wrong(PIN_ATTEMPTS - f),
        })
    }

    /// `sets` on number `id`, once `rule` holds for the `T` named `key` inside the write.
    async fn number_write<T: Fresh>(
        &self,
        tenant: TenantId,
        (id, key): (NumberId, T::Key),
        sets: &[(&str, Value)],
        action: AuditAction,
        rule: impl FnOnce(&T) -> Result<()>,
    ) -> Result<Number> {
        if sets.is_empty() {
            rule(&self.read_now::<T>(tenant, key).await?)?;
            return self.number_get(tenant, id).await;
        }
        let mut tx = self.begin_write().await?;
        tx.checked::<T>(tenant, key, rule).await?;
        tx.snapshot_before(AuditEntity::Number, id.0).await?;
        let done = tx.update("numbers", sets, &[], id.0, tenant).await?;
        if done == 0 {
            return Err(Error::not_found("number", id));
        }
        tx.commit(tenant, AuditEntity::Number, id.0, action).await?;
        self.number_get(tenant, id).await
    }

    /// The argon2 hash of the number's own PIN, if the user set one.
    pub async fn number_pin_hash(&self, id: NumberId) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT pin_hash FROM numbers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("number", id))
    }

    /// The tenant's numbers (at `site` if given) with whom they are assigned to and the handset
    /// they are logged in to, by number.
    pub async fn number_views(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
    ) -> Result<Vec<NumberView>> {
        let rows = sqlx::query(&format!(
            "SELECT {} {VIEW_ROWS} ORDER BY n.e164",
            view_columns()
        ))
        .bind(tenant.0)
        .bind(site.map(|s| s.0).unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(view_from).collect()
    }

    /// A page of `number_views`; a search looks in the number and in "assigned to" (the
    /// label, else the user's name; "Main Number" for a main number).
    pub async fn number_view_page(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        query: &ListQuery,
    ) -> Result<Listed<NumberView>> {
        self.list(
            &ListSql::new(
                &view_columns(),
                VIEW_ROWS,
                &[tenant.0, site.map(|s| s.0).unwrap_or(0)],
                "n.e164",
            )
            .search(&["n.e164", ASSIGNED_TO]),
            query,
            view_from,
        )
        .await
    }

    /// A number of `tenant` by its E.164 form.
    pub async fn number_by_e164(&self, tenant: TenantId, e164: &E164) -> Result<Number> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM numbers WHERE e164 = $1 AND tenant_id = $2"
        ))
        .bind(e164.as_str())
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::not_found("number", e164))?;
        number_from(&row)
    }

    /// The number of the user of `tenant` whose extension is `extension`, if any.
    pub async fn number_by_extension(
        &self,
        tenant: TenantId,
        extension: &str,
    ) -> Result<Option<Number>> {
        let columns: Vec<String> = COLUMNS
            .split(',')
            .map(|c| format!("n.{}", c.trim()))
            .collect();
        let row = sqlx::query(&format!(
            "SELECT {} FROM numbers n JOIN users u ON u.number_id = n.id \
             WHERE u.extension = $1 AND u.tenant_id = $2 AND n.tenant_id = $2",
            columns.join(", ")
        ))
        .bind(extension)
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(number_from).transpose()
    }

    /// Whether the site already has its main number.
    pub async fn site_has_main_number(&self, site: SiteId) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM numbers WHERE site_id = $1 AND is_main = 1")
                .bind(site.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }
}

/// The columns `patch` sets.
fn number_sets(patch: &NumberPatch) -> Result<Sets> {
    let mut sets: Sets = Vec::new();
    if let Some(status) = patch.status {
        sets.push(("status", Value::Text(Some(status.as_str().to_owned()))));
    }
    for (column, value) in [
        ("label_first", &patch.label_first),
        ("label_last", &patch.label_last),
    ] {
        if let Some(v) = value {
            sets.push((column, Value::Text(v.clone())));
        }
    }
    if let Some(f) = &patch.features {
        let json = serde_json::to_string(f).map_err(Error::json("number features"))?;
        sets.push(("features", Value::Text(Some(json))));
    }
    Ok(sets)
}

impl Fresh for Number {
    type Key = NumberId;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: NumberId) -> Result<Number> {
        let sql = format!("SELECT {COLUMNS} FROM numbers WHERE id = $1 AND tenant_id = $2");
        number_from(&super::row_by_id(conn, &sql, ("number", id.0), tenant).await?)
    }
}

impl Fresh for NumberUse {
    type Key = NumberId;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: NumberId) -> Result<NumberUse> {
        let number = Number::read(conn, tenant, id).await?;
        let holder = super::users::read_holder(&mut *conn, id).await?;
        let handset: Option<String> = sqlx::query_scalar(
            "SELECT d.phone_id FROM device_lines l JOIN devices d ON d.id = l.device_id \
             WHERE l.number_id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
        let owner = super::extensions::read_number_owner(&mut *conn, tenant, id)
            .await?
            .and_then(super::extensions::besides_holder);
        Ok(NumberUse {
            number,
            holder,
            handset,
            owner,
        })
    }
}

impl Fresh for ShownBy {
    type Key = NumberId;

    /// The tenant's numbers by E.164 and its users by name, as the lists show them.
    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: NumberId) -> Result<ShownBy> {
        let e164 = Number::read(conn, tenant, id).await?.e164;
        let numbers = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM numbers WHERE tenant_id = $1 ORDER BY e164"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *conn)
        .await?;
        for row in &numbers {
            let n = number_from(row)?;
            if n.features.cli_number.as_ref() == Some(&e164) {
                return Ok(ShownBy(Some(n.e164.to_string())));
            }
        }
        let users = super::users::read_users(&mut *conn, tenant).await?;
        Ok(ShownBy(
            users
                .into_iter()
                .find(|u| u.options.displayed_number.as_ref() == Some(&e164))
                .map(|u| u.display_name()),
        ))
    }
}

pub(super) fn number_from(row: &AnyRow) -> Result<Number> {
    let e164: String = get(row, "e164")?;
    let status: String = get(row, "status")?;
    let is_main: i64 = get(row, "is_main")?;
    Ok(Number {
        id: NumberId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        site_id: SiteId(get(row, "site_id")?),
        e164: e164.parse().map_err(|e| corrupt("number", e))?,
        status: status.parse().map_err(|e| corrupt("number status", e))?,
        is_main: is_main != 0,
        label_first: get(row, "label_first")?,
        label_last: get(row, "label_last")?,
        default_pin: get(row, "default_pin")?,
        custom_pin: get::<Option<String>>(row, "pin_hash")?.is_some(),
        pin_locked: get::<i64>(row, "pin_failures")? >= PIN_ATTEMPTS,
        features: {
            let json: String = get(row, "features")?;
            serde_json::from_str(&json)
                .map_err(|e| Error::store("stored number features are invalid", e))?
        },
    })
}

/// The numbers of tenant `$1` (at site `$2`, or every site with 0) with their user and
/// handset, for `number_views`.
const VIEW_ROWS: &str = "FROM numbers n \
     LEFT JOIN users u ON u.number_id = n.id \
     LEFT JOIN device_lines l ON l.number_id = n.id \
     LEFT JOIN devices d ON d.id = l.device_id \
     WHERE n.tenant_id = $1 AND ($2 = 0 OR n.site_id = $2)";

/// `NumberView::assigned_to` in SQL, as `view_from` makes it.
const ASSIGNED_TO: &str = "CASE WHEN n.is_main = 1 THEN 'Main Number' \
     WHEN n.label_first IS NOT NULL OR n.label_last IS NOT NULL \
     THEN TRIM(COALESCE(n.label_first, '') || ' ' || COALESCE(n.label_last, '')) \
     ELSE u.first_name || ' ' || u.last_name END";

fn view_columns() -> String {
    let columns: Vec<String> = COLUMNS
        .split(',')
        .map(|c| format!("n.{}", c.trim()))
        .collect();
    format!(
        "{}, u.id AS user_id, u.first_name, u.last_name, u.extension, d.phone_id, d.mac",
        columns.join(", ")
    )
}

fn view_from(row: &AnyRow) -> Result<NumberView> {
    let number = number_from(row)?;
    let user_id: Option<i64> = get(row, "user_id")?;
    let name = match (
        get::<Option<String>>(row, "first_name")?,
        get::<Option<String>>(row, "last_name")?,
    ) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        _ => None,
    };
    let logged_in = match get::<Option<String>>(row, "phone_id")? {
        Some(phone_id) => Some(LoggedIn {
            phone_id,
            mac: get::<String>(row, "mac")?
                .parse()
                .map_err(|e| corrupt("mac", e))?,
        }),
        None => None,
    };
    Ok(NumberView {
        assigned_to: if number.is_main {
            Some("Main Number".to_owned())
        } else {
            number.label().or(name)
        },
        user_id: user_id.map(UserId),
        extension: get(row, "extension")?,
        logged_in,
        number,
    })
}
