//! The extension plan: one query says who owns an extension in a tenant, across every kind
//! that has extensions (users, hunt groups and call centres, virtual users, bridges), and one
//! says who owns a number of the tenant. Every write that gives out an extension or a number
//! asks it inside its transaction (after the revision bump, which holds the write lock), so of
//! two racing writes exactly one gets it.
//!
//! A new kind of owner is one arm in [`EXTENSION_OWNERS`] (and [`NUMBER_OWNERS`] when it holds
//! numbers) and a variant of `model::OwnerKind`.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor};

use super::{corrupt, get, Fresh, Store};
use crate::error::Result;
use crate::model::{ExtensionOwner, NumberId, TenantId};

/// Every owner of an extension in the tenant `$1`: `kind`, `id`, `name`, `extension`.
const EXTENSION_OWNERS: &[&str] = &[
    "SELECT 'user' AS kind, id, first_name || ' ' || last_name AS name, extension \
     FROM users WHERE tenant_id = $1 AND extension IS NOT NULL",
    "SELECT kind, id, name, extension FROM call_groups \
     WHERE tenant_id = $1 AND extension IS NOT NULL",
    "SELECT 'virtual-user' AS kind, id, first_name || ' ' || last_name AS name, extension \
     FROM virtual_users WHERE tenant_id = $1",
    "SELECT 'bridge' AS kind, id, name, extension FROM bridges \
     WHERE tenant_id = $1 AND extension IS NOT NULL",
    // A park group's slots: the id and name are the group's.
    "SELECT 'park-slot' AS kind, g.id AS id, g.name AS name, s.extension AS extension \
     FROM park_slots s JOIN park_groups g ON g.id = s.group_id WHERE s.tenant_id = $1",
];

/// Every owner of a number of the tenant `$1` besides the site (its main number): `kind`,
/// `id`, `name`, `number_id`, and `role` (`line`, `fax`).
const NUMBER_OWNERS: &[&str] = &[
    "SELECT 'user' AS kind, id, first_name || ' ' || last_name AS name, number_id, \
     'line' AS role FROM users WHERE tenant_id = $1 AND number_id IS NOT NULL",
    "SELECT 'user' AS kind, id, first_name || ' ' || last_name AS name, \
     fax_number_id AS number_id, 'fax' AS role FROM users \
     WHERE tenant_id = $1 AND fax_number_id IS NOT NULL",
    "SELECT kind, id, name, number_id, 'line' AS role FROM call_groups \
     WHERE tenant_id = $1 AND number_id IS NOT NULL",
    "SELECT 'bridge' AS kind, id, name, number_id, 'line' AS role FROM bridges \
     WHERE tenant_id = $1",
];

fn union(arms: &[&str]) -> String {
    arms.join(" UNION ALL ")
}

/// An extension and who owns it now, as a guarded write reads it.
#[derive(Clone, Debug)]
pub struct ExtensionUse {
    pub extension: String,
    pub owner: Option<ExtensionOwner>,
}

/// A number's owner besides the site, and as what (`line`, `fax`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct NumberOwner {
    #[serde(flatten)]
    pub owner: ExtensionOwner,
    /// `line` (the owner's number) or `fax` (a user's e-fax number).
    pub role: String,
}

impl std::fmt::Display for NumberOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.role.as_str() {
            "fax" => write!(f, "{} (e-fax)", self.owner),
            _ => self.owner.fmt(f),
        }
    }
}

fn owner_from(row: &AnyRow) -> Result<ExtensionOwner> {
    let kind: String = get(row, "kind")?;
    Ok(ExtensionOwner {
        kind: kind.parse().map_err(|e| corrupt("owner kind", e))?,
        id: get(row, "id")?,
        name: get(row, "name")?,
    })
}

/// Who owns `extension` in `tenant`, read with `conn`.
pub(super) async fn read_extension_owner<'c>(
    conn: impl Executor<'c, Database = Any>,
    tenant: TenantId,
    extension: &str,
) -> Result<Option<ExtensionOwner>> {
    let sql = format!(
        "SELECT kind, id, name FROM ({}) o WHERE extension = $2 ORDER BY kind, id",
        union(EXTENSION_OWNERS)
    );
    let row = sqlx::query(&sql)
        .bind(tenant.0)
        .bind(extension)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(owner_from).transpose()
}

/// Which of the extensions in `list` (placeholders from `$2`) anyone in the tenant `$1` owns,
/// whatever kind: one text column `extension`.
pub(super) fn extensions_taken_sql(list: &str) -> String {
    format!(
        "SELECT extension FROM ({}) o WHERE extension IN ({list})",
        union(EXTENSION_OWNERS)
    )
}

/// Who owns each of the tenant's numbers whose E.164 is in `list` (placeholders from `$2`),
/// besides the site: `e164`, `kind`, `id`, `name`, `role`, a number's line before its fax.
///
/// Each arm is narrowed to those numbers itself, so PostgreSQL looks the owners up by their
/// indexed number columns instead of reading every owner of the tenant and joining after the
/// union (which grew with every batch of an import: 100 ms a batch at 50,000 users).
pub(super) fn owners_by_e164_sql(list: &str) -> String {
    let ids = format!("SELECT id FROM numbers WHERE tenant_id = $1 AND e164 IN ({list})");
    let arms: Vec<String> = NUMBER_OWNERS
        .iter()
        .map(|arm| format!("SELECT * FROM ({arm}) a WHERE a.number_id IN ({ids})"))
        .collect();
    format!(
        "SELECT n.e164, o.kind, o.id, o.name, o.role FROM ({}) o \
         JOIN numbers n ON n.id = o.number_id \
         WHERE n.tenant_id = $1 ORDER BY n.e164, o.role DESC",
        arms.join(" UNION ALL ")
    )
}

