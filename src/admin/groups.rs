//! Hunt groups and call centres (seeds 000, 001): a name, an optional number of the tenant's
//! (then the group's), an extension from the plan, a policy over ordered agents, no-answer
//! handling, an optional voicemail box; call centres add a queue and supervisors. Pending users
//! cannot be agents or supervisors (001); deactivated ones stay and are listed as such.

use super::extensions;
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_email, parse_label, parse_text, CallGroup, ForwardTo, HuntPolicy, ListQuery, Listed,
    NumberStatus, OwnerKind, Queue, TenantId, User, UserId, UserState, E164,
};
use crate::store::{ExtensionUse, GroupClaim, Membership, NewGroup, NumberUse};

/// Agents a group holds at most.
pub const MAX_AGENTS: usize = 200;

/// A hunt group or call centre as the API takes it (create and full replacement).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewGroup)]
pub struct GroupInput {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// An active, unassigned, non-main number of the tenant (E.164); it becomes the group's.
    pub number: Option<String>,
    /// 2 to 8 digits, nobody else's in the tenant.
    #[schema(min_length = 2, max_length = 8)]
    pub extension: Option<String>,
    /// `circular`, `regular` (default), `simultaneous`, `uniform` or `weighted`.
    pub policy: Option<String>,
    /// In the order calls try them; `weight` (a percentage) only with `weighted`.
    #[serde(default)]
    pub agents: Vec<AgentInput>,
    /// Rings before the next agent: 1 to 20 (default 3).
    #[schema(minimum = 1, maximum = 20)]
    pub skip_after_rings: Option<i64>,
    /// When nobody answers or nobody is available: an extension, an E.164 number, or `main`
    /// (the site's main number).
    pub forward_to: Option<String>,
    #[serde(default)]
    pub voicemail: bool,
    /// Voicemail messages are sent here (needs `voicemail`).
    pub voicemail_email: Option<String>,
    /// Call centres only.
    pub queue: Option<QueueInput>,
    /// Call centres only: users (id or name) who supervise it.
    #[serde(default)]
    pub supervisors: Vec<String>,
}

/// An agent: a user (id, e-mail, number or "First Last") and, for `weighted`, a percentage.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    pub user: String,
    #[schema(minimum = 1, maximum = 100)]
    pub weight: Option<i64>,
}

/// A call centre's queue.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueInput {
    /// Callers waiting at most: 1 to 100 (default 10).
    #[schema(minimum = 1, maximum = 100)]
    pub length: Option<i64>,
    /// Played to waiting callers: at most 200 characters.
    #[schema(max_length = 200)]
    pub announcement: Option<String>,
    /// Seconds a caller waits at most: 10 to 3600 (default 120).
    #[schema(minimum = 10, maximum = 3600)]
    pub max_wait_secs: Option<i64>,
}

impl Admin {
    /// Creates a group of `kind` (`HuntGroup` or `CallCentre`).
    pub async fn group_add(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        input: &GroupInput,
    ) -> Result<CallGroup> {
        let group = self.group_from_input(tenant, kind, input).await?;
        self.store
            .group_create(&group, |fresh| claimable(fresh, kind, None))
            .await
    }

    /// Replaces `current` with `input`, members too.
    pub async fn group_replace(
        &self,
        tenant: TenantId,
        current: &CallGroup,
        input: &GroupInput,
    ) -> Result<CallGroup> {
        let (kind, id) = (current.kind, current.id);
        let group = self.group_from_input(tenant, kind, input).await?;
        self.store
            .group_update(id, &group, |fresh| claimable(fresh, kind, Some(id)))
            .await
    }

    /// Deletes a group: its number and extension are free at once, its members stay users.
    pub async fn group_delete(&self, tenant: TenantId, group: &CallGroup) -> Result<()> {
        self.store.group_delete(tenant, group.kind, group.id).await
    }

    /// The group of `kind` that `key` (id or name) names.
    pub async fn group(&self, tenant: TenantId, kind: OwnerKind, key: &str) -> Result<CallGroup> {
        self.store.group_by_key(tenant, kind, key).await
    }

    pub async fn group_page(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        query: &ListQuery,
    ) -> Result<Listed<CallGroup>> {
        self.store.group_page(tenant, kind, query).await
    }

