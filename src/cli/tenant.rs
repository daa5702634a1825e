//! `autoprov tenant`: tenants (organisations).

use autoprov::admin::Admin;
use clap::Subcommand;

use super::Output;

#[derive(Subcommand, Debug)]
pub(super) enum TenantCmd {
    /// Add a tenant
    Add {
        /// The tenant's name (unique)
        name: String,
    },
    /// List tenants
    List,
    /// Remove a tenant (refused while it has sites, numbers, users or devices)
    Remove {
        /// Tenant id or name
        tenant: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: TenantCmd) -> anyhow::Result<()> {
    match cmd {
        TenantCmd::Add { name } => {
            let t = admin.tenant_add(&name).await?;
            out.one(&t, format!("tenant {} added (id {})", t.name, t.id));
        }
        TenantCmd::List => {
            let list = admin.tenant_list().await?;
            out.list(&list, |t| format!("{}\t{}", t.id, t.name));
        }
        TenantCmd::Remove { tenant } => {
            admin.tenant_remove(&tenant).await?;
            out.one(
                &serde_json::json!({ "removed": tenant }),
                format!("tenant {tenant} removed"),
            );
        }
    }
    Ok(())
}
