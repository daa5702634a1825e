//! Collaborate bridges: a name and a number of the tenant (then the bridge's), the dial-in of
//! MyRoom conferences.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::lists::ListSql;
use super::{corrupt, get, now, unique_on, ExtensionUse, Fresh, NumberUse, Store};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, Bridge, ListQuery, Listed, NumberId, TenantId};

/// A bridge to create.
#[derive(Clone, Debug)]
pub struct NewBridge {
    pub tenant_id: TenantId,
    pub name: String,
    pub number_id: NumberId,
    pub extension: Option<String>,
}

pub(super) const SELECT: &str = "SELECT b.id, b.tenant_id, b.name, b.number_id, n.e164, \
     b.extension FROM bridges b JOIN numbers n ON n.id = b.number_id";

impl Store {
    /// Creates a bridge once `rule` holds for its number and extension as the write reads them.
    pub async fn bridge_create(
        &self,
        b: &NewBridge,
        rule: impl FnOnce(&(NumberUse, Option<ExtensionUse>)) -> Result<()> + Send,
    ) -> Result<Bridge> {
        let mut tx = self.begin_write().await?;
        let key = (b.number_id, b.extension.clone());
        tx.checked::<(NumberUse, Option<ExtensionUse>)>(b.tenant_id, key, rule)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bridges (tenant_id, name, number_id, extension, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(b.tenant_id.0)
        .bind(&b.name)
        .bind(b.number_id.0)
        .bind(b.extension.as_deref())
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_on(e, "name", || {
                format!("a bridge named {} exists already", b.name)
            })
            .coded("bridge_taken", [("name", b.name.clone())])
        })?;
        tx.commit(b.tenant_id, AuditEntity::Bridge, id, AuditAction::Create)
            .await?;
        self.bridge_get(b.tenant_id, id).await
    }

    /// Replaces bridge `id` with `b` once `rule` holds for its number and extension as the
    /// write reads them (the audit entry has the bridge before and after).
    pub async fn bridge_update(
        &self,
        id: i64,
        b: &NewBridge,
        rule: impl FnOnce(&(NumberUse, Option<ExtensionUse>)) -> Result<()> + Send,
    ) -> Result<Bridge> {
        let tenant = b.tenant_id;
        let mut tx = self.begin_write().await?;
        tx.checked::<Bridge>(tenant, id, |_| Ok(())).await?;
        let key = (b.number_id, b.extension.clone());
        tx.checked::<(NumberUse, Option<ExtensionUse>)>(tenant, key, rule)
            .await?;
        tx.snapshot_before(AuditEntity::Bridge, id).await?;
        sqlx::query(
            "UPDATE bridges SET name = $1, number_id = $2, extension = $3 \
             WHERE id = $4 AND tenant_id = $5",
        )
        .bind(&b.name)
        .bind(b.number_id.0)
        .bind(b.extension.as_deref())
        .bind(id)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            unique_on(e, "name", || {
                format!("a bridge named {} exists already", b.name)
            })
            .coded("bridge_taken", [("name", b.name.clone())])
        })?;
        tx.commit(tenant, AuditEntity::Bridge, id, AuditAction::Update)
            .await?;
        self.bridge_get(tenant, id).await
    }

    /// Deletes a bridge, once `rule` holds for the tenant's MyRoom facts as the write reads
    /// them: its number and extension are free at once.
    pub async fn bridge_delete(
        &self,
        tenant: TenantId,
        id: i64,
        rule: impl FnOnce(&MyRoomFacts) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<MyRoomFacts>(tenant, (), rule).await?;
        tx.snapshot_before(AuditEntity::Bridge, id).await?;
        let done = sqlx::query("DELETE FROM bridges WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("bridge", id));
        }
        tx.commit(tenant, AuditEntity::Bridge, id, AuditAction::Delete)
            .await?;
        Ok(())
    }

    pub async fn bridge_get(&self, tenant: TenantId, id: i64) -> Result<Bridge> {
        self.read_now(tenant, id).await
    }

    /// The tenant's bridges by name.
    pub async fn bridge_list(&self, tenant: TenantId) -> Result<Vec<Bridge>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE b.tenant_id = $1 ORDER BY b.name, b.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(bridge_from).collect()
    }

    /// A page of the tenant's bridges by name; a search looks in the name and number.
    pub async fn bridge_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Bridge>> {
        self.list(
            &ListSql::new(
                "b.id, b.tenant_id, b.name, b.number_id, n.e164, b.extension",
                "FROM bridges b JOIN numbers n ON n.id = b.number_id WHERE b.tenant_id = $1",
                &[tenant.0],
                "b.name, b.id",
            )
            .search(&["b.name", "n.e164"]),
            query,
            bridge_from,
        )
        .await
    }
}

/// A tenant's bridges and MyRoom (conference-room) licence holders, as a guarded write reads
/// them: MyRoom needs a dial-in bridge.
#[derive(Clone, Copy, Debug)]
pub struct MyRoomFacts {
    pub bridges: i64,
    pub holders: i64,
}

impl Fresh for MyRoomFacts {
    type Key = ();

    async fn read(conn: &mut AnyConnection, tenant: TenantId, _: ()) -> Result<Self> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM bridges WHERE tenant_id = $1) AS bridges, \
             (SELECT COUNT(*) FROM user_licences WHERE tenant_id = $1 \
             AND kind = 'conference-room') AS holders",
        )
        .bind(tenant.0)
        .fetch_one(conn)
        .await?;
        Ok(MyRoomFacts {
            bridges: get(&row, "bridges")?,
            holders: get(&row, "holders")?,
        })
    }
}

/// What a licence write's rule looks at besides the user: the tenant's bridges (MyRoom) and
/// the number chosen as the user's e-fax number.
#[derive(Clone, Debug)]
pub struct LicenceFacts {
    pub myroom: MyRoomFacts,
    pub fax: Option<NumberUse>,
}

impl Fresh for LicenceFacts {
    type Key = Option<NumberId>;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, fax: Self::Key) -> Result<Self> {
        Ok(LicenceFacts {
            myroom: MyRoomFacts::read(conn, tenant, ()).await?,
            fax: Option::<NumberUse>::read(conn, tenant, fax).await?,
        })
    }
}

impl Fresh for Bridge {
    type Key = i64;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<Bridge> {
        let sql = format!("{SELECT} WHERE b.id = $1 AND b.tenant_id = $2");
        bridge_from(&super::row_by_id(conn, &sql, ("bridge", id), tenant).await?)
    }
}

pub(super) fn bridge_from(row: &AnyRow) -> Result<Bridge> {
    let number: String = get(row, "e164")?;
    Ok(Bridge {
        id: get(row, "id")?,
        tenant_id: TenantId(get(row, "tenant_id")?),
        name: get(row, "name")?,
        number_id: NumberId(get(row, "number_id")?),
        number: number.parse().map_err(|e| corrupt("number", e))?,
        extension: get(row, "extension")?,
    })
}