/// `owner`, unless it is only the user who holds the number as their line (a number's use
/// names its holder apart, so the holder is no other owner).
pub(super) fn besides_holder(owner: NumberOwner) -> Option<NumberOwner> {
    (owner.role != "line" || owner.owner.kind != crate::model::OwnerKind::User).then_some(owner)
}

/// A row of `owners_by_e164_sql` as the owner it names.
pub(super) fn number_owner_from(row: &AnyRow) -> Result<NumberOwner> {
    Ok(NumberOwner {
        owner: owner_from(row)?,
        role: get(row, "role")?,
    })
}

/// Who owns `number` besides its site, read with `conn`.
pub(super) async fn read_number_owner<'c>(
    conn: impl Executor<'c, Database = Any>,
    tenant: TenantId,
    number: NumberId,
) -> Result<Option<NumberOwner>> {
    let sql = format!(
        "SELECT kind, id, name, role FROM ({}) o WHERE number_id = $2 ORDER BY role DESC",
        union(NUMBER_OWNERS)
    );
    let row = sqlx::query(&sql)
        .bind(tenant.0)
        .bind(number.0)
        .fetch_optional(conn)
        .await?;
    row.as_ref()
        .map(|r| {
            Ok(NumberOwner {
                owner: owner_from(r)?,
                role: get(r, "role")?,
            })
        })
        .transpose()
}

impl Fresh for ExtensionUse {
    type Key = String;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, extension: String) -> Result<Self> {
        let owner = read_extension_owner(conn, tenant, &extension).await?;
        Ok(ExtensionUse { extension, owner })
    }
}

impl Store {
    /// Whatever owns `extension` in `tenant`: the resolver of the directory, phone keys and
    /// the dial plan.
    pub async fn extension_owner(
        &self,
        tenant: TenantId,
        extension: &str,
    ) -> Result<Option<ExtensionOwner>> {
        read_extension_owner(&self.pool, tenant, extension).await
    }

    /// Every extension of the tenant with its owner, by extension.
    pub async fn extension_plan(&self, tenant: TenantId) -> Result<Vec<(String, ExtensionOwner)>> {
        let sql = format!(
            "SELECT kind, id, name, extension FROM ({}) o ORDER BY extension, kind, id",
            union(EXTENSION_OWNERS)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((get(r, "extension")?, owner_from(r)?)))
            .collect()
    }

    /// Who owns `number` besides its site.
    pub async fn number_owner(
        &self,
        tenant: TenantId,
        number: NumberId,
    ) -> Result<Option<NumberOwner>> {
        read_number_owner(&self.pool, tenant, number).await
    }

    /// Every owned number of the tenant with its owner (the site's main numbers are not here).
    pub async fn number_owners(&self, tenant: TenantId) -> Result<Vec<(NumberId, NumberOwner)>> {
        let sql = format!(
            "SELECT kind, id, name, number_id, role FROM ({}) o ORDER BY number_id",
            union(NUMBER_OWNERS)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    NumberId(get(r, "number_id")?),
                    NumberOwner {
                        owner: owner_from(r)?,
                        role: get(r, "role")?,
                    },
                ))
            })
            .collect()
    }
}

impl Store {
    /// The tenant's available numbers: active, not a site's main number, nobody's (by number).
    pub async fn available_numbers(&self, tenant: TenantId) -> Result<Vec<crate::model::Number>> {
        let sql = format!(
            "SELECT {} FROM numbers WHERE tenant_id = $1 AND status = 'active' AND is_main = 0 \
             AND id NOT IN (SELECT number_id FROM ({}) o) ORDER BY e164",
            super::numbers::COLUMNS,
            union(NUMBER_OWNERS)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(super::numbers::number_from).collect()
    }
}

/// A shared object as a phone's directory lists it: hunt groups, call centres, virtual users
/// and bridges, with how to dial them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SharedEntry {
    pub kind: crate::model::OwnerKind,
    pub name: String,
    /// Internal: dial this.
    pub extension: Option<String>,
    /// The object's number (a virtual user's: the external number it calls).
    pub number: Option<String>,
}

impl Store {
    /// The tenant's hunt groups, call centres, virtual users and bridges for the phones'
    /// directory, by name (for the directory's render, cached per tenant revision).
    pub async fn shared_directory(&self, tenant: TenantId) -> Result<Vec<SharedEntry>> {
        let rows = sqlx::query(
            "SELECT g.kind, g.name, g.extension, n.e164 AS number FROM call_groups g \
             LEFT JOIN numbers n ON n.id = g.number_id WHERE g.tenant_id = $1 \
             UNION ALL SELECT 'virtual-user', first_name || ' ' || last_name, extension, \
             external FROM virtual_users WHERE tenant_id = $1 \
             UNION ALL SELECT 'bridge', b.name, b.extension, n.e164 FROM bridges b \
             JOIN numbers n ON n.id = b.number_id WHERE b.tenant_id = $1 \
             ORDER BY 2, 1",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                Ok(SharedEntry {
                    kind: kind.parse().map_err(|e| corrupt("owner kind", e))?,
                    name: get(r, "name")?,
                    extension: get(r, "extension")?,
                    number: get(r, "number")?,
                })
            })
            .collect()
    }
}
