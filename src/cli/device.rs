//! `autoprov device`: handsets.

use autoprov::admin::{Admin, DeviceInput, DeviceUpdate, DeviceView};
use clap::{Args, Subcommand};

use super::{timestamp, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum DeviceCmd {
    /// Register a handset
    Add(AddArgs),
    /// Re-open a handset's first-contact window: its next fetch without credentials gets its
    /// full file and new HTTP credentials
    Arm(ArmArgs),
    /// Issue new HTTP credentials; the old ones keep working during the overlap
    RotateCredentials(RotateArgs),
    /// Log a number in to a handset (one number per handset unless --additional-line)
    Login(LoginArgs),
    /// List a tenant's handsets: state, last seen (time, address, transport), firmware, model
    List(ListArgs),
    /// Show a handset (MAC or Phone ID): state, lines, where and when it was last seen
    Show(ShowArgs),
    /// Move a handset (MAC or Phone ID) to another site; no number may be logged in to it
    Move(MoveArgs),
    /// Move a handset (by MAC) to another tenant, e.g. to undo a wrongful claim; numbers logged
    /// in to it stay with their tenant and are logged out
    MoveTenant(MoveTenantArgs),
    /// Reserve MACs for a tenant: only it can register them ("bought from us")
    Reserve(ReserveArgs),
    /// List the MACs reserved for a tenant
    Reservations(TenantArg),
    /// Release a reserved MAC: any tenant may register it again
    Release(ReleaseArgs),
    /// Tell a handset (MAC or Phone ID) to fetch its files now: a SIP NOTIFY with its family's
    /// event to where it was last seen, and resync.hook when set
    Resync(ShowArgs),
    /// Remove a handset (MAC or Phone ID): its lines are logged out, its MAC may be registered
    /// again; the audit trail keeps its record
    Remove(ShowArgs),
    /// Give a handset's lines, keys, Phone ID and settings to new hardware; the old MAC's
    /// credentials stop working and a first-contact window opens for the new MAC
    Replace(ReplaceArgs),
    /// Change a handset's model (its family follows)
    Update(UpdateArgs),
}

// The argument structs carry no doc comment: clap would take it for the subcommand's about.

#[derive(Args, Debug)]
pub(super) struct AddArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC (any common notation)
    #[arg(long)]
    mac: String,
    /// Model, e.g. T54W
    #[arg(long)]
    model: String,
    /// Site id or name [default: the tenant's first site]
    #[arg(long)]
    site: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct ArmArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC
    #[arg(long)]
    mac: String,
    /// How long the window stays open [default: the site's setting]
    #[arg(long)]
    hours: Option<u32>,
}

#[derive(Args, Debug)]
pub(super) struct RotateArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC
    #[arg(long)]
    mac: String,
    /// Hours the old password stays valid
    #[arg(long, default_value_t = 24)]
    overlap_hours: u32,
}

#[derive(Args, Debug)]
pub(super) struct LoginArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC
    #[arg(long)]
    mac: String,
    /// The number to log in (id or E.164)
    #[arg(long)]
    number: String,
    /// Add as a further line instead of refusing a handset that has one
    #[arg(long)]
    additional_line: bool,
}

#[derive(Args, Debug)]
pub(super) struct ListArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Only this site's handsets (id or name)
    #[arg(long)]
    site: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct ReplaceArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's current MAC or Phone ID
    handset: String,
    /// The new hardware's MAC
    #[arg(long)]
    mac: String,
}

#[derive(Args, Debug)]
pub(super) struct UpdateArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC or Phone ID
    handset: String,
    /// The new model, e.g. T54W (`autoprov models` lists them)
    #[arg(long)]
    model: String,
}

#[derive(Args, Debug)]
pub(super) struct ShowArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC or Phone ID
    handset: String,
}

#[derive(Args, Debug)]
pub(super) struct MoveArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The handset's MAC or Phone ID
    handset: String,
    /// The site (id or name) to move it to
    #[arg(long)]
    site: String,
}

#[derive(Args, Debug)]
pub(super) struct MoveTenantArgs {
    /// The handset's MAC
    mac: String,
    /// Tenant id or name to move it to
    #[arg(long)]
    to_tenant: String,
    /// Site id or name of that tenant [default: its first site]
    #[arg(long)]
    site: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct ReserveArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The MACs to reserve (any common notation)
    #[arg(required = true, value_name = "MAC")]
    macs: Vec<String>,
}

#[derive(Args, Debug)]
pub(super) struct ReleaseArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The reserved MAC
    mac: String,
}