    /// The hunt groups and call centres `user` is an agent or supervisor of.
    pub async fn memberships(&self, tenant: TenantId, user: &User) -> Result<Vec<Membership>> {
        self.store.memberships(tenant, user.id).await
    }

    /// `input` checked into what the store writes (the rules that need the write's own reads
    /// are [`claimable`]'s).
    async fn group_from_input(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        input: &GroupInput,
    ) -> Result<NewGroup> {
        let name = parse_label("name", &input.name)?;
        let number = match input.number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(
                self.store
                    .number_by_e164(tenant, &n.parse::<E164>()?)
                    .await?,
            ),
        };
        let extension = match input.extension.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(extensions::parse(kind, e)?),
        };
        let policy: HuntPolicy = input.policy.as_deref().unwrap_or("regular").parse()?;
        let skip_after_rings = input.skip_after_rings.unwrap_or(3);
        if !(1..=20).contains(&skip_after_rings) {
            return Err(Error::invalid(
                "skip_after_rings",
                format!("{skip_after_rings} rings: skip to the next agent after 1 to 20 rings"),
            )
            .coded(
                "skip_after_rings",
                [("rings", skip_after_rings.to_string())],
            ));
        }
        let agents = self.agents(tenant, policy, &input.agents).await?;
        let (queue, supervisors) = self.call_centre_parts(tenant, kind, input).await?;
        let site = number.as_ref().map(|n| n.site_id);
        let forward_to = match input.forward_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(
                self.forward_target(tenant, f, site, extension.as_deref())
                    .await?,
            ),
        };
        let voicemail_email = voicemail_email(input)?;
        Ok(NewGroup {
            tenant_id: tenant,
            kind,
            name,
            number_id: number.map(|n| n.id),
            extension,
            policy,
            skip_after_rings,
            forward_to,
            voicemail: input.voicemail,
            voicemail_email,
            queue,
            agents,
            supervisors,
        })
    }

    /// The agents in order, each a user of the tenant once, with weights that fit the policy.
    async fn agents(
        &self,
        tenant: TenantId,
        policy: HuntPolicy,
        input: &[AgentInput],
    ) -> Result<Vec<(UserId, Option<i64>)>> {
        if input.len() > MAX_AGENTS {
            return Err(Error::invalid(
                "agents",
                format!("{} agents; a group has at most {MAX_AGENTS}", input.len()),
            )
            .coded(
                "agents_too_many",
                [
                    ("count", input.len().to_string()),
                    ("max", MAX_AGENTS.to_string()),
                ],
            ));
        }
        let mut agents: Vec<(UserId, Option<i64>)> = Vec::with_capacity(input.len());
        for a in input {
            let user = self.member(tenant, "agents", &a.user).await?;
            if agents.iter().any(|(u, _)| *u == user.id) {
                return Err(Error::invalid(
                    "agents",
                    format!("{} is listed twice", user.display_name()),
                )
                .coded("agent_twice", [("name", user.display_name())]));
            }
            agents.push((user.id, a.weight));
        }
        weights_fit(policy, &agents)?;
        Ok(agents)
    }

    /// A call centre's queue and supervisors; a hunt group has neither.
    async fn call_centre_parts(
        &self,
        tenant: TenantId,
        kind: OwnerKind,
        input: &GroupInput,
    ) -> Result<(Option<Queue>, Vec<UserId>)> {
        if kind != OwnerKind::CallCentre {
            if input.queue.is_some() || !input.supervisors.is_empty() {
                let field = if input.queue.is_some() {
                    "queue"
                } else {
                    "supervisors"
                };
                return Err(Error::invalid(
                    field,
                    "only a call centre has a queue and supervisors",
                )
                .coded("queue_only_call_centre", []));
            }
            return Ok((None, Vec::new()));
        }
        let q = input.queue.clone().unwrap_or_default();
        let length = q.length.unwrap_or(10);
        let max_wait_secs = q.max_wait_secs.unwrap_or(120);
        if !(1..=100).contains(&length) {
            return Err(Error::invalid(
                "queue.length",
                format!("{length} callers: a queue holds 1 to 100"),
            )
            .coded("queue_length", [("length", length.to_string())]));
        }
        if !(10..=3600).contains(&max_wait_secs) {
            return Err(Error::invalid(
                "queue.max_wait_secs",
                format!("{max_wait_secs} s: callers wait 10 to 3600 seconds at most"),
            )
            .coded("queue_max_wait", [("secs", max_wait_secs.to_string())]));
        }
        let announcement = match q.announcement.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(parse_text("queue.announcement", a, 200)?),
        };
        let mut supervisors = Vec::with_capacity(input.supervisors.len());
        for key in &input.supervisors {
            let user = self.member(tenant, "supervisors", key).await?;
            if !supervisors.contains(&user.id) {
                supervisors.push(user.id);
            }
        }
        let queue = Queue {
            length,
            announcement,
            max_wait_secs,
        };
        Ok((Some(queue), supervisors))
    }

    /// A user named in `field`: one of the tenant's (else a 422 naming the key).
    async fn member(&self, tenant: TenantId, field: &'static str, key: &str) -> Result<User> {
        self.user(tenant, key).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid(field, format!("{key:?} is not a user of this tenant"))
                    .coded("not_a_user", [("value", format!("{key:?}"))])
            }
            e => e,
        })
    }

    /// Where unanswered calls go: `main` (the main number of the group's number's site, else
    /// the default site's), an E.164 number (TKG §66k), or an extension (that someone else
    /// owns it is checked inside the write: [`forward_owned`]).
    async fn forward_target(
        &self,
        tenant: TenantId,
        text: &str,
        site: Option<crate::model::SiteId>,
        own_extension: Option<&str>,
    ) -> Result<ForwardTo> {
        const FIELD: &str = "forward_to";
        if text.eq_ignore_ascii_case("main") {
            let site = match site {
                Some(s) => self.store.site_get(tenant, s).await?,
                None => self.site(tenant, None).await?,
            };
            if !self.store.site_has_main_number(site.id).await? {
                return Err(Error::invalid(
                    FIELD,
                    format!("site {} has no main number to forward to", site.name),
                )
                .coded("forward_no_main", [("site", site.name.clone())]));
            }
            return Ok(ForwardTo::MainNumber);
        }
        if text.starts_with('+') {
            let number: E164 = text.parse().map_err(|_| {
                Error::invalid(FIELD, format!("{text:?} is not an E.164 number"))
                    .coded("not_e164", [("value", format!("{text:?}"))])
            })?;
            number.check_tkg_66k(FIELD)?;
            return Ok(ForwardTo::External { number });
        }
        let extension = extensions::parse(OwnerKind::User, text).map_err(|_| {
            Error::invalid(
                FIELD,
                format!("{text:?} is neither an extension, an E.164 number nor `main`"),
            )
            .coded("forward_target_invalid", [("value", format!("{text:?}"))])
        })?;
        // Whether somebody owns it is the write's rule (`forward_owned`), judged on what the
        // write's transaction reads; a new group's own extension has no owner yet.
        if own_extension == Some(extension.as_str()) {
            return Err(own_forward(&extension));
        }
        Ok(ForwardTo::Extension { extension })
    }
}

