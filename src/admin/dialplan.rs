//! The PBX-facing view (issue 12): every extension and number of a tenant with what owns it and
//! how calls to it are handled. Derived on each request from the same store reads the API lists
//! come from (the extension plan, the number owners, groups, virtual users, bridges): no second
//! copy to fall out of step.

use std::collections::HashMap;

use serde::Serialize;

use super::Admin;
use crate::error::Result;
use crate::model::{
    CallGroup, ExtensionOwner, ForwardTo, HuntPolicy, Member, NumberId, NumberView, OwnerKind,
    Queue, SiteId, TenantId, User, UserState, E164,
};

/// The tenant's dial plan: what a PBX needs to route every internal and external call.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DialPlan {
    pub tenant_id: TenantId,
    /// Every extension, by extension.
    pub extensions: Vec<PlanEntry>,
    /// Every number of the tenant, by number; unowned ones are `unassigned`.
    pub numbers: Vec<PlanEntry>,
    /// Group night forwarding in force now (filled by the night-service work; `null` until
    /// then, or when it is off).
    #[schema(value_type = Option<Object>)]
    pub night_service: Option<serde_json::Value>,
}

/// One extension or number: its owner and how a call to it is handled.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PlanEntry {
    /// Set in `extensions`.
    pub extension: Option<String>,
    /// Set in `numbers`.
    #[schema(value_type = Option<String>)]
    pub number: Option<E164>,
    /// None for a site's main number and an unassigned number.
    pub owner: Option<ExtensionOwner>,
    pub handling: Handling,
}

/// How a call is handled, by `handled_by`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "handled_by", rename_all = "kebab-case")]
pub enum Handling {
    /// Rings the user's phones; a deactivated user's callers hear the announcement.
    User {
        state: UserState,
        #[schema(value_type = Option<String>)]
        number: Option<E164>,
        extension: Option<String>,
    },
    /// A hunt group or call centre: the agents in order under the policy.
    Group {
        kind: OwnerKind,
        policy: HuntPolicy,
        agents: Vec<Member>,
        skip_after_rings: i64,
        /// When nobody answers or nobody is available.
        no_answer: Option<Target>,
        voicemail: bool,
        voicemail_email: Option<String>,
        queue: Option<Queue>,
        supervisors: Vec<Member>,
    },
    /// Dials the external number.
    VirtualUser {
        #[schema(value_type = String)]
        dials: E164,
    },
    /// The dial-in of MyRoom conferences.
    Bridge {
        #[schema(value_type = String)]
        dial_in: E164,
    },
    /// A user's e-fax number.
    Fax { user_id: i64 },
    /// A site's main number.
    MainNumber { site_id: SiteId },
    /// Nobody's.
    Unassigned,
}

/// A forwarding target as a PBX dials it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Target {
    #[serde(flatten)]
    pub forward_to: ForwardTo,
    /// What to dial: the extension, or the number (the site's main number resolved).
    pub dials: Option<String>,
    /// Who owns the target extension.
    pub owner: Option<ExtensionOwner>,
}

/// What the plan is built from, read once.
struct Facts {
    users: HashMap<i64, User>,
    groups: HashMap<i64, CallGroup>,
    virtual_users: HashMap<i64, E164>,
    bridges: HashMap<i64, E164>,
    numbers: Vec<NumberView>,
    plan: Vec<(String, ExtensionOwner)>,
    /// The tenant's default site (the first by name).
    default_site: Option<SiteId>,
}