pub(super) async fn run(
    admin: &Admin,
    app: &autoprov::App,
    out: &Output,
    cmd: DeviceCmd,
) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Resync(args) => resync(admin, app, out, args).await,
        DeviceCmd::Add(args) => add(admin, out, args).await,
        DeviceCmd::Arm(args) => arm(admin, out, args).await,
        DeviceCmd::RotateCredentials(args) => rotate_credentials(admin, out, args).await,
        DeviceCmd::Login(args) => login(admin, out, args).await,
        DeviceCmd::List(args) => list(admin, out, args).await,
        DeviceCmd::Show(args) => show(admin, out, args).await,
        DeviceCmd::Move(args) => move_site(admin, out, args).await,
        DeviceCmd::MoveTenant(args) => move_tenant(admin, out, args).await,
        DeviceCmd::Reserve(args) => reserve(admin, out, args).await,
        DeviceCmd::Reservations(args) => reservations(admin, out, args).await,
        DeviceCmd::Release(args) => release(admin, out, args).await,
        DeviceCmd::Remove(args) => remove(admin, out, args).await,
        DeviceCmd::Replace(args) => replace(admin, out, args).await,
        DeviceCmd::Update(args) => update(admin, out, args).await,
    }
}

async fn add(admin: &Admin, out: &Output, args: AddArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let input = DeviceInput {
        mac: args.mac,
        model: args.model,
        site: args.site,
    };
    let d = admin.device_add(tenant.id, &input).await?;
    out.one(
        &d,
        format!(
            "device {} ({} {}) added, Phone ID {}",
            d.mac, d.family, d.model, d.phone_id
        ),
    );
    Ok(())
}

async fn arm(admin: &Admin, out: &Output, args: ArmArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let until = admin.device_arm(tenant.id, &args.mac, args.hours).await?;
    out.one(
        &serde_json::json!({ "first_contact_until": until }),
        format!("first-contact window open until {}", timestamp(until)),
    );
    Ok(())
}

async fn rotate_credentials(admin: &Admin, out: &Output, args: RotateArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let until = admin
        .device_rotate_credentials(tenant.id, &args.mac, args.overlap_hours)
        .await?;
    out.one(
        &serde_json::json!({ "previous_valid_until": until }),
        format!(
            "new credentials issued; the previous ones work until {}",
            timestamp(until)
        ),
    );
    Ok(())
}

async fn login(admin: &Admin, out: &Output, args: LoginArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let number = admin.number(tenant.id, &args.number).await?;
    super::number::log_in(
        admin,
        out,
        tenant.id,
        &number,
        args.mac,
        args.additional_line,
    )
    .await
}

async fn list(admin: &Admin, out: &Output, args: ListArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let list = admin
        .device_views(tenant.id, args.site.as_deref(), autoprov::admin::STALE_DAYS)
        .await?;
    out.list(&list, |v| {
        format!(
            "{}\t{}\t{} {}\t{}{}\t{}\t{}",
            v.device.phone_id,
            v.device.mac,
            v.device.family,
            v.device.model,
            v.state.as_str(),
            if v.failing { " (failing)" } else { "" },
            seen(v),
            v.last_seen
                .as_ref()
                .and_then(|s| s.firmware.as_deref())
                .unwrap_or("-"),
        )
    });
    Ok(())
}

/// "2026-12-01T10:00:00Z from 192.0.2.7 over https", or "never".
fn seen(v: &DeviceView) -> String {
    match &v.last_seen {
        Some(s) => format!("{} from {} over {}", timestamp(s.at), s.addr, s.protocol),
        None => "never".to_owned(),
    }
}

async fn show(admin: &Admin, out: &Output, args: ShowArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let d = admin.device_detail(tenant.id, &args.handset).await?;
    let lines: Vec<String> = d
        .lines
        .iter()
        .map(|l| format!("{}:{}", l.position, l.number))
        .collect();
    let v = &d.view;
    let failure = match &v.last_failure {
        Some(f) => format!(
            "\nlast refused: {} from {} ({}){}",
            timestamp(f.at),
            f.addr,
            f.reason,
            if v.failing { ", failing" } else { "" }
        ),
        None => String::new(),
    };
    out.one(
        &d,
        format!(
            "{} {} ({} {})\nstate: {}\nlines: {}\nlast seen: {}\nfirmware: {}{failure}",
            v.device.phone_id,
            v.device.mac,
            v.device.family,
            v.device.model,
            v.state.as_str(),
            if lines.is_empty() {
                "none".to_owned()
            } else {
                lines.join(", ")
            },
            seen(v),
            v.last_seen
                .as_ref()
                .and_then(|s| s.firmware.as_deref())
                .unwrap_or("unknown"),
        ),
    );
    Ok(())
}