/// With `weighted`, every agent has a percentage (1–100) and they sum to 100; without, none has.
fn weights_fit(policy: HuntPolicy, agents: &[(UserId, Option<i64>)]) -> Result<()> {
    let weights: Vec<i64> = agents.iter().filter_map(|(_, w)| *w).collect();
    if policy != HuntPolicy::Weighted {
        return match weights.is_empty() {
            true => Ok(()),
            false => Err(Error::invalid(
                "agents",
                format!("weights are for the weighted policy, not {policy}"),
            )
            .coded("weights_not_weighted", [("policy", policy.to_string())])),
        };
    }
    if weights.len() != agents.len() || weights.iter().any(|w| !(1..=100).contains(w)) {
        return Err(Error::invalid(
            "agents",
            "the weighted policy needs a weight of 1 to 100 (percent) for every agent",
        )
        .coded("weights_needed", []));
    }
    let sum: i64 = weights.iter().sum();
    match sum {
        100 => Ok(()),
        _ => Err(Error::invalid(
            "agents",
            format!("the agents' weights sum to {sum}%; they must sum to 100%"),
        )
        .coded("weights_sum", [("sum", sum.to_string())])),
    }
}

fn voicemail_email(input: &GroupInput) -> Result<Option<String>> {
    match input.voicemail_email.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(_) if !input.voicemail => Err(Error::invalid(
            "voicemail_email",
            "messages are e-mailed from a voicemail box: turn voicemail on",
        )
        .coded("voicemail_email_needs_voicemail", [])),
        Some(e) => parse_email(e).map(Some).map_err(|_| {
            Error::invalid("voicemail_email", format!("{e:?} is not an e-mail address"))
                .coded("email_invalid", [("value", format!("{e:?}"))])
        }),
    }
}

