//! `autoprov user`: users.

use anyhow::Context as _;
use autoprov::admin::{Admin, UserInput, UserUpdate};
use autoprov::model::{Tenant, User};
use clap::{Args, Subcommand};

use super::{settings_patch, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum UserCmd {
    /// Add a user (created pending)
    Add(AddArgs),
    /// Change a user's profile
    Update(UpdateArgs),
    /// Record that the user registered for the app, with their login name
    AppRegistered(AppRegisteredArgs),
    /// Show or set the licences a user holds
    Licences(LicencesArgs),
    /// New desk-phone passwords for several users (all with a logged-in number if none named)
    DevicePasswords(DevicePasswordsArgs),
    /// Activate a pending, failed or deactivated user
    Activate(UserArg),
    /// List a tenant's users
    List(TenantArg),
    /// Mark a pending user as failed (the operator could not activate them)
    Fail(UserArg),
    /// Deactivate an active user; callers hear an announcement and can be transferred
    Deactivate(DeactivateArgs),
    /// Delete an active or deactivated user: the number is free at once and logged out
    Delete(UserArg),
    /// Show or replace a user's speed dials (keys after the BLF keys)
    SpeedDials(SpeedDialsArgs),
    /// Show or change a user's monitor list (the BLF keys on their phone)
    Monitor(MonitorArgs),
}

// The argument structs carry no doc comment: clap would take it for the subcommand's about.

#[derive(Args, Debug)]
pub(super) struct UserArg {
    #[command(flatten)]
    tenant: TenantArg,
    /// User id, e-mail, number or "First Last"
    user: String,
}

impl UserArg {
    /// The tenant and its user that the arguments name.
    async fn resolve(&self, admin: &Admin) -> anyhow::Result<(Tenant, User)> {
        let tenant = admin.tenant(&self.tenant.tenant).await?;
        let user = admin.user(tenant.id, &self.user).await?;
        Ok((tenant, user))
    }
}

#[derive(Args, Debug)]
pub(super) struct AddArgs {
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
    /// With --licence e-fax: the fax number (E.164; default the first available number)
    #[arg(long)]
    fax_number: Option<String>,
    /// Desk phone: a handset (Phone ID or MAC) of the number's site nobody is logged in to
    #[arg(long)]
    handset: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct UpdateArgs {
    #[command(flatten)]
    user: UserArg,
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
}

#[derive(Args, Debug)]
pub(super) struct AppRegisteredArgs {
    #[command(flatten)]
    user: UserArg,
    /// The login name the app platform reported
    #[arg(long)]
    login: String,
}

#[derive(Args, Debug)]
pub(super) struct LicencesArgs {
    #[command(flatten)]
    user: UserArg,
    /// Exactly these licences (repeat); --set none for none
    #[arg(long = "set")]
    set: Vec<String>,
    /// With e-fax: the fax number (E.164; default the first available number)
    #[arg(long)]
    fax_number: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct DevicePasswordsArgs {
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
}

#[derive(Args, Debug)]
pub(super) struct DeactivateArgs {
    #[command(flatten)]
    user: UserArg,
    /// What callers hear
    #[arg(long)]
    announcement: Option<String>,
    /// The number callers are transferred to
    #[arg(long)]
    transfer: Option<String>,
    /// announced or key-press [default: announced]
    #[arg(long)]
    transfer_mode: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct SpeedDialsArgs {
    #[command(flatten)]
    user: UserArg,
    /// LABEL=NUMBER, in key order; replaces the list (repeat for more)
    #[arg(long = "set", value_name = "LABEL=NUMBER")]
    set: Vec<String>,
    /// Remove all speed dials
    #[arg(long)]
    clear: bool,
}

#[derive(Args, Debug)]
pub(super) struct MonitorArgs {
    #[command(flatten)]
    user: UserArg,
    /// A user to add to the list
    #[arg(long)]
    add: Option<String>,
    /// A user to take off the list
    #[arg(long)]
    remove: Option<String>,
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add(args) => add(admin, out, args).await,
        UserCmd::Update(args) => update(admin, out, args).await,
        UserCmd::AppRegistered(args) => app_registered(admin, out, args).await,
        UserCmd::Licences(args) => licences(admin, out, args).await,
        UserCmd::DevicePasswords(args) => device_passwords(admin, out, args).await,
        UserCmd::Activate(args) => activate(admin, out, args).await,
        UserCmd::List(args) => list(admin, out, args).await,
        UserCmd::Fail(args) => fail(admin, out, args).await,
        UserCmd::Deactivate(args) => deactivate(admin, out, args).await,
        UserCmd::Delete(args) => delete(admin, out, args).await,
        UserCmd::SpeedDials(args) => speed_dials(admin, out, args).await,
        UserCmd::Monitor(args) => monitor(admin, out, args).await,
    }
}

async fn add(admin: &Admin, out: &Output, args: AddArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let input = UserInput {
        first_name: args.first,
        last_name: args.last,
        email: args.email,
        number: args.number,
        extension: args.extension,
        mobile: args.mobile,
        contract_number: args.contract,
        licences: args.licences,
        trunk: args.trunk,
        fax_number: args.fax_number,
        handset: args.handset,
    };
    let added = admin.user_add_with_desk_phone(tenant.id, &input).await?;
    let u = &added.user;
    let mut text = format!("user {} added (id {}, {})", u.display_name(), u.id, u.state);
    if let Some(d) = &added.desk_phone {
        text.push('\n');
        text.push_str(&super::number::login_text(d));
    }
    out.one(&added, text);
    Ok(())
}

async fn update(admin: &Admin, out: &Output, args: UpdateArgs) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    let input = UserUpdate {
        first_name: args.first,
        last_name: args.last,
        email: args.email,
        extension: args.extension,
        mobile: args.mobile,
        contract_number: args.contract,
        app_email: args.app_email,
        trunk: args.trunk,
        options: if args.options.is_empty() {
            None
        } else {
            Some(settings_patch(&args.options)?)
        },
    };
    let u = admin.user_update(tenant.id, &user, &input).await?;
    out.one(
        &u,
        format!("user {} updated (id {})", u.display_name(), u.id),
    );
    Ok(())
}

async fn app_registered(
    admin: &Admin,
    out: &Output,
    args: AppRegisteredArgs,
) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    let login = args.login;
    let u = admin.user_app_registered(tenant.id, &user, &login).await?;
    out.one(
        &u,
        format!("user {} registered as {login}", u.display_name()),
    );
    Ok(())
}

async fn licences(admin: &Admin, out: &Output, args: LicencesArgs) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    let held = if args.set.is_empty() {
        admin.user_licences(tenant.id, &user).await?
    } else {
        let kinds: Vec<String> = args.set.into_iter().filter(|k| k != "none").collect();
        let fax = args.fax_number.as_deref();
        admin
            .user_licences_set(tenant.id, &user, &kinds, fax)
            .await?
    };
    out.list(&held, |k| k.to_string());
    Ok(())
}

