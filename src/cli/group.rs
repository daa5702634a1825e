//! `autoprov hunt-group` and `autoprov call-centre`: a tenant's hunt groups and call centres.

use autoprov::admin::{Admin, AgentInput, GroupInput, QueueInput};
use autoprov::model::{CallGroup, OwnerKind};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum GroupCmd {
    /// Add a group
    Add(GroupArgs),
    /// Replace a group's settings and members with these (what is not given is cleared)
    Set(SetArgs),
    /// Delete a group: its number and extension are free at once
    Remove(KeyArgs),
    /// Show a group with its members
    Show(KeyArgs),
    /// List the tenant's groups
    List(TenantArg),
}

#[derive(Args, Debug)]
pub(super) struct GroupArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The group's name (unique in the tenant)
    name: String,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Args, Debug)]
pub(super) struct SetArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The group's id or name
    group: String,
    /// A new name [default: the current one]
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Args, Debug)]
pub(super) struct KeyArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The group's id or name
    group: String,
}

#[derive(Args, Debug)]
pub(super) struct Settings {
    /// An active, unassigned number of the tenant (E.164): it becomes the group's
    #[arg(long)]
    number: Option<String>,
    /// 2 to 8 digits, nobody else's in the tenant
    #[arg(long)]
    extension: Option<String>,
    /// circular, regular, simultaneous, uniform or weighted [default: regular]
    #[arg(long)]
    policy: Option<String>,
    /// An agent (id or name), in call order; USER=PERCENT with --policy weighted; repeat
    #[arg(long = "agent", value_name = "USER[=PERCENT]")]
    agents: Vec<String>,
    /// Rings before the next agent, 1 to 20 [default: 3]
    #[arg(long)]
    skip_after_rings: Option<i64>,
    /// When nobody answers: an extension, an E.164 number, or main (the site's main number)
    #[arg(long)]
    forward_to: Option<String>,
    /// Give the group a voicemail box
    #[arg(long)]
    voicemail: bool,
    /// Where voicemail messages are e-mailed (needs --voicemail)
    #[arg(long)]
    voicemail_email: Option<String>,
    /// Call centres: callers waiting at most, 1 to 100 [default: 10]
    #[arg(long)]
    queue_length: Option<i64>,
    /// Call centres: the announcement waiting callers hear
    #[arg(long)]
    queue_announcement: Option<String>,
    /// Call centres: seconds a caller waits at most, 10 to 3600 [default: 120]
    #[arg(long)]
    max_wait_secs: Option<i64>,
    /// Call centres: a supervisor (id or name); repeat
    #[arg(long = "supervisor")]
    supervisors: Vec<String>,
}

impl Settings {
    fn input(self, kind: OwnerKind, name: String) -> GroupInput {
        let queue = (kind == OwnerKind::CallCentre
            || self.queue_length.is_some()
            || self.queue_announcement.is_some()
            || self.max_wait_secs.is_some())
        .then_some(QueueInput {
            length: self.queue_length,
            announcement: self.queue_announcement,
            max_wait_secs: self.max_wait_secs,
        });
        GroupInput {
            name,
            number: self.number,
            extension: self.extension,
            policy: self.policy,
            agents: self.agents.iter().map(|a| agent(a)).collect(),
            skip_after_rings: self.skip_after_rings,
            forward_to: self.forward_to,
            voicemail: self.voicemail,
            voicemail_email: self.voicemail_email,
            queue,
            supervisors: self.supervisors,
        }
    }
}

/// `USER` or `USER=PERCENT`.
fn agent(text: &str) -> AgentInput {
    match text.rsplit_once('=') {
        Some((user, w)) if w.trim().parse::<i64>().is_ok() => AgentInput {
            user: user.trim().to_owned(),
            weight: w.trim().parse().ok(),
        },
        _ => AgentInput {
            user: text.trim().to_owned(),
            weight: None,
        },
    }
}

pub(super) async fn run(
    admin: &Admin,
    out: &Output,
    kind: OwnerKind,
    cmd: GroupCmd,
) -> anyhow::Result<()> {
    match cmd {
        GroupCmd::Add(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let input = args.settings.input(kind, args.name);
            let g = admin.group_add(tenant.id, kind, &input).await?;
            out.one(&g, format!("{kind} {} added (id {})", g.name, g.id));
        }
        GroupCmd::Set(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let current = admin.group(tenant.id, kind, &args.group).await?;
            let name = args.name.unwrap_or_else(|| current.name.clone());
            let input = args.settings.input(kind, name);
            let g = admin.group_replace(tenant.id, &current, &input).await?;
            out.one(&g, describe(&g));
        }
        GroupCmd::Remove(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let current = admin.group(tenant.id, kind, &args.group).await?;
            admin.group_delete(tenant.id, &current).await?;
            out.one(&current, format!("{kind} {} deleted", current.name));
        }
        GroupCmd::Show(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let g = admin.group(tenant.id, kind, &args.group).await?;
            out.one(&g, describe(&g));
        }
        GroupCmd::List(args) => {
            let tenant = admin.tenant(&args.tenant).await?;
            let query = autoprov::model::ListQuery {
                limit: Some(autoprov::model::LIST_MAX),
                ..Default::default()
            };
            let list = admin.group_page(tenant.id, kind, &query).await?.items;
            out.list(&list, |g| {
                format!(
                    "{}\t{}\t{}\t{}\t{} agents",
                    g.id,
                    g.name,
                    g.extension.as_deref().unwrap_or("-"),
                    g.number.as_ref().map_or("-".to_owned(), |n| n.to_string()),
                    g.agents.len()
                )
            });
        }
    }
    Ok(())
}

/// A group and its members, one per line with their state.
fn describe(g: &CallGroup) -> String {
    let mut text = format!(
        "{} {} (id {}): extension {}, number {}, policy {}, next agent after {} rings",
        g.kind,
        g.name,
        g.id,
        g.extension.as_deref().unwrap_or("-"),
        g.number.as_ref().map_or("-".to_owned(), |n| n.to_string()),
        g.policy,
        g.skip_after_rings
    );
    for (role, members) in [("agent", &g.agents), ("supervisor", &g.supervisors)] {
        for m in members {
            let weight = m.weight.map_or(String::new(), |w| format!(" {w}%"));
            text.push_str(&format!("\n  {role} {} ({}){weight}", m.name, m.state));
        }
    }
    text
}
