//! `autoprov audit`: the audit trail of a tenant, newest first.

use autoprov::admin::Admin;
use clap::Args;

use super::{timestamp, Output, TenantArg};

#[derive(Args, Debug)]
pub(super) struct AuditArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Only entries by this actor, e.g. cli:alice or token:12
    #[arg(long)]
    actor: Option<String>,
    /// user, number, device, site, …
    #[arg(long)]
    entity: Option<String>,
    /// Only entries about the object with this id
    #[arg(long)]
    entity_id: Option<i64>,
    /// create, update, delete, login, …
    #[arg(long)]
    action: Option<String>,
    /// Most entries to show (1 to 500)
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Entries to skip, newest first
    #[arg(long, default_value_t = 0)]
    offset: i64,
}

pub(super) async fn run(admin: &Admin, out: &Output, args: AuditArgs) -> anyhow::Result<()> {
    let AuditArgs {
        tenant,
        actor,
        entity,
        entity_id,
        action,
        limit,
        offset,
    } = args;
    let tenant = admin.tenant(&tenant.tenant).await?;
    let filter = autoprov::store::AuditFilter {
        actor,
        entity,
        entity_id,
        action,
        since: None,
        until: None,
        platform_only: false,
        limit,
        offset,
    };
    let (entries, _) = admin.audit(Some(tenant.id), &filter).await?;
    out.list(&entries, |e| {
        format!(
            "{}\t{}\t{}\t{} {}\t{}",
            e.id,
            timestamp(e.at),
            e.actor.as_deref().unwrap_or("-"),
            e.entity,
            e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
            e.action
        )
    });
    Ok(())
}
