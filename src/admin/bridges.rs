//! Collaborate bridges (seed 000): a name and one of the tenant's available numbers (then the
//! bridge's, nobody's line). MyRoom (the conference-room licence) needs a dial-in bridge, and an
//! e-fax licence comes with a fax number from the available numbers (000, 004).

use super::extensions;
use super::groups::own_number;
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_label, Bridge, LicenceKind, ListQuery, Listed, NumberId, OwnerKind, TenantId, User, E164,
};
use crate::store::{ExtensionUse, LicenceFacts, MyRoomFacts, NewBridge, NumberUse};

/// A new bridge as the API takes it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewBridge)]
pub struct BridgeInput {
    /// 1 to 64 characters, not all digits ("Sales Team Collaborate Bridge").
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// One of the tenant's available numbers (E.164): active, not a main number, nobody's.
    pub number: String,
    /// 2 to 8 digits, nobody else's in the tenant.
    #[schema(min_length = 2, max_length = 8)]
    pub extension: Option<String>,
}

impl Admin {
    pub async fn bridge_add(&self, tenant: TenantId, input: &BridgeInput) -> Result<Bridge> {
        let bridge = self.bridge_checked(tenant, input).await?;
        self.store
            .bridge_create(&bridge, |fresh| claimable(fresh, None))
            .await
    }

    /// Replaces `current` with `input` (every field: an extension left out is cleared), by the
    /// rules of [`Admin::bridge_add`]; the bridge's own number and extension stay its own.
    pub async fn bridge_set(
        &self,
        tenant: TenantId,
        current: &Bridge,
        input: &BridgeInput,
    ) -> Result<Bridge> {
        let bridge = self.bridge_checked(tenant, input).await?;
        let me = Some((OwnerKind::Bridge, current.id));
        self.store
            .bridge_update(current.id, &bridge, |fresh| claimable(fresh, me))
            .await
    }

    async fn bridge_checked(&self, tenant: TenantId, input: &BridgeInput) -> Result<NewBridge> {
        let name = parse_label("name", &input.name)?;
        let e164: E164 = input.number.trim().parse()?;
        let number = self.store.number_by_e164(tenant, &e164).await?;
        let extension = match input.extension.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(extensions::parse(OwnerKind::Bridge, e)?),
        };
        Ok(NewBridge {
            tenant_id: tenant,
            name,
            number_id: number.id,
            extension,
        })
    }

    /// Deletes a bridge; the tenant's last one stays while users hold MyRoom licences.
    pub async fn bridge_delete(&self, tenant: TenantId, bridge: &Bridge) -> Result<()> {
        self.store
            .bridge_delete(tenant, bridge.id, last_bridge_kept)
            .await
    }

    /// A bridge by id or name.
    pub async fn bridge(&self, tenant: TenantId, key: &str) -> Result<Bridge> {
        let key = key.trim();
        self.store
            .bridge_list(tenant)
            .await?
            .into_iter()
            .find(|b| b.id.to_string() == key || b.name == key)
            .ok_or_else(|| Error::not_found("bridge", key))
    }

    pub async fn bridge_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Bridge>> {
        self.store.bridge_page(tenant, query).await
    }

    /// The e-fax number a licence change gives `user` (none yet for a new user): the one
    /// `requested` (E.164), else theirs, else the first available; none without e-fax.
    pub(super) async fn fax_number(
        &self,
        tenant: TenantId,
        user: Option<&User>,
        kinds: &[LicenceKind],
        requested: Option<&str>,
    ) -> Result<Option<NumberId>> {
        let requested = requested.map(str::trim).filter(|r| !r.is_empty());
        if !kinds.contains(&LicenceKind::EFax) {
            return match requested {
                Some(_) => Err(Error::invalid(
                    "fax_number",
                    "a fax number comes with the e-fax licence: assign e-fax too",
                )
                .coded("fax_number_needs_efax", [])),
                None => Ok(None),
            };
        }
        if let Some(r) = requested {
            let e164: E164 = r.parse().map_err(|_| {
                Error::invalid("fax_number", format!("{r:?} is not an E.164 number"))
                    .coded("not_e164", [("value", format!("{r:?}"))])
            })?;
            return Ok(Some(self.store.number_by_e164(tenant, &e164).await?.id));
        }
        if user.is_some_and(|u| u.fax_number_id.is_some()) {
            return Ok(None);
        }
        match self.store.available_numbers(tenant).await?.first() {
            Some(n) => Ok(Some(n.id)),
            None => Err(Error::conflict(
                "the e-fax licence needs a fax number, and the tenant has no available number"
                    .to_owned(),
            )
            .coded("efax_no_number", [])),
        }
    }
}

/// The licence rules checked inside the write, on `facts` as it reads them: MyRoom needs a
/// dial-in bridge; an e-fax number is one of the available numbers (or the user's already).
pub(super) fn licences_fit(
    kinds: &[LicenceKind],
    user: Option<&User>,
    facts: &LicenceFacts,
) -> Result<()> {
    if kinds.contains(&LicenceKind::ConferenceRoom) && facts.myroom.bridges == 0 {
        return Err(Error::conflict(
            "MyRoom needs a dial-in number: the tenant has no Collaborate bridge; add one \
             (bridges) before assigning conference-room licences"
                .to_owned(),
        )
        .coded("myroom_needs_bridge", []));
    }
    if let Some(fax) = &facts.fax {
        own_number(
            fax,
            user.map(|u| (OwnerKind::User, u.id.0)),
            "an e-fax number",
            "fax_number",
        )?;
    }
    Ok(())
}

/// A bridge's number and extension as its write reads them: an available number, or `me`'s
/// own, and an extension nobody else has.
fn claimable(
    (number, ext): &(NumberUse, Option<ExtensionUse>),
    me: Option<(OwnerKind, i64)>,
) -> Result<()> {
    own_number(number, me, "a bridge's", "number")?;
    extensions::free_if(me)(ext)
}

/// The tenant's last bridge is MyRoom's dial-in while anyone holds a conference-room licence.
fn last_bridge_kept(facts: &MyRoomFacts) -> Result<()> {
    match (facts.bridges, facts.holders) {
        (1, n) if n > 0 => Err(Error::conflict(format!(
            "this is the tenant's only Collaborate bridge, the dial-in of MyRoom licences \
             (held: {n}): take those licences back first"
        ))
        .coded("last_bridge_myroom", [("held", n.to_string())])),
        _ => Ok(()),
    }
}
