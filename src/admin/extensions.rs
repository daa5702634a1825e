//! The extension plan's rules: one per tenant, shared by every kind that has extensions. An
//! extension is digits only, of a length that depends on its owner's kind (users 2–8 digits as
//! the portal allows, virtual users 2–6 as seed 000 says, groups and bridges 2–8), and nobody
//! else's in the tenant: [`free`] is checked inside the write that claims it.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{ExtensionOwner, OwnerKind, TenantId};
use crate::store::ExtensionUse;

/// The lengths an extension of `kind` may have.
pub fn lengths(kind: OwnerKind) -> std::ops::RangeInclusive<usize> {
    match kind {
        OwnerKind::VirtualUser => 2..=6,
        OwnerKind::User
        | OwnerKind::HuntGroup
        | OwnerKind::CallCentre
        | OwnerKind::Bridge
        | OwnerKind::ParkSlot => 2..=8,
    }
}

/// An extension for an owner of `kind`: digits only, of the kind's length.
pub fn parse(kind: OwnerKind, input: &str) -> Result<String> {
    let value = input.trim();
    let range = lengths(kind);
    if !range.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "extension",
            format!(
                "{value:?} is not an extension of a {}: {} to {} digits",
                kind.as_str().replace('-', " "),
                range.start(),
                range.end()
            ),
        )
        .coded(
            "extension_digits",
            [
                ("value", format!("{value:?}")),
                ("kind", kind.as_str().to_owned()),
                ("min", range.start().to_string()),
                ("max", range.end().to_string()),
            ],
        ));
    }
    Ok(value.to_owned())
}

/// The rule a write that gives an extension to `me` (none: an owner not created yet) checks
/// on the extension as it reads it: nobody else owns it.
pub fn free(me: Option<(OwnerKind, i64)>) -> impl Fn(&ExtensionUse) -> Result<()> + Send + Copy {
    move |fresh: &ExtensionUse| match &fresh.owner {
        Some(owner) if Some((owner.kind, owner.id)) != me => Err(Error::conflict_on(
            "extension",
            format!(
                "extension {} is already used by {owner}; choose another",
                fresh.extension
            ),
        )
        .coded(
            "extension_taken",
            [
                ("extension", fresh.extension.to_string()),
                ("kind", owner.kind.as_str().to_owned()),
                ("name", owner.name.clone()),
            ],
        )),
        _ => Ok(()),
    }
}

/// [`free`] for an extension a write may not claim at all (`None`).
pub(super) fn free_if(
    me: Option<(OwnerKind, i64)>,
) -> impl Fn(&Option<ExtensionUse>) -> Result<()> + Send + Copy {
    move |fresh: &Option<ExtensionUse>| fresh.as_ref().map_or(Ok(()), free(me))
}

impl Admin {
    /// Whatever owns `extension` in the tenant (kind, id, name): what the directory, phone
    /// keys and the dial plan dial.
    pub async fn extension_owner(
        &self,
        tenant: TenantId,
        extension: &str,
    ) -> Result<Option<ExtensionOwner>> {
        self.store.extension_owner(tenant, extension).await
    }

    /// Every extension of the tenant with its owner, by extension.
    pub async fn extension_plan(&self, tenant: TenantId) -> Result<Vec<(String, ExtensionOwner)>> {
        self.store.extension_plan(tenant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_depend_on_the_kind() {
        assert!(parse(OwnerKind::User, "12345678").is_ok());
        let err = parse(OwnerKind::VirtualUser, "1234567")
            .unwrap_err()
            .to_string();
        assert!(err.contains("virtual user: 2 to 6 digits"), "{err}");
        for bad in ["1", "12a", "", "+123", "12 3"] {
            let err = parse(OwnerKind::HuntGroup, bad).unwrap_err().to_string();
            assert!(err.starts_with("extension"), "{bad}: {err}");
        }
    }

    #[test]
    fn an_extension_is_free_for_its_own_owner_only() {
        let owner = ExtensionOwner {
            kind: OwnerKind::HuntGroup,
            id: 7,
            name: "Sales".into(),
        };
        let fresh = ExtensionUse {
            extension: "200".into(),
            owner: Some(owner),
        };
        assert!(free(Some((OwnerKind::HuntGroup, 7)))(&fresh).is_ok());
        let err = free(Some((OwnerKind::User, 7)))(&fresh)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("200 is already used by hunt group Sales"),
            "{err}"
        );
        assert!(free(None)(&fresh).is_err());
    }
}
