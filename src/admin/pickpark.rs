//! Call pickup groups and call park groups (portal seed 001). Pending users may join both; a
//! user is in at most one pickup group; a park group's slots are extensions of the tenant's
//! extension plan (owner kind `park-slot`) that nothing else has. The rules are checked on what the write's transaction reads.

use std::collections::HashSet;

use super::extensions::{free, parse};
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{parse_label, ListQuery, Listed, ParkGroup, PickupGroup};
use crate::model::{OwnerKind, TenantId, UserId};
use crate::store::{GroupWrite, ParkCheck, PickupSeat};

/// The most slots one park group may have.
pub const PARK_SLOTS_MAX: usize = 100;

/// A pickup group as typed: its name and members (users by id, e-mail, number or name).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupGroupInput {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A park group as typed: name, members, and its park slots.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParkGroupInput {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub slots: SlotsInput,
}

/// Park slots: a contiguous range of extensions (`{"from": "800", "to": "809"}`) or a list.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SlotsInput {
    Range { from: String, to: String },
    List(Vec<String>),
}

impl Default for SlotsInput {
    fn default() -> Self {
        SlotsInput::List(Vec::new())
    }
}

impl SlotsInput {
    /// The slots' extensions, in order: each an extension, none twice, at most
    /// [`PARK_SLOTS_MAX`].
    pub fn extensions(&self) -> Result<Vec<String>> {
        let slots = match self {
            SlotsInput::List(list) => list
                .iter()
                .map(|s| parse(OwnerKind::ParkSlot, s).map_err(|_| bad_slot(s)))
                .collect::<Result<Vec<_>>>()?,
            SlotsInput::Range { from, to } => range(from, to)?,
        };
        let mut seen = HashSet::new();
        if let Some(twice) = slots.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(
                Error::invalid("slots", format!("extension {twice} is listed twice"))
                    .coded("slot_twice", [("extension", twice.clone())]),
            );
        }
        if slots.len() > PARK_SLOTS_MAX {
            return Err(Error::invalid(
                "slots",
                format!(
                    "{} slots; a park group has at most {PARK_SLOTS_MAX}",
                    slots.len()
                ),
            )
            .coded(
                "park_slots_too_many",
                [
                    ("count", slots.len().to_string()),
                    ("max", PARK_SLOTS_MAX.to_string()),
                ],
            ));
        }
        Ok(slots)
    }
}

fn bad_slot(text: &str) -> Error {
    Error::invalid(
        "slots",
        format!("{text:?} is not an extension (2 to 8 digits)"),
    )
    .coded("not_an_extension", [("value", format!("{text:?}"))])
}

/// `from` to `to`, both extensions of the same length, `to` not below `from`.
fn range(from: &str, to: &str) -> Result<Vec<String>> {
    let from = parse(OwnerKind::ParkSlot, from).map_err(|_| bad_slot(from))?;
    let to = parse(OwnerKind::ParkSlot, to).map_err(|_| bad_slot(to))?;
    if from.len() != to.len() {
        return Err(Error::invalid(
            "slots",
            format!("the range {from}-{to} must start and end with extensions of one length"),
        )
        .coded(
            "slot_range_lengths",
            [("from", from.to_string()), ("to", to.to_string())],
        ));
    }
    let (a, b): (u64, u64) = (from.parse().unwrap_or(0), to.parse().unwrap_or(0));
    if b < a {
        return Err(Error::invalid(
            "slots",
            format!("the range {from}-{to} ends before it starts"),
        )
        .coded(
            "slot_range_backwards",
            [("from", from.to_string()), ("to", to.to_string())],
        ));
    }
    if b - a >= PARK_SLOTS_MAX as u64 {
        return Err(Error::invalid(
            "slots",
            format!(
                "the range {from}-{to} has {} slots; a park group has at most {PARK_SLOTS_MAX}",
                b - a + 1
            ),
        )
        .coded(
            "slot_range_too_long",
            [
                ("from", from.to_string()),
                ("to", to.to_string()),
                ("count", (b - a + 1).to_string()),
                ("max", PARK_SLOTS_MAX.to_string()),
            ],
        ));
    }
    let width = from.len();
    Ok((a..=b).map(|n| format!("{n:0width$}")).collect())
}

impl Admin {
    pub async fn pickup_group_add(
        &self,
        tenant: TenantId,
        input: &PickupGroupInput,
    ) -> Result<PickupGroup> {
        self.pickup_group_write(tenant, None, input).await
    }

    /// Replaces a pickup group's name and members.
    pub async fn pickup_group_set(
        &self,
        tenant: TenantId,
        group: &PickupGroup,
        input: &PickupGroupInput,
    ) -> Result<PickupGroup> {
        self.pickup_group_write(tenant, Some(group.id), input).await
    }