/// The rules a group write checks on what it claims, as the write reads it: its number is an
/// active, non-main number nobody else has; its extension is free; no member is pending.
fn claimable(fresh: &GroupClaim, kind: OwnerKind, me: Option<i64>) -> Result<()> {
    let me = me.map(|id| (kind, id));
    if let Some(number) = &fresh.number {
        own_number(number, me, "a group's", "number")?;
    }
    if let Some(ext) = &fresh.extension {
        extensions::free(me)(ext)?;
    }
    if let Some(forward) = &fresh.forward {
        let keeps = fresh.extension.as_ref().map(|e| e.extension.as_str());
        forward_owned(forward, me, keeps)?;
    }
    for user in &fresh.members {
        if user.state == UserState::Pending {
            return Err(Error::conflict_on(
                "agents",
                format!(
                    "{} is pending: a pending user cannot join a hunt group or call centre until \
                 the operator activates them",
                    user.display_name()
                ),
            )
            .coded("agent_pending", [("name", user.display_name())]));
        }
    }
    Ok(())
}

/// A forwarding target's extension, as the write reads it: somebody in the tenant owns it,
/// and not the group itself (calls would go round in a circle). `keeps` is the extension the
/// write gives the group: one the group has now but gives up is nobody's after the write.
fn forward_owned(
    fresh: &ExtensionUse,
    me: Option<(OwnerKind, i64)>,
    keeps: Option<&str>,
) -> Result<()> {
    let nobody = || {
        Error::invalid(
            "forward_to",
            format!(
                "extension {} belongs to nobody in this tenant: forward to a user's, group's or \
                 bridge's extension, a number (E.164) or `main`",
                fresh.extension
            ),
        )
        .coded("forward_nobody", [("extension", fresh.extension.clone())])
    };
    match &fresh.owner {
        Some(o) if Some((o.kind, o.id)) == me => match keeps == Some(fresh.extension.as_str()) {
            true => Err(own_forward(&fresh.extension)),
            false => Err(nobody()),
        },
        Some(_) => Ok(()),
        None => Err(nobody()),
    }
}

fn own_forward(extension: &str) -> Error {
    Error::invalid(
        "forward_to",
        format!("{extension} is this group's own extension: calls would come back to it"),
    )
    .coded("forward_own", [("extension", extension.to_owned())])
}

/// A number `me` may own (as `what`: "a group's", "a bridge's", "an e-fax number"): one of
/// the tenant's available numbers — active, not its site's main number, nobody else's.
pub(super) fn own_number(
    fresh: &NumberUse,
    me: Option<(OwnerKind, i64)>,
    what: &str,
    field: &'static str,
) -> Result<()> {
    let e164 = &fresh.number.e164;
    if fresh.number.status != NumberStatus::Active {
        return Err(Error::conflict_on(
            field,
            format!(
                "{e164} is {}; only an active number can be {what}",
                fresh.number.status
            ),
        )
        .coded(
            "number_not_active",
            [
                ("number", e164.to_string()),
                ("status", fresh.number.status.as_str().to_owned()),
            ],
        ));
    }
    if fresh.number.is_main {
        return Err(Error::conflict_on(
            field,
            format!("{e164} is its site's main number and cannot be {what}"),
        )
        .coded("number_is_main_here", [("number", e164.to_string())]));
    }
    if let Some(holder) = &fresh.holder {
        return Err(Error::conflict_on(
            field,
            format!("{e164} is already assigned to {}", holder.display_name()),
        )
        .coded(
            "number_assigned",
            [
                ("number", e164.to_string()),
                ("name", holder.display_name()),
            ],
        ));
    }
    match &fresh.owner {
        Some(o) if Some((o.owner.kind, o.owner.id)) != me => {
            Err(
                Error::conflict_on(field, format!("{e164} is already the number of {o}")).coded(
                    "number_owned",
                    [
                        ("number", e164.to_string()),
                        ("kind", o.owner.kind.as_str().to_owned()),
                        ("name", o.owner.name.clone()),
                    ],
                ),
            )
        }
        _ => Ok(()),
    }
}
