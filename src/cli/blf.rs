//! `autoprov blf`: BLF permissions, who may be monitored by whom.

use autoprov::admin::Admin;
use clap::Subcommand;

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum BlfCmd {
    /// Allow a user to be monitored, by one user or (without --watcher) by anyone
    Grant {
        #[command(flatten)]
        tenant: TenantArg,
        /// The user to be monitored (id, e-mail, number or "First Last")
        #[arg(long)]
        watched: String,
        /// The one user who may monitor them [default: anyone]
        #[arg(long)]
        watcher: Option<String>,
    },
    /// Withdraw a grant (monitor-list entries it allowed go too)
    Revoke {
        #[command(flatten)]
        tenant: TenantArg,
        /// The grant's id (see `blf list`)
        id: i64,
    },
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: BlfCmd) -> anyhow::Result<()> {
    match cmd {
        BlfCmd::Grant {
            tenant,
            watched,
            watcher,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let watched = admin.user(t.id, &watched).await?;
            let watcher = match watcher {
                Some(w) => Some(admin.user(t.id, &w).await?),
                None => None,
            };
            let g = admin.blf_grant(t.id, &watched, watcher.as_ref()).await?;
            out.one(
                &g,
                format!(
                    "grant {}: {} may be monitored",
                    g.id,
                    watched.display_name()
                ),
            );
        }
        BlfCmd::Revoke { tenant, id } => {
            let t = admin.tenant(&tenant.tenant).await?;
            admin.blf_revoke(t.id, id).await?;
            out.one(
                &serde_json::json!({ "revoked": id }),
                format!("grant {id} revoked"),
            );
        }
        BlfCmd::List { tenant } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let list = admin.blf_grants(t.id).await?;
            out.list(&list, |g| {
                format!(
                    "{}\twatched {}\tby {}",
                    g.id,
                    g.watched,
                    g.watcher
                        .map(|w| w.to_string())
                        .unwrap_or_else(|| "anyone".into())
                )
            });
        }
    }
    Ok(())
}