    async fn pickup_group_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        input: &PickupGroupInput,
    ) -> Result<PickupGroup> {
        let name = parse_label("name", &input.name)?;
        let members = self.members(tenant, &input.members).await?;
        let write = GroupWrite {
            name: &name,
            members: &members,
            slots: &[],
        };
        self.store
            .pickup_group_write(tenant, id, &write, one_pickup_group)
            .await
    }

    pub async fn pickup_group_delete(&self, tenant: TenantId, group: &PickupGroup) -> Result<()> {
        self.store.pickup_group_delete(tenant, group.id).await
    }

    /// A pickup group by id or name.
    pub async fn pickup_group(&self, tenant: TenantId, key: &str) -> Result<PickupGroup> {
        let id = self.group_id(tenant, false, key).await?;
        self.store.pickup_group_get(tenant, id).await
    }

    pub async fn pickup_group_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<PickupGroup>> {
        self.store.pickup_group_page(tenant, query).await
    }

    pub async fn park_group_add(
        &self,
        tenant: TenantId,
        input: &ParkGroupInput,
    ) -> Result<ParkGroup> {
        self.park_group_write(tenant, None, input).await
    }

    /// Replaces a park group's name, members and slots.
    pub async fn park_group_set(
        &self,
        tenant: TenantId,
        group: &ParkGroup,
        input: &ParkGroupInput,
    ) -> Result<ParkGroup> {
        self.park_group_write(tenant, Some(group.id), input).await
    }

    async fn park_group_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        input: &ParkGroupInput,
    ) -> Result<ParkGroup> {
        let name = parse_label("name", &input.name)?;
        let slots = input.slots.extensions()?;
        let members = self.members(tenant, &input.members).await?;
        let write = GroupWrite {
            name: &name,
            members: &members,
            slots: &slots,
        };
        let me = id.map(|id| (OwnerKind::ParkSlot, id));
        self.store
            .park_group_write(tenant, id, &write, move |check: &ParkCheck| {
                check.slot_owners.iter().try_for_each(free(me))
            })
            .await
    }

    pub async fn park_group_delete(&self, tenant: TenantId, group: &ParkGroup) -> Result<()> {
        self.store.park_group_delete(tenant, group.id).await
    }

    /// A park group by id or name.
    pub async fn park_group(&self, tenant: TenantId, key: &str) -> Result<ParkGroup> {
        let id = self.group_id(tenant, true, key).await?;
        self.store.park_group_get(tenant, id).await
    }

    pub async fn park_group_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<ParkGroup>> {
        self.store.park_group_page(tenant, query).await
    }

    async fn group_id(&self, tenant: TenantId, park: bool, key: &str) -> Result<i64> {
        let what = if park { "park group" } else { "pickup group" };
        let key = key.trim();
        // Names are never all digits (`parse_label`): digits are an id.
        if let Some(id) = key.parse::<i64>().ok().filter(|_| !key.starts_with('+')) {
            return Ok(id);
        }
        self.store
            .group_id_by_name(tenant, park, key)
            .await?
            .ok_or_else(|| Error::not_found(what, key))
    }

    /// The users `keys` name, in order; one named twice is refused.
    async fn members(&self, tenant: TenantId, keys: &[String]) -> Result<Vec<UserId>> {
        let mut ids = Vec::new();
        for key in keys {
            let user = self.user(tenant, key).await.map_err(|e| match e {
                Error::NotFound { .. } => {
                    Error::invalid("members", format!("no user of this tenant is {key:?}"))
                        .coded("not_a_user", [("value", format!("{key:?}"))])
                }
                other => other,
            })?;
            if ids.contains(&user.id) {
                return Err(Error::invalid(
                    "members",
                    format!("{} is listed twice", user.display_name()),
                )
                .coded("agent_twice", [("name", user.display_name())]));
            }
            ids.push(user.id);
        }
        Ok(ids)
    }
}

/// A user is in at most one pickup group (pending users may join: seed 001).
fn one_pickup_group(seats: &[PickupSeat]) -> Result<()> {
    match seats.iter().find(|s| s.other_group.is_some()) {
        Some(seat) => Err(Error::conflict_on(
            "members",
            format!(
                "{} is already in pickup group {:?}; a user is in at most one pickup group",
                seat.user.display_name(),
                seat.other_group.as_deref().unwrap_or_default()
            ),
        )
        .coded(
            "pickup_group_one",
            [
                ("name", seat.user.display_name()),
                ("group", seat.other_group.clone().unwrap_or_default()),
            ],
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges_and_lists() {
        let range = |a: &str, b: &str| SlotsInput::Range {
            from: a.into(),
            to: b.into(),
        };
        assert_eq!(
            range("0800", "0802").extensions().unwrap(),
            ["0800", "0801", "0802"]
        );
        for (input, says) in [
            (range("80", "800"), "of one length"),
            (range("809", "800"), "ends before it starts"),
            (range("100", "999"), "at most 100"),
            (range("8x", "89"), "\"8x\" is not an extension"),
            (
                SlotsInput::List(vec!["801".into(), "801".into()]),
                "801 is listed twice",
            ),
        ] {
            let err = input.extensions().unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
    }
}
