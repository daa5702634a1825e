//! `autoprov virtual-user`, `autoprov bridge` and `autoprov dialplan`: a tenant's virtual users,
//! Collaborate bridges, and the dial plan a PBX reads.

use autoprov::admin::{Admin, BridgeInput, VirtualUserInput};
use autoprov::model::{ListQuery, LIST_MAX};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

fn everything() -> ListQuery {
    ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    }
}

#[derive(Subcommand, Debug)]
pub(super) enum VirtualUserCmd {
    /// Add a virtual user: an extension that dials an external number
    Add(VirtualUserArgs),
    /// Replace a virtual user's name, number and extension
    Set(VirtualUserSetArgs),
    /// Delete a virtual user: the extension is free at once
    Remove(VirtualUserKey),
    /// List the tenant's virtual users
    List(TenantArg),
}

#[derive(Args, Debug)]
pub(super) struct VirtualUserArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// First name (at most 23 characters)
    #[arg(long)]
    first: String,
    /// Last name (at most 30 characters)
    #[arg(long)]
    last: String,
    /// The FULL external number called (E.164)
    #[arg(long)]
    number: String,
    /// 2 to 6 digits, nobody else's in the tenant
    #[arg(long)]
    extension: String,
}

#[derive(Args, Debug)]
pub(super) struct VirtualUserSetArgs {
    /// The virtual user's id, extension or "First Last"
    virtual_user: String,
    #[command(flatten)]
    to: VirtualUserArgs,
}

#[derive(Args, Debug)]
pub(super) struct VirtualUserKey {
    #[command(flatten)]
    tenant: TenantArg,
    /// The virtual user's id, extension or "First Last"
    virtual_user: String,
}

impl VirtualUserArgs {
    fn input(self) -> VirtualUserInput {
        VirtualUserInput {
            first_name: self.first,
            last_name: self.last,
            number: self.number,
            extension: self.extension,
        }
    }
}

pub(super) async fn virtual_user(
    admin: &Admin,
    out: &Output,
    cmd: VirtualUserCmd,
) -> anyhow::Result<()> {
    match cmd {
        VirtualUserCmd::Add(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let v = admin.virtual_user_add(tenant.id, &args.input()).await?;
            let human = format!(
                "virtual user {} added: {} dials {}",
                v.display_name(),
                v.extension,
                v.external
            );
            out.one(&v, human);
        }
        VirtualUserCmd::Set(args) => {
            let tenant = admin.tenant(&args.to.tenant.tenant).await?;
            let current = admin.virtual_user(tenant.id, &args.virtual_user).await?;
            let v = admin
                .virtual_user_replace(tenant.id, &current, &args.to.input())
                .await?;
            let human = format!(
                "virtual user {}: {} dials {}",
                v.display_name(),
                v.extension,
                v.external
            );
            out.one(&v, human);
        }
        VirtualUserCmd::Remove(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let current = admin.virtual_user(tenant.id, &args.virtual_user).await?;
            admin.virtual_user_delete(tenant.id, &current).await?;
            out.one(
                &current,
                format!("virtual user {} deleted", current.display_name()),
            );
        }
        VirtualUserCmd::List(args) => {
            let tenant = admin.tenant(&args.tenant).await?;
            let list = admin
                .virtual_user_page(tenant.id, &everything())
                .await?
                .items;
            out.list(&list, |v| {
                format!(
                    "{}\t{}\t{}\t{}",
                    v.id,
                    v.display_name(),
                    v.extension,
                    v.external
                )
            });
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub(super) enum BridgeCmd {
    /// Add a Collaborate bridge on one of the tenant's available numbers
    Add(BridgeArgs),
    /// Replace a bridge's name, number and extension (an extension left out is cleared)
    Set(BridgeSetArgs),
    /// Delete a bridge: its number is free at once
    Remove(BridgeKey),
    /// List the tenant's bridges
    List(TenantArg),
}

#[derive(Args, Debug)]
pub(super) struct BridgeArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The bridge's name, e.g. "Sales Team Collaborate Bridge"
    name: String,
    /// An available number of the tenant (E.164): it becomes the bridge's
    #[arg(long)]
    number: String,
    /// 2 to 8 digits, nobody else's in the tenant
    #[arg(long)]
    extension: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct BridgeSetArgs {
    /// The bridge's id or current name
    bridge: String,
    #[command(flatten)]
    to: BridgeArgs,
}

impl BridgeArgs {
    fn input(self) -> BridgeInput {
        BridgeInput {
            name: self.name,
            number: self.number,
            extension: self.extension,
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct BridgeKey {
    #[command(flatten)]
    tenant: TenantArg,
    /// The bridge's id or name
    bridge: String,
}

pub(super) async fn bridge(admin: &Admin, out: &Output, cmd: BridgeCmd) -> anyhow::Result<()> {
    match cmd {
        BridgeCmd::Add(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let b = admin.bridge_add(tenant.id, &args.input()).await?;
            out.one(&b, format!("bridge {} added on {}", b.name, b.number));
        }
        BridgeCmd::Set(args) => {
            let tenant = admin.tenant(&args.to.tenant.tenant).await?;
            let current = admin.bridge(tenant.id, &args.bridge).await?;
            let b = admin
                .bridge_set(tenant.id, &current, &args.to.input())
                .await?;
            out.one(&b, format!("bridge {} on {}", b.name, b.number));
        }
        BridgeCmd::Remove(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            let current = admin.bridge(tenant.id, &args.bridge).await?;
            admin.bridge_delete(tenant.id, &current).await?;
            out.one(&current, format!("bridge {} deleted", current.name));
        }
        BridgeCmd::List(args) => {
            let tenant = admin.tenant(&args.tenant).await?;
            let list = admin.bridge_page(tenant.id, &everything()).await?.items;
            out.list(&list, |b| format!("{}\t{}\t{}", b.id, b.name, b.number));
        }
    }
    Ok(())
}

pub(super) async fn dialplan(admin: &Admin, out: &Output, args: TenantArg) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant).await?;
    let plan = admin.dialplan(tenant.id).await?;
    let mut human = Vec::new();
    for e in plan.extensions.iter().chain(&plan.numbers) {
        let key = match (&e.extension, &e.number) {
            (Some(x), _) => x.clone(),
            (None, Some(n)) => n.to_string(),
            (None, None) => continue,
        };
        let owner = e.owner.as_ref().map_or("-".to_owned(), |o| o.to_string());
        let how = serde_json::to_value(&e.handling)
            .ok()
            .and_then(|v| v["handled_by"].as_str().map(str::to_owned))
            .unwrap_or_default();
        human.push(format!("{key}\t{owner}\t{how}"));
    }
    out.one(&plan, human.join("\n"));
    Ok(())
}
