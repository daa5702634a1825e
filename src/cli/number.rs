//! `autoprov number`: phone numbers.

use autoprov::admin::{Admin, LoginTarget, NumberInput, NumberQuery};
use autoprov::model::{ListQuery, Number, NumberView, Tenant, TenantId, LIST_MAX};
use clap::{Args, Subcommand};

use super::{settings_patch, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum NumberCmd {
    /// Allocate a number to a tenant's site
    Add(AddArgs),
    /// List a tenant's numbers at a site, as the portal does
    List(ListArgs),
    /// Change a number's status, e.g. activate a reserved number
    Status(StatusArgs),
    /// Assign an active number to a user without one
    Assign(AssignArgs),
    /// Take a number back from its user
    Unassign(NumberArg),
    /// Set the two-part display name (leave both out to clear it)
    Label(LabelArgs),
    /// Show or change call features: --set call_waiting=true --set forward_busy=+4930…
    Features(FeaturesArgs),
    /// Reset the PIN to the number's default PIN (and unlock it)
    ResetPin(NumberArg),
    /// Check a PIN (three wrong in a row lock it)
    VerifyPin(VerifyPinArgs),
    /// Log a number in to a handset by Phone ID or MAC; prints the login details once
    Login(LoginArgs),
    /// Log a number out of its handset
    Logout(NumberArg),
    /// New login details for a number's line, printed once
    LoginDetails(NumberArg),
    /// Give a number back to the operator: it leaves the tenant (refused while in use)
    Release(NumberArg),
}

// The argument structs carry no doc comment: clap would take it for the subcommand's about.

#[derive(Args, Debug)]
pub(super) struct NumberArg {
    #[command(flatten)]
    tenant: TenantArg,
    /// The number (id or E.164)
    number: String,
}

impl NumberArg {
    /// The tenant and its number that the arguments name.
    async fn resolve(&self, admin: &Admin) -> anyhow::Result<(Tenant, Number)> {
        let tenant = admin.tenant(&self.tenant.tenant).await?;
        let number = admin.number(tenant.id, &self.number).await?;
        Ok((tenant, number))
    }
}

#[derive(Args, Debug)]
pub(super) struct AddArgs {
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
}

#[derive(Args, Debug)]
pub(super) struct ListArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Site id or name [default: the first alphabetically]; all for every site
    #[arg(long)]
    site: Option<String>,
    /// Text to find in the number or in "assigned to"
    #[arg(long)]
    search: Option<String>,
    /// Only the tenant's available numbers (active, not a main number, nobody's), at every site
    #[arg(long, conflicts_with_all = ["site", "search"])]
    available: bool,
}

#[derive(Args, Debug)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    number: NumberArg,
    /// reserved, active or pending
    status: String,
}

#[derive(Args, Debug)]
pub(super) struct AssignArgs {
    #[command(flatten)]
    number: NumberArg,
    /// The user (id, e-mail, number or "First Last")
    #[arg(long)]
    user: String,
}

