//! `autoprov number`: phone numbers.

use autoprov::admin::{Admin, NumberInput};
use autoprov::model::{ListQuery, LIST_MAX};
use clap::Subcommand;

use super::{login_text, settings_patch, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum NumberCmd {
    /// Allocate a number to a tenant's site
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        /// E.164 number, e.g. +4930123456
        number: String,
        /// Site id or name [default: the tenant's first site]
        #[arg(long)]
        site: Option<String>,
        /// reserved, active or pending [default: reserved]
        #[arg(long)]
        status: Option<String>,
        /// The site's main number
        #[arg(long)]
        main: bool,
    },
    /// List a tenant's numbers at a site, as the portal does
    List {
        #[command(flatten)]
        tenant: TenantArg,
        /// Site id or name [default: the first alphabetically]; all for every site
        #[arg(long)]
        site: Option<String>,
        /// Text to find in the number or in "assigned to"
        #[arg(long)]
        search: Option<String>,
    },
    /// Change a number's status, e.g. activate a reserved number
    Status {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// reserved, active or pending
        status: String,
    },
    /// Assign an active number to a user without one
    Assign {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// The user (id, e-mail, number or "First Last")
        #[arg(long)]
        user: String,
    },
    /// Take a number back from its user
    Unassign {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
    },
    /// Set the two-part display name (leave both out to clear it)
    Label {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// First part of the label (empty: none)
        #[arg(long)]
        first: Option<String>,
        /// Last part of the label (empty: none)
        #[arg(long)]
        last: Option<String>,
    },
    /// Show or change call features: --set call_waiting=true --set forward_busy=+4930…
    Features {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// NAME=VALUE (JSON values; an empty value clears)
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Reset the PIN to the number's default PIN (and unlock it)
    ResetPin {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
    },
    /// Check a PIN (three wrong in a row lock it)
    VerifyPin {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// The PIN to check
        pin: String,
    },
    /// Log a number in to a handset by Phone ID or MAC; prints the login details once
    Login {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
        /// Phone ID or MAC
        #[arg(long)]
        handset: String,
        /// Add as a further line of a multi-account phone
        #[arg(long)]
        additional_line: bool,
    },
    /// Log a number out of its handset
    Logout {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
    },
    /// New login details for a number's line, printed once
    LoginDetails {
        #[command(flatten)]
        tenant: TenantArg,
        /// The number (id or E.164)
        number: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: NumberCmd) -> anyhow::Result<()> {
    let show = |n: &autoprov::model::Number, what: &str| {
        out.one(n, format!("{} {what}", n.e164));
    };
    match cmd {
        NumberCmd::Add {
            tenant,
            number,
            site,
            status,
            main,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = NumberInput {
                number,
                site,
                status,
                main,
            };
            let n = admin.number_add(tenant.id, &input).await?;
            out.one(&n, format!("number {} added ({})", n.e164, n.status));
        }
        NumberCmd::List {
            tenant,
            site,
            search,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let numbers = autoprov::admin::NumberQuery { site };
            let list = every_number(admin, tenant.id, &numbers, search).await?;
            out.list(&list, |v| {
                format!(
                    "{}\t{}\t{}\tPIN {}\t{}\t{}",
                    v.number.e164,
                    v.number.status,
                    v.extension.as_deref().unwrap_or("-"),
                    v.number.default_pin,
                    v.assigned_to.as_deref().unwrap_or("Unassigned"),
                    v.logged_in
                        .as_ref()
                        .map(|l| format!("logged in to {}", l.phone_id))
                        .unwrap_or_else(|| "N/A".into())
                )
            });
        }
        NumberCmd::Status {
            tenant,
            number,
            status,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let n = admin.number_set_status(t.id, &number, &status).await?;
            show(&n, &format!("is {}", n.status));
        }
        NumberCmd::Assign {
            tenant,
            number,
            user,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let u = admin.user(t.id, &user).await?;
            let n = admin.number_assign(t.id, &number, &u).await?;
            show(&n, &format!("assigned to {}", u.display_name()));
        }
        NumberCmd::Unassign { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let n = admin.number_unassign(t.id, &number).await?;
            show(&n, "unassigned");
        }
        NumberCmd::Label {
            tenant,
            number,
            first,
            last,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let n = admin
                .number_label(t.id, &number, first.as_deref(), last.as_deref())
                .await?;
            show(&n, &format!("labelled {:?}", n.label().unwrap_or_default()));
        }
        NumberCmd::Features {
            tenant,
            number,
            set,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let n = admin.number(t.id, &number).await?;
            let n = if set.is_empty() {
                n
            } else {
                admin
                    .number_features(t.id, &n, &settings_patch(&set)?)
                    .await?
            };
            out.one(
                &n.features,
                serde_json::to_string_pretty(&n.features).unwrap_or_default(),
            );
        }
        NumberCmd::ResetPin { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let n = admin.number_reset_pin(t.id, &number).await?;
            show(&n, &format!("PIN reset to its default {}", n.default_pin));
        }
        NumberCmd::VerifyPin {
            tenant,
            number,
            pin,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            admin.number_verify_pin(&number, &pin).await?;
            out.one(&serde_json::json!({ "pin": "ok" }), "PIN is right".into());
        }
        NumberCmd::Login {
            tenant,
            number,
            handset,
            additional_line,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let target = autoprov::admin::LoginTarget {
                handset,
                additional_line,
            };
            let d = admin.number_login(t.id, &number, &target).await?;
            out.one(&d, login_text(&d));
        }
        NumberCmd::Logout { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let n = admin.number_logout(t.id, &number).await?;
            show(&n, "logged out");
        }
        NumberCmd::LoginDetails { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(t.id, &number).await?;
            let d = admin.number_new_login_details(t.id, &number).await?;
            out.one(&d, login_text(&d));
        }
    }
    Ok(())
}

/// Every number the list names that matches `search`, a page at a time: the CLI prints whole
/// lists.
async fn every_number(
    admin: &Admin,
    tenant: autoprov::model::TenantId,
    numbers: &autoprov::admin::NumberQuery,
    search: Option<String>,
) -> anyhow::Result<Vec<autoprov::model::NumberView>> {
    let mut all = Vec::new();
    loop {
        let query = ListQuery {
            limit: Some(LIST_MAX),
            offset: Some(u32::try_from(all.len())?),
            q: search.clone(),
        };
        let page = admin.number_views(tenant, numbers, &query).await?;
        let end = page.items.is_empty() || all.len() + page.items.len() >= page.total as usize;
        all.extend(page.items);
        if end {
            return Ok(all);
        }
    }
}