async fn device_passwords(
    admin: &Admin,
    out: &Output,
    args: DevicePasswordsArgs,
) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    // None named: every user with a number (the rule is the admin's).
    let named = (!args.users.is_empty()).then_some(&args.users[..]);
    let rows = admin
        .users_device_passwords(tenant.id, named, args.password.as_deref())
        .await?;
    if let Some(path) = args.csv {
        let text = autoprov::admin::login_details_csv(&rows)?;
        write_private(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    // Login details are shown once, to the admin who made them.
    let details: Vec<_> = rows.iter().map(|r| r.details.clone()).collect();
    out.list(&details, |d| {
        format!(
            "{}\t{}\t{}\t{}",
            d.number, d.phone_id, d.sip_user, d.sip_password
        )
    });
    Ok(())
}

/// Writes `text` (passwords) to a file that only the operator can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode on open: narrow it before a byte of the passwords goes in.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

async fn activate(admin: &Admin, out: &Output, args: UserArg) -> anyhow::Result<()> {
    let (tenant, user) = args.resolve(admin).await?;
    let u = admin.user_activate(tenant.id, &user).await?;
    show_state(out, &u);
    Ok(())
}

async fn list(admin: &Admin, out: &Output, args: TenantArg) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant).await?;
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
    Ok(())
}

async fn fail(admin: &Admin, out: &Output, args: UserArg) -> anyhow::Result<()> {
    let (tenant, user) = args.resolve(admin).await?;
    let u = admin.user_fail(tenant.id, &user).await?;
    show_state(out, &u);
    Ok(())
}

async fn deactivate(admin: &Admin, out: &Output, args: DeactivateArgs) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    let u = admin
        .user_deactivate(
            tenant.id,
            &user,
            args.announcement.as_deref(),
            args.transfer.as_deref(),
            args.transfer_mode.as_deref(),
        )
        .await?;
    show_state(out, &u);
    Ok(())
}

/// The user and the state they are in now.
fn show_state(out: &Output, u: &User) {
    out.one(u, format!("user {} is {}", u.display_name(), u.state));
}

async fn delete(admin: &Admin, out: &Output, args: UserArg) -> anyhow::Result<()> {
    let (tenant, user) = args.resolve(admin).await?;
    admin.user_delete(tenant.id, &user).await?;
    out.one(
        &serde_json::json!({ "deleted": user.id }),
        format!("user {} deleted; their number is free", user.display_name()),
    );
    Ok(())
}

async fn speed_dials(admin: &Admin, out: &Output, args: SpeedDialsArgs) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    if args.clear || !args.set.is_empty() {
        let mut dials = Vec::new();
        for item in &args.set {
            let (label, target) = item
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--set {item:?}: write LABEL=NUMBER"))?;
            dials.push((label.to_owned(), target.to_owned()));
        }
        admin.speed_dials_set(tenant.id, &user, &dials).await?;
    }
    let list = admin.speed_dials(tenant.id, &user).await?;
    out.list(&list, |(label, target)| format!("{label}\t{target}"));
    Ok(())
}

async fn monitor(admin: &Admin, out: &Output, args: MonitorArgs) -> anyhow::Result<()> {
    let (tenant, user) = args.user.resolve(admin).await?;
    if let Some(other) = args.add {
        let other = admin.user(tenant.id, &other).await?;
        admin.monitor_add(tenant.id, &user, &other).await?;
    }
    if let Some(other) = args.remove {
        let other = admin.user(tenant.id, &other).await?;
        admin.monitor_remove(tenant.id, user.id, other.id).await?;
    }
    let list = admin.monitor_list(tenant.id, &user).await?;
    out.list(&list, |u| {
        format!(
            "{}\t{}\t{}",
            u.id,
            u.display_name(),
            u.extension.clone().unwrap_or_default()
        )
    });
    Ok(())
}
