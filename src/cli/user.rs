//! `autoprov user`: users.

use anyhow::Context as _;
use autoprov::admin::{Admin, UserInput, UserUpdate};
use clap::Subcommand;

use super::{settings_patch, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum UserCmd {
    /// Add a user (created pending)
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        /// First name (at most 23 characters)
        #[arg(long)]
        first: String,
        /// Last name (at most 30 characters)
        #[arg(long)]
        last: String,
        /// E-mail address
        #[arg(long)]
        email: Option<String>,
        /// An active number of the tenant
        #[arg(long)]
        number: Option<String>,
        /// [default: the last four digits of the number]
        #[arg(long)]
        extension: Option<String>,
        /// Mobile number for mobile integration (E.164)
        #[arg(long)]
        mobile: Option<String>,
        /// Contract number of the mobile integration
        #[arg(long)]
        contract: Option<String>,
        /// app, conference-room or e-fax (repeat for more)
        #[arg(long = "licence")]
        licences: Vec<String>,
        /// Preferred trunk, when the number's site has several
        #[arg(long)]
        trunk: Option<String>,
    },
    /// Change a user's profile
    Update {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// First name (at most 23 characters)
        #[arg(long)]
        first: Option<String>,
        /// Last name (at most 30 characters)
        #[arg(long)]
        last: Option<String>,
        /// E-mail address (an empty value clears it)
        #[arg(long)]
        email: Option<String>,
        /// Extension (an empty value clears it)
        #[arg(long)]
        extension: Option<String>,
        /// Mobile number for mobile integration (E.164; an empty value clears it)
        #[arg(long)]
        mobile: Option<String>,
        /// Contract number of the mobile integration (an empty value clears it)
        #[arg(long)]
        contract: Option<String>,
        /// App registration e-mail (fixed once the user registered)
        #[arg(long)]
        app_email: Option<String>,
        /// Preferred trunk (id or name; an empty value clears it)
        #[arg(long)]
        trunk: Option<String>,
        /// PBX option NAME=VALUE (JSON values), e.g. cti_access=true (repeat for more)
        #[arg(long = "option", value_name = "NAME=VALUE")]
        options: Vec<String>,
    },
    /// Record that the user registered for the app, with their login name
    AppRegistered {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// The login name the app platform reported
        #[arg(long)]
        login: String,
    },
    /// Show or set the licences a user holds
    Licences {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// Exactly these licences (repeat); --set none for none
        #[arg(long = "set")]
        set: Vec<String>,
    },
    /// New desk-phone passwords for several users (all with a logged-in number if none named)
    DevicePasswords {
        #[command(flatten)]
        tenant: TenantArg,
        /// Users (repeat)
        #[arg(long = "user")]
        users: Vec<String>,
        /// One password for all, instead of a random one per line
        #[arg(long)]
        password: Option<String>,
        /// Write the result as CSV to this file
        #[arg(long)]
        csv: Option<std::path::PathBuf>,
    },
    /// Activate a pending, failed or deactivated user
    Activate {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
    },
    /// List a tenant's users
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Mark a pending user as failed (the operator could not activate them)
    Fail {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
    },
    /// Deactivate an active user; callers hear an announcement and can be transferred
    Deactivate {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// What callers hear
        #[arg(long)]
        announcement: Option<String>,
        /// The number callers are transferred to
        #[arg(long)]
        transfer: Option<String>,
        /// announced or key-press [default: announced]
        #[arg(long)]
        transfer_mode: Option<String>,
    },
    /// Delete an active or deactivated user: the number is free at once and logged out
    Delete {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
    },
    /// Show or replace a user's speed dials (keys after the BLF keys)
    SpeedDials {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// LABEL=NUMBER, in key order; replaces the list (repeat for more)
        #[arg(long = "set", value_name = "LABEL=NUMBER")]
        set: Vec<String>,
        /// Remove all speed dials
        #[arg(long)]
        clear: bool,
    },
    /// Show or change a user's monitor list (the BLF keys on their phone)
    Monitor {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        /// A user to add to the list
        #[arg(long)]
        add: Option<String>,
        /// A user to take off the list
        #[arg(long)]
        remove: Option<String>,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add {
            tenant,
            first,
            last,
            email,
            number,
            extension,
            mobile,
            contract,
            licences,
            trunk,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = UserInput {
                first_name: first,
                last_name: last,
                email,
                number,
                extension,
                mobile,
                contract_number: contract,
                licences,
                trunk,
            };
            let u = admin.user_add(tenant.id, &input).await?;
            out.one(
                &u,
                format!("user {} added (id {}, {})", u.display_name(), u.id, u.state),
            );
        }
        UserCmd::Update {
            tenant,
            user,
            first,
            last,
            email,
            extension,
            mobile,
            contract,
            app_email,
            trunk,
            options,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let input = UserUpdate {
                first_name: first,
                last_name: last,
                email,
                extension,
                mobile,
                contract_number: contract,
                app_email,
                trunk,
                options: if options.is_empty() {
                    None
                } else {
                    Some(settings_patch(&options)?)
                },
            };
            let u = admin.user_update(tenant.id, &user, &input).await?;
            out.one(
                &u,
                format!("user {} updated (id {})", u.display_name(), u.id),
            );
        }
        UserCmd::AppRegistered {
            tenant,
            user,
            login,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin
                .user_app_registered(tenant.id, user.id, &login)
                .await?;
            out.one(
                &u,
                format!("user {} registered as {login}", u.display_name()),
            );
        }
        UserCmd::Licences { tenant, user, set } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let held = if set.is_empty() {
                admin.user_licences(tenant.id, user.id).await?
            } else {
                let kinds: Vec<String> = set.into_iter().filter(|k| k != "none").collect();
                admin.user_licences_set(tenant.id, user.id, &kinds).await?
            };
            out.list(&held, |k| k.to_string());
        }
        UserCmd::DevicePasswords {
            tenant,
            users,
            password,
            csv,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            // None named: every user with a number (the rule is the admin's).
            let named = (!users.is_empty()).then_some(&users[..]);
            let rows = admin
                .users_device_passwords(tenant.id, named, password.as_deref())
                .await?;
            if let Some(path) = csv {
                let text = autoprov::admin::login_details_csv(&rows)?;
                // Passwords: readable by the operator only.
                use std::io::Write as _;
                use std::os::unix::fs::OpenOptionsExt as _;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&path)
                    .and_then(|mut f| {
                        // An existing file keeps its mode on open: narrow it before a byte
                        // of the passwords goes in.
                        use std::os::unix::fs::PermissionsExt as _;
                        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                        f.write_all(text.as_bytes())
                    })
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            // Login details are shown once, to the admin who made them.
            let details: Vec<_> = rows.iter().map(|r| r.details.clone()).collect();
            out.list(&details, |d| {
                format!(
                    "{}\t{}\t{}\t{}",
                    d.number, d.phone_id, d.sip_user, d.sip_password
                )
            });
        }
        UserCmd::Activate { tenant, user } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin.user_activate(tenant.id, user.id).await?;
            out.one(&u, format!("user {} is {}", u.display_name(), u.state));
        }
        UserCmd::List { tenant } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.user_list(tenant.id).await?;
            out.list(&list, |u| {
                format!(
                    "{}\t{}\t{}\t{}",
                    u.id,
                    u.display_name(),
                    u.state,
                    u.number.as_ref().map(|n| n.to_string()).unwrap_or_default()
                )
            });
        }
        UserCmd::Fail { tenant, user } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin.user_fail(tenant.id, user.id).await?;
            out.one(&u, format!("user {} is {}", u.display_name(), u.state));
        }
        UserCmd::Deactivate {
            tenant,
            user,
            announcement,
            transfer,
            transfer_mode,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin
                .user_deactivate(
                    tenant.id,
                    user.id,
                    announcement.as_deref(),
                    transfer.as_deref(),
                    transfer_mode.as_deref(),
                )
                .await?;
            out.one(&u, format!("user {} is {}", u.display_name(), u.state));
        }
        UserCmd::Delete { tenant, user } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            admin.user_delete(tenant.id, user.id).await?;
            out.one(
                &serde_json::json!({ "deleted": user.id }),
                format!("user {} deleted; their number is free", user.display_name()),
            );
        }
        UserCmd::SpeedDials {
            tenant,
            user,
            set,
            clear,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            if clear || !set.is_empty() {
                let mut dials = Vec::new();
                for item in &set {
                    let (label, target) = item
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("--set {item:?}: write LABEL=NUMBER"))?;
                    dials.push((label.to_owned(), target.to_owned()));
                }
                admin.speed_dials_set(tenant.id, user.id, &dials).await?;
            }
            let list = admin.speed_dials(tenant.id, user.id).await?;
            out.list(&list, |(label, target)| format!("{label}\t{target}"));
        }
        UserCmd::Monitor {
            tenant,
            user,
            add,
            remove,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            if let Some(other) = add {
                let other = admin.user(tenant.id, &other).await?;
                admin.monitor_add(tenant.id, user.id, other.id).await?;
            }
            if let Some(other) = remove {
                let other = admin.user(tenant.id, &other).await?;
                admin.monitor_remove(tenant.id, user.id, other.id).await?;
            }
            let list = admin.monitor_list(tenant.id, user.id).await?;
            out.list(&list, |u| {
                format!(
                    "{}\t{}\t{}",
                    u.id,
                    u.display_name(),
                    u.extension.clone().unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}
