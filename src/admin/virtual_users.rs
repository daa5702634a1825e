//! Virtual users (seed 000): a first and last name (the users' limits), the FULL external
//! number to call (E.164, TKG §66k), and an extension of 2 to 6 digits nobody else in the tenant
//! has.

use super::extensions;
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    FirstName, LastName, ListQuery, Listed, OwnerKind, TenantId, VirtualUser, E164,
};
use crate::store::NewVirtualUser;

/// A virtual user as the API takes it (create and full replacement).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewVirtualUser)]
pub struct VirtualUserInput {
    #[schema(min_length = 1, max_length = 23)]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 30)]
    pub last_name: String,
    /// The full external number called (E.164).
    pub number: String,
    /// 2 to 6 digits.
    #[schema(min_length = 2, max_length = 6)]
    pub extension: String,
}

impl VirtualUserInput {
    fn parse(&self, tenant: TenantId) -> Result<NewVirtualUser> {
        let text = self.number.trim();
        let external: E164 = text.parse().map_err(|_| {
            Error::invalid(
                "number",
                format!("{text:?} is not the full number: + and the country code, then digits"),
            )
            .coded("not_full_number", [("value", format!("{text:?}"))])
        })?;
        external.check_tkg_66k("number")?;
        Ok(NewVirtualUser {
            tenant_id: tenant,
            first_name: FirstName::parse(&self.first_name)?,
            last_name: LastName::parse(&self.last_name)?,
            external,
            extension: extensions::parse(OwnerKind::VirtualUser, &self.extension)?,
        })
    }
}

impl Admin {
    pub async fn virtual_user_add(
        &self,
        tenant: TenantId,
        input: &VirtualUserInput,
    ) -> Result<VirtualUser> {
        let v = input.parse(tenant)?;
        self.store
            .virtual_user_create(&v, extensions::free(None))
            .await
    }

    pub async fn virtual_user_replace(
        &self,
        tenant: TenantId,
        current: &VirtualUser,
        input: &VirtualUserInput,
    ) -> Result<VirtualUser> {
        let v = input.parse(tenant)?;
        let me = Some((OwnerKind::VirtualUser, current.id));
        self.store
            .virtual_user_update(current.id, &v, extensions::free(me))
            .await
    }

    /// Deletes a virtual user: their extension is free at once.
    pub async fn virtual_user_delete(&self, tenant: TenantId, current: &VirtualUser) -> Result<()> {
        self.store.virtual_user_delete(tenant, current.id).await
    }

    /// A virtual user by id, extension or "First Last".
    pub async fn virtual_user(&self, tenant: TenantId, key: &str) -> Result<VirtualUser> {
        let key = key.trim();
        self.store
            .virtual_user_list(tenant)
            .await?
            .into_iter()
            .find(|v| v.id.to_string() == key || v.extension == key || v.display_name() == key)
            .ok_or_else(|| Error::not_found("virtual user", key))
    }

    pub async fn virtual_user_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<VirtualUser>> {
        self.store.virtual_user_page(tenant, query).await
    }
}
