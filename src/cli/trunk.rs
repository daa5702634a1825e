//! `autoprov trunk`: sites' trunks.

use autoprov::admin::Admin;
use clap::Subcommand;

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum TrunkCmd {
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        /// The site (id or name)
        #[arg(long)]
        site: String,
        /// The trunk's name (unique at the site)
        name: String,
    },
    List {
        #[command(flatten)]
        tenant: TenantArg,
        /// The site (id or name)
        #[arg(long)]
        site: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: TrunkCmd) -> anyhow::Result<()> {
    match cmd {
        TrunkCmd::Add { tenant, site, name } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let t = admin.trunk_add(tenant.id, &site, &name).await?;
            out.one(&t, format!("trunk {} added (id {})", t.name, t.id));
        }
        TrunkCmd::List { tenant, site } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.trunks(tenant.id, &site).await?;
            out.list(&list, |t| format!("{}\t{}", t.id, t.name));
        }
    }
    Ok(())
}