async fn remove(admin: &Admin, out: &Output, args: ShowArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let removed = admin.device_remove(tenant.id, &args.handset).await?;
    out.one(
        &removed,
        format!(
            "device {} ({}) removed{}",
            removed.device.mac,
            removed.device.phone_id,
            if removed.lines_logged_out.is_empty() {
                String::new()
            } else {
                format!("; logged out: {}", removed.lines_logged_out.join(", "))
            }
        ),
    );
    Ok(())
}

async fn replace(admin: &Admin, out: &Output, args: ReplaceArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let d = admin
        .device_replace(tenant.id, &args.handset, &args.mac)
        .await?;
    let until = d.access.first_contact_until.unwrap_or_default();
    out.one(
        &d,
        format!(
            "handset {} is now {}; its first-contact window is open until {}",
            d.phone_id,
            d.mac,
            timestamp(until)
        ),
    );
    Ok(())
}

async fn update(admin: &Admin, out: &Output, args: UpdateArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let change = DeviceUpdate {
        model: Some(args.model),
        site: None,
    };
    let d = admin
        .device_update(tenant.id, &args.handset, &change)
        .await?;
    out.one(
        &d,
        format!("device {} is a {} {}", d.mac, d.family, d.model),
    );
    Ok(())
}

async fn move_site(admin: &Admin, out: &Output, args: MoveArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let d = admin
        .device_move(tenant.id, &args.handset, &args.site)
        .await?;
    out.one(
        &d,
        format!("device {} moved to site {}", d.phone_id, args.site),
    );
    Ok(())
}

async fn move_tenant(admin: &Admin, out: &Output, args: MoveTenantArgs) -> anyhow::Result<()> {
    let to = admin.tenant(&args.to_tenant).await?;
    let moved = admin
        .device_move_tenant(&args.mac, to.id, args.site.as_deref())
        .await?;
    let logged_out: Vec<String> = moved
        .lines_logged_out
        .iter()
        .map(|n| n.to_string())
        .collect();
    out.one(
        &moved,
        format!(
            "device {} moved to tenant {}{}",
            moved.device.mac,
            to.name,
            if logged_out.is_empty() {
                String::new()
            } else {
                format!("; logged out: {}", logged_out.join(", "))
            }
        ),
    );
    Ok(())
}

async fn reserve(admin: &Admin, out: &Output, args: ReserveArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let list = admin.device_reserve(tenant.id, &args.macs).await?;
    out.list(&list, |r| {
        format!("{}\treserved for {}", r.mac, tenant.name)
    });
    Ok(())
}

async fn reservations(admin: &Admin, out: &Output, args: TenantArg) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant).await?;
    let list = admin.device_reservations(tenant.id).await?;
    out.list(&list, |r| format!("{}\t{}", r.mac, timestamp(r.created_at)));
    Ok(())
}

async fn release(admin: &Admin, out: &Output, args: ReleaseArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    admin.device_release(tenant.id, &args.mac).await?;
    out.one(
        &serde_json::json!({ "released": args.mac }),
        format!("MAC {} released", args.mac),
    );
    Ok(())
}

async fn resync(
    admin: &Admin,
    app: &autoprov::App,
    out: &Output,
    args: ShowArgs,
) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let device = admin.handset(tenant.id, &args.handset).await?;
    let done = autoprov::sip::resync::device(app, &device).await?;
    let (target, told) = (&done.target, &done.told);
    let notify = match (told.notify_sent, told.answered, target.address) {
        (true, true, Some(at)) => format!(
            "NOTIFY {} sent to {at}, answered",
            target.event.as_deref().unwrap_or("")
        ),
        (true, false, Some(at)) => format!(
            "NOTIFY {} sent to {at}, no answer (phone off, or another SIP port: resync.phone_port)",
            target.event.as_deref().unwrap_or("")
        ),
        (_, _, None) => "never seen: no address to send a NOTIFY to".to_owned(),
        (false, _, Some(_)) if target.event.is_none() => {
            format!("the {} family has no resync event", target.family)
        }
        (false, _, Some(_)) => "no NOTIFY (resync.notify is off)".to_owned(),
    };
    let hook = if app.notifier.settings().hook.is_empty() {
        String::new()
    } else if told.hook_ok {
        "; hook ran".to_owned()
    } else {
        "; hook failed (see the log)".to_owned()
    };
    out.one(
        &done,
        format!("{} {}: {notify}{hook}", device.phone_id, device.mac),
    );
    Ok(())
}