impl Admin {
    /// The tenant's dial plan, as of now.
    pub async fn dialplan(&self, tenant: TenantId) -> Result<DialPlan> {
        let s = &self.store;
        let facts = Facts {
            users: s
                .user_list(tenant)
                .await?
                .into_iter()
                .map(|u| (u.id.0, u))
                .collect(),
            groups: s
                .group_list(tenant)
                .await?
                .into_iter()
                .map(|g| (g.id, g))
                .collect(),
            virtual_users: (s.virtual_user_list(tenant).await?.into_iter())
                .map(|v| (v.id, v.external))
                .collect(),
            bridges: (s.bridge_list(tenant).await?.into_iter())
                .map(|b| (b.id, b.number))
                .collect(),
            numbers: s.number_views(tenant, None).await?,
            plan: s.extension_plan(tenant).await?,
            default_site: s.site_list(tenant).await?.first().map(|site| site.id),
        };
        let owners: HashMap<NumberId, _> = s.number_owners(tenant).await?.into_iter().collect();
        let extensions = (facts.plan.iter())
            .map(|(ext, owner)| PlanEntry {
                extension: Some(ext.clone()),
                number: None,
                owner: Some(owner.clone()),
                handling: facts.handling(owner),
            })
            .collect();
        let numbers = (facts.numbers.iter())
            .map(|n| {
                let owner = owners.get(&n.number.id);
                let handling = match owner {
                    Some(o) if o.role == "fax" => Handling::Fax {
                        user_id: o.owner.id,
                    },
                    Some(o) => facts.handling(&o.owner),
                    None if n.number.is_main => Handling::MainNumber {
                        site_id: n.number.site_id,
                    },
                    None => Handling::Unassigned,
                };
                PlanEntry {
                    extension: None,
                    number: Some(n.number.e164.clone()),
                    owner: owner.map(|o| o.owner.clone()),
                    handling,
                }
            })
            .collect();
        Ok(DialPlan {
            tenant_id: tenant,
            extensions,
            numbers,
            night_service: None,
        })
    }
}

impl Facts {
    fn handling(&self, owner: &ExtensionOwner) -> Handling {
        match owner.kind {
            OwnerKind::User => match self.users.get(&owner.id) {
                Some(u) => Handling::User {
                    state: u.state,
                    number: u.number.clone(),
                    extension: u.extension.clone(),
                },
                None => Handling::Unassigned,
            },
            OwnerKind::HuntGroup | OwnerKind::CallCentre => match self.groups.get(&owner.id) {
                Some(g) => self.group(g),
                None => Handling::Unassigned,
            },
            OwnerKind::VirtualUser => match self.virtual_users.get(&owner.id) {
                Some(n) => Handling::VirtualUser { dials: n.clone() },
                None => Handling::Unassigned,
            },
            OwnerKind::Bridge => match self.bridges.get(&owner.id) {
                Some(n) => Handling::Bridge { dial_in: n.clone() },
                None => Handling::Unassigned,
            },
        }
    }

    fn group(&self, g: &CallGroup) -> Handling {
        Handling::Group {
            kind: g.kind,
            policy: g.policy,
            agents: g.agents.clone(),
            skip_after_rings: g.skip_after_rings,
            no_answer: g.forward_to.as_ref().map(|f| self.target(g, f)),
            voicemail: g.voicemail,
            voicemail_email: g.voicemail_email.clone(),
            queue: g.queue.clone(),
            supervisors: g.supervisors.clone(),
        }
    }

    /// `forward_to` resolved: the owner of an extension, the main number of the group's site
    /// (its number's, else the tenant's default site, the first by name).
    fn target(&self, g: &CallGroup, forward_to: &ForwardTo) -> Target {
        let (dials, owner) = match forward_to {
            ForwardTo::Extension { extension } => (
                Some(extension.clone()),
                (self.plan.iter())
                    .find(|(e, _)| e == extension)
                    .map(|(_, o)| o.clone()),
            ),
            ForwardTo::External { number } => (Some(number.to_string()), None),
            ForwardTo::MainNumber => {
                let site = (self.numbers.iter())
                    .find(|n| Some(n.number.id) == g.number_id)
                    .map(|n| n.number.site_id)
                    .or(self.default_site);
                let main = (self.numbers.iter())
                    .find(|n| n.number.is_main && Some(n.number.site_id) == site);
                (main.map(|n| n.number.e164.to_string()), None)
            }
        };
        Target {
            forward_to: forward_to.clone(),
            dials,
            owner,
        }
    }
}
