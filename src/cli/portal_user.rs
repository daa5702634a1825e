//! `autoprov portal-user`: web portal accounts (the first operator's, and resets).

use std::io::Read as _;

use autoprov::admin::Admin;
use autoprov::model::{Role, Secret};
use clap::Subcommand;

use super::Output;

#[derive(Subcommand, Debug)]
pub(super) enum PortalUserCmd {
    /// Make a portal account; a generated first password is printed once (or read from stdin)
    /// and must be changed at the first login
    Add {
        /// platform (the operator), tenant-admin or user
        #[arg(long)]
        role: String,
        /// The tenant a tenant-admin or user account belongs to (id or name)
        #[arg(long)]
        tenant: Option<String>,
        /// The user (id, e-mail or number) a user account logs in as
        #[arg(long)]
        user: Option<String>,
        /// Read the first password from standard input instead of generating one
        #[arg(long)]
        password_stdin: bool,
        /// The login name or e-mail the account logs in with
        login: String,
    },
    /// Give an account a new generated password (printed once; to be changed at the next
    /// login) and end its sessions
    ResetPassword {
        /// The account's login name or e-mail
        login: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: PortalUserCmd) -> anyhow::Result<()> {
    match cmd {
        PortalUserCmd::Add {
            role,
            tenant,
            user,
            password_stdin,
            login,
        } => {
            let role: Role = match role.as_str() {
                "platform" => Role::PlatformAdmin,
                other => other.parse()?,
            };
            let tenant = match &tenant {
                Some(t) => Some(admin.tenant(t).await?),
                None => None,
            };
            let user = match (&tenant, &user) {
                (Some(t), Some(u)) => Some(admin.user(t.id, u).await?.id),
                (None, Some(_)) => anyhow::bail!("--user needs --tenant"),
                _ => None,
            };
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_to_string(&mut line)?;
                Some(Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()))
            } else {
                None
            };
            let (id, shown) = admin
                .portal_account_add(&login, role, tenant.as_ref().map(|t| t.id), user, password)
                .await?;
            match shown {
                // The one place a password is printed: generated, shown once, to its maker.
                Some(p) => out.one(
                    &serde_json::json!({ "id": id, "login": login, "role": role, "password": p.expose() }),
                    format!(
                        "portal account {id} ({role}) {login}: first password {}\n\
                         keep it now: it is not shown again; it must be changed at the first login",
                        p.expose()
                    ),
                ),
                None => out.one(
                    &serde_json::json!({ "id": id, "login": login, "role": role }),
                    format!("portal account {id} ({role}) {login}: the password must be changed at the first login"),
                ),
            }
        }
        PortalUserCmd::ResetPassword { login } => {
            let p = admin.portal_password_reset(&login).await?;
            out.one(
                &serde_json::json!({ "login": login, "password": p.expose() }),
                format!(
                    "{login}: new password {}\nkeep it now: it is not shown again; it must be changed at the next login",
                    p.expose()
                ),
            );
        }
    }
    Ok(())
}
