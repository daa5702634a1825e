//! `autoprov pickup-group` and `autoprov park-group`: call pickup and call park groups.

use autoprov::admin::{Admin, ParkGroupInput, PickupGroupInput, SlotsInput};
use autoprov::model::{ListQuery, Member, LIST_MAX};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum PickupCmd {
    /// Add a call pickup group
    Add(PickupArgs),
    /// Replace a pickup group's name and members
    Set {
        /// The group (id or name)
        group: String,
        #[command(flatten)]
        args: PickupArgs,
    },
    /// Show a pickup group and its members
    Show(GroupKey),
    /// List the tenant's pickup groups
    List(TenantArg),
    /// Delete a pickup group
    Delete(GroupKey),
}

#[derive(Subcommand, Debug)]
pub(super) enum ParkCmd {
    /// Add a call park group
    Add(ParkArgs),
    /// Replace a park group's name, members and slots
    Set {
        /// The group (id or name)
        group: String,
        #[command(flatten)]
        args: ParkArgs,
    },
    /// Show a park group, its members and slots
    Show(GroupKey),
    /// List the tenant's park groups
    List(TenantArg),
    /// Delete a park group
    Delete(GroupKey),
}

#[derive(Args, Debug)]
pub(super) struct PickupArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The group's name (unique in the tenant)
    #[arg(long)]
    name: String,
    /// A member (id, e-mail, number or "First Last"); repeat for more
    #[arg(long = "member", value_name = "USER")]
    members: Vec<String>,
}

#[derive(Args, Debug)]
pub(super) struct ParkArgs {
    #[command(flatten)]
    pickup: PickupArgs,
    /// Park slots as a contiguous range of extensions, e.g. 800-809
    #[arg(long, value_name = "FROM-TO", conflicts_with = "slots")]
    slot_range: Option<String>,
    /// A park slot's extension; repeat for more
    #[arg(long = "slot", value_name = "EXTENSION")]
    slots: Vec<String>,
}

#[derive(Args, Debug)]
pub(super) struct GroupKey {
    #[command(flatten)]
    tenant: TenantArg,
    /// The group (id or name)
    group: String,
}

pub(super) async fn run_pickup(admin: &Admin, out: &Output, cmd: PickupCmd) -> anyhow::Result<()> {
    let tenant = match &cmd {
        PickupCmd::Add(a) | PickupCmd::Set { args: a, .. } => &a.tenant.tenant,
        PickupCmd::Show(k) | PickupCmd::Delete(k) => &k.tenant.tenant,
        PickupCmd::List(t) => &t.tenant,
    };
    let tenant = admin.tenant(tenant).await?.id;
    let input = |a: PickupArgs| PickupGroupInput {
        name: a.name,
        members: a.members,
    };
    let group = match cmd {
        PickupCmd::Add(a) => admin.pickup_group_add(tenant, &input(a)).await?,
        PickupCmd::Set { group, args } => {
            let group = admin.pickup_group(tenant, &group).await?;
            admin.pickup_group_set(tenant, &group, &input(args)).await?
        }
        PickupCmd::Show(k) => admin.pickup_group(tenant, &k.group).await?,
        PickupCmd::List(_) => {
            let all = admin.pickup_group_page(tenant, &everything()).await?;
            out.list(&all.items, |g| {
                format!("{}\t{}\t{}", g.id, g.name, names(&g.members))
            });
            return Ok(());
        }
        PickupCmd::Delete(k) => {
            let group = admin.pickup_group(tenant, &k.group).await?;
            admin.pickup_group_delete(tenant, &group).await?;
            out.one(&group, format!("pickup group {} deleted", group.name));
            return Ok(());
        }
    };
    out.one(
        &group,
        format!(
            "pickup group {} (id {}): {}",
            group.name,
            group.id,
            names(&group.members)
        ),
    );
    Ok(())
}

pub(super) async fn run_park(admin: &Admin, out: &Output, cmd: ParkCmd) -> anyhow::Result<()> {
    let tenant = match &cmd {
        ParkCmd::Add(a) | ParkCmd::Set { args: a, .. } => &a.pickup.tenant.tenant,
        ParkCmd::Show(k) | ParkCmd::Delete(k) => &k.tenant.tenant,
        ParkCmd::List(t) => &t.tenant,
    };
    let tenant = admin.tenant(tenant).await?.id;
    let group = match cmd {
        ParkCmd::Add(a) => admin.park_group_add(tenant, &park_input(a)?).await?,
        ParkCmd::Set { group, args } => {
            let group = admin.park_group(tenant, &group).await?;
            admin
                .park_group_set(tenant, &group, &park_input(args)?)
                .await?
        }
        ParkCmd::Show(k) => admin.park_group(tenant, &k.group).await?,
        ParkCmd::List(_) => {
            let all = admin.park_group_page(tenant, &everything()).await?;
            out.list(&all.items, |g| {
                format!(
                    "{}\t{}\t{}\t{}",
                    g.id,
                    g.name,
                    g.slots.join(","),
                    names(&g.members)
                )
            });
            return Ok(());
        }
        ParkCmd::Delete(k) => {
            let group = admin.park_group(tenant, &k.group).await?;
            admin.park_group_delete(tenant, &group).await?;
            out.one(&group, format!("park group {} deleted", group.name));
            return Ok(());
        }
    };
    out.one(
        &group,
        format!(
            "park group {} (id {}): slots {}; members {}",
            group.name,
            group.id,
            group.slots.join(", "),
            names(&group.members)
        ),
    );
    Ok(())
}

fn park_input(a: ParkArgs) -> anyhow::Result<ParkGroupInput> {
    let slots = match a.slot_range {
        Some(range) => {
            let (from, to) = range.split_once('-').ok_or_else(|| {
                anyhow::anyhow!("--slot-range {range:?}: give it as FROM-TO, e.g. 800-809")
            })?;
            SlotsInput::Range {
                from: from.into(),
                to: to.into(),
            }
        }
        None => SlotsInput::List(a.slots),
    };
    Ok(ParkGroupInput {
        name: a.pickup.name,
        members: a.pickup.members,
        slots,
    })
}

fn everything() -> ListQuery {
    ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    }
}

fn names(members: &[Member]) -> String {
    if members.is_empty() {
        return "no members".to_owned();
    }
    members
        .iter()
        .map(|m| format!("{} ({})", m.name, m.state))
        .collect::<Vec<_>>()
        .join(", ")
}
