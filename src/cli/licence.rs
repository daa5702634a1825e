//! `autoprov licence`: a tenant's licence pools.

use autoprov::admin::Admin;
use clap::Subcommand;

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum LicenceCmd {
    /// Pools: total, assigned, available
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Set a pool's size (app, conference-room, e-fax)
    Set {
        #[command(flatten)]
        tenant: TenantArg,
        /// app, conference-room or e-fax
        kind: String,
        /// How many licences the pool holds (0 to 100000)
        total: i64,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: LicenceCmd) -> anyhow::Result<()> {
    match cmd {
        LicenceCmd::List { tenant } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let pools = admin.licence_pools(tenant.id).await?;
            out.list(&pools, pool_line);
        }
        LicenceCmd::Set {
            tenant,
            kind,
            total,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let pools = admin.licence_pool_set(tenant.id, &kind, total).await?;
            out.list(&pools, pool_line);
        }
    }
    Ok(())
}

fn pool_line(p: &autoprov::store::LicencePool) -> String {
    format!(
        "{}\ttotal {}\tassigned {}\tavailable {}",
        p.kind, p.total, p.assigned, p.available
    )
}