#[derive(Args, Debug)]
pub(super) struct LabelArgs {
    #[command(flatten)]
    number: NumberArg,
    /// First part of the label (empty: none)
    #[arg(long)]
    first: Option<String>,
    /// Last part of the label (empty: none)
    #[arg(long)]
    last: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct FeaturesArgs {
    #[command(flatten)]
    number: NumberArg,
    /// NAME=VALUE (JSON values; an empty value clears)
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
}

#[derive(Args, Debug)]
pub(super) struct VerifyPinArgs {
    #[command(flatten)]
    number: NumberArg,
    /// The PIN to check
    pin: String,
}

#[derive(Args, Debug)]
pub(super) struct LoginArgs {
    #[command(flatten)]
    number: NumberArg,
    /// Phone ID or MAC
    #[arg(long)]
    handset: String,
    /// Add as a further line of a multi-account phone
    #[arg(long)]
    additional_line: bool,
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: NumberCmd) -> anyhow::Result<()> {
    match cmd {
        NumberCmd::Add(args) => add(admin, out, args).await,
        NumberCmd::List(args) => list(admin, out, args).await,
        NumberCmd::Status(args) => status(admin, out, args).await,
        NumberCmd::Assign(args) => assign(admin, out, args).await,
        NumberCmd::Unassign(args) => unassign(admin, out, args).await,
        NumberCmd::Label(args) => label(admin, out, args).await,
        NumberCmd::Features(args) => features(admin, out, args).await,
        NumberCmd::ResetPin(args) => reset_pin(admin, out, args).await,
        NumberCmd::VerifyPin(args) => verify_pin(admin, out, args).await,
        NumberCmd::Login(args) => login(admin, out, args).await,
        NumberCmd::Logout(args) => logout(admin, out, args).await,
        NumberCmd::LoginDetails(args) => login_details(admin, out, args).await,
        NumberCmd::Release(args) => release(admin, out, args).await,
    }
}

/// The number and what was done to it.
fn show(out: &Output, n: &Number, what: &str) {
    out.one(n, format!("{} {what}", n.e164));
}

async fn add(admin: &Admin, out: &Output, args: AddArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let input = NumberInput {
        number: args.number,
        site: args.site,
        status: args.status,
        main: args.main,
    };
    let n = admin.number_add(tenant.id, &input).await?;
    out.one(&n, format!("number {} added ({})", n.e164, n.status));
    Ok(())
}

async fn list(admin: &Admin, out: &Output, args: ListArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    if args.available {
        let list = admin.numbers_available(tenant.id).await?;
        out.list(&list, |n| format!("{}\t{}\tavailable", n.e164, n.status));
        return Ok(());
    }
    let numbers = NumberQuery { site: args.site };
    let list = every_number(admin, tenant.id, &numbers, args.search).await?;
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
    Ok(())
}

/// Every number the list names that matches `search`, a page at a time: the CLI prints whole
/// lists.
async fn every_number(
    admin: &Admin,
    tenant: TenantId,
    numbers: &NumberQuery,
    search: Option<String>,
) -> anyhow::Result<Vec<NumberView>> {
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

async fn status(admin: &Admin, out: &Output, args: StatusArgs) -> anyhow::Result<()> {
    let (t, number) = args.number.resolve(admin).await?;
    let n = admin.number_set_status(t.id, &number, &args.status).await?;
    show(out, &n, &format!("is {}", n.status));
    Ok(())
}

async fn assign(admin: &Admin, out: &Output, args: AssignArgs) -> anyhow::Result<()> {
    let (t, number) = args.number.resolve(admin).await?;
    let u = admin.user(t.id, &args.user).await?;
    let n = admin.number_assign(t.id, &number, &u).await?;
    show(out, &n, &format!("assigned to {}", u.display_name()));
    Ok(())
}

async fn unassign(admin: &Admin, out: &Output, args: NumberArg) -> anyhow::Result<()> {
    let (t, number) = args.resolve(admin).await?;
    let n = admin.number_unassign(t.id, &number).await?;
    show(out, &n, "unassigned");
    Ok(())
}

async fn release(admin: &Admin, out: &Output, args: NumberArg) -> anyhow::Result<()> {
    let (t, number) = args.resolve(admin).await?;
    admin.number_release(t.id, &number).await?;
    out.one(
        &serde_json::json!({ "released": number.e164 }),
        format!("{} released: it is the operator's again", number.e164),
    );
    Ok(())
}

async fn label(admin: &Admin, out: &Output, args: LabelArgs) -> anyhow::Result<()> {
    let (t, number) = args.number.resolve(admin).await?;
    let n = admin
        .number_label(t.id, &number, args.first.as_deref(), args.last.as_deref())
        .await?;
    show(
        out,
        &n,
        &format!("labelled {:?}", n.label().unwrap_or_default()),
    );
    Ok(())
}

async fn features(admin: &Admin, out: &Output, args: FeaturesArgs) -> anyhow::Result<()> {
    let (t, n) = args.number.resolve(admin).await?;
    let n = if args.set.is_empty() {
        n
    } else {
        admin
            .number_features(t.id, &n, &settings_patch(&args.set)?)
            .await?
    };
    out.one(
        &n.features,
        serde_json::to_string_pretty(&n.features).unwrap_or_default(),
    );
    Ok(())
}

async fn reset_pin(admin: &Admin, out: &Output, args: NumberArg) -> anyhow::Result<()> {
    let (t, number) = args.resolve(admin).await?;
    let n = admin.number_reset_pin(t.id, &number).await?;
    show(
        out,
        &n,
        &format!("PIN reset to its default {}", n.default_pin),
    );
    Ok(())
}

async fn verify_pin(admin: &Admin, out: &Output, args: VerifyPinArgs) -> anyhow::Result<()> {
    let (_, number) = args.number.resolve(admin).await?;
    admin.number_verify_pin(&number, &args.pin).await?;
    out.one(&serde_json::json!({ "pin": "ok" }), "PIN is right".into());
    Ok(())
}

async fn login(admin: &Admin, out: &Output, args: LoginArgs) -> anyhow::Result<()> {
    let (t, number) = args.number.resolve(admin).await?;
    log_in(
        admin,
        out,
        t.id,
        &number,
        args.handset,
        args.additional_line,
    )
    .await
}

/// Logs `number` in to `handset` (Phone ID or MAC) and prints the login details once: `number
/// login` and `device login` both end here.
pub(super) async fn log_in(
    admin: &Admin,
    out: &Output,
    tenant: TenantId,
    number: &Number,
    handset: String,
    additional_line: bool,
) -> anyhow::Result<()> {
    let target = LoginTarget {
        handset,
        additional_line,
    };
    let d = admin.number_login(tenant, number, &target).await?;
    out.one(&d, login_text(&d));
    Ok(())
}

async fn logout(admin: &Admin, out: &Output, args: NumberArg) -> anyhow::Result<()> {
    let (t, number) = args.resolve(admin).await?;
    let n = admin.number_logout(t.id, &number).await?;
    show(out, &n, "logged out");
    Ok(())
}

async fn login_details(admin: &Admin, out: &Output, args: NumberArg) -> anyhow::Result<()> {
    let (t, number) = args.resolve(admin).await?;
    let d = admin.number_new_login_details(t.id, &number).await?;
    out.one(&d, login_text(&d));
    Ok(())
}

/// Login details, shown once to the admin who made them.
pub(super) fn login_text(d: &autoprov::admin::LoginDetails) -> String {
    format!(
        "{} logged in to {} ({}) as account {}\nlogin details (shown once): SIP user {}, password {}",
        d.number, d.phone_id, d.mac, d.position, d.sip_user, d.sip_password
    )
}
