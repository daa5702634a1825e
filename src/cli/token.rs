//! `autoprov token`: API tokens.

use autoprov::admin::Admin;
use clap::Subcommand;

use super::Output;

#[derive(Subcommand, Debug)]
pub(super) enum TokenCmd {
    /// Make a token; it is printed once and only its hash is kept
    Create {
        /// platform-admin, tenant-admin or user
        #[arg(long)]
        role: String,
        /// The tenant a tenant-admin or user token is bound to
        #[arg(long)]
        tenant: Option<String>,
        /// The user a user token is bound to
        #[arg(long)]
        user: Option<String>,
    },
    /// List tokens: ids, roles, bindings and dates, never a secret
    List {
        /// Only the tokens bound to this tenant (id or name)
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by its id
    Revoke {
        /// The id `token create` printed
        id: i64,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create { role, tenant, user } => {
            let role: autoprov::model::Role = role.parse()?;
            let tenant = match &tenant {
                Some(t) => Some(admin.tenant(t).await?),
                None => None,
            };
            let user = match (&tenant, &user) {
                (Some(t), Some(u)) => Some(admin.user(t.id, u).await?.id),
                (None, Some(_)) => anyhow::bail!("--user needs --tenant"),
                _ => None,
            };
            let (id, token) = admin
                .token_create(role, tenant.as_ref().map(|t| t.id), user)
                .await?;
            // The one place a secret is printed: the token is shown once, to its maker.
            out.one(
                &serde_json::json!({ "id": id, "role": role, "token": token.expose() }),
                format!(
                    "token {id} ({role}): {}\nkeep it now: it is not shown again",
                    token.expose()
                ),
            );
        }
        TokenCmd::List { tenant } => {
            let tenant = match &tenant {
                Some(t) => Some(admin.tenant(t).await?.id),
                None => None,
            };
            let list = admin.token_list(tenant).await?;
            out.list(&list, |t| {
                format!(
                    "{}\t{}\ttenant {}\tuser {}\t{}{}",
                    t.id,
                    t.role,
                    t.tenant_id.map_or("-".to_owned(), |x| x.to_string()),
                    t.user_id.map_or("-".to_owned(), |x| x.to_string()),
                    super::timestamp(t.created_at),
                    t.revoked_at.map_or(String::new(), |r| format!(
                        "\trevoked {}",
                        super::timestamp(r)
                    )),
                )
            });
        }
        TokenCmd::Revoke { id } => {
            admin.token_revoke(id).await?;
            out.one(
                &serde_json::json!({ "revoked": id }),
                format!("token {id} revoked"),
            );
        }
    }
    Ok(())
}
