//! `autoprov device`: handsets.

use autoprov::admin::{Admin, DeviceInput};
use clap::Subcommand;

use super::{login_text, timestamp, Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum DeviceCmd {
    /// Register a handset
    Add {
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
    },
    /// Re-open a handset's first-contact window: its next fetch without credentials gets its
    /// full file and new HTTP credentials
    Arm {
        #[command(flatten)]
        tenant: TenantArg,
        /// The handset's MAC
        #[arg(long)]
        mac: String,
        /// How long the window stays open [default: the site's setting]
        #[arg(long)]
        hours: Option<u32>,
    },
    /// Issue new HTTP credentials; the old ones keep working during the overlap
    RotateCredentials {
        #[command(flatten)]
        tenant: TenantArg,
        /// The handset's MAC
        #[arg(long)]
        mac: String,
        /// Hours the old password stays valid
        #[arg(long, default_value_t = 24)]
        overlap_hours: u32,
    },
    /// Log a number in to a handset (one number per handset unless --additional-line)
    Login {
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
    },
    /// List a tenant's handsets
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Show a handset (MAC or Phone ID): state, lines, where and when it was last seen
    Show {
        #[command(flatten)]
        tenant: TenantArg,
        /// The handset's MAC or Phone ID
        handset: String,
    },
    /// Move a handset (MAC or Phone ID) to another site; no number may be logged in to it
    Move {
        #[command(flatten)]
        tenant: TenantArg,
        /// The handset's MAC or Phone ID
        handset: String,
        /// The site (id or name) to move it to
        #[arg(long)]
        site: String,
    },
    /// Move a handset (by MAC) to another tenant, e.g. to undo a wrongful claim; numbers logged
    /// in to it stay with their tenant and are logged out
    MoveTenant {
        /// The handset's MAC
        mac: String,
        /// Tenant id or name to move it to
        #[arg(long)]
        to_tenant: String,
        /// Site id or name of that tenant [default: its first site]
        #[arg(long)]
        site: Option<String>,
    },
    /// Reserve MACs for a tenant: only it can register them ("bought from us")
    Reserve {
        #[command(flatten)]
        tenant: TenantArg,
        /// The MACs to reserve (any common notation)
        #[arg(required = true, value_name = "MAC")]
        macs: Vec<String>,
    },
    /// List the MACs reserved for a tenant
    Reservations {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Release a reserved MAC: any tenant may register it again
    Release {
        #[command(flatten)]
        tenant: TenantArg,
        /// The reserved MAC
        mac: String,
    },
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: DeviceCmd) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Add {
            tenant,
            mac,
            model,
            site,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = DeviceInput { mac, model, site };
            let d = admin.device_add(tenant.id, &input).await?;
            out.one(
                &d,
                format!(
                    "device {} ({} {}) added, Phone ID {}",
                    d.mac, d.family, d.model, d.phone_id
                ),
            );
        }
        DeviceCmd::Arm { tenant, mac, hours } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let until = admin.device_arm(tenant.id, &mac, hours).await?;
            out.one(
                &serde_json::json!({ "first_contact_until": until }),
                format!("first-contact window open until {}", timestamp(until)),
            );
        }
        DeviceCmd::RotateCredentials {
            tenant,
            mac,
            overlap_hours,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let until = admin
                .device_rotate_credentials(tenant.id, &mac, overlap_hours)
                .await?;
            out.one(
                &serde_json::json!({ "previous_valid_until": until }),
                format!(
                    "new credentials issued; the previous ones work until {}",
                    timestamp(until)
                ),
            );
        }
        DeviceCmd::Login {
            tenant,
            mac,
            number,
            additional_line,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let number = admin.number(tenant.id, &number).await?;
            let target = autoprov::admin::LoginTarget {
                handset: mac,
                additional_line,
            };
            let r = admin.number_login(tenant.id, &number, &target).await?;
            out.one(&r, login_text(&r));
        }
        DeviceCmd::Show { tenant, handset } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let d = admin.device_detail(tenant.id, &handset).await?;
            let lines: Vec<String> = d
                .lines
                .iter()
                .map(|l| format!("{}:{}", l.position, l.number))
                .collect();
            let seen = match &d.last_seen {
                Some(s) => format!("{} from {} over {}", timestamp(s.at), s.addr, s.protocol),
                None => "never".to_owned(),
            };
            out.one(
                &d,
                format!(
                    "{} {} ({} {})\nstate: {}\nlines: {}\nlast seen: {seen}",
                    d.device.phone_id,
                    d.device.mac,
                    d.device.family,
                    d.device.model,
                    d.state,
                    if lines.is_empty() {
                        "none".to_owned()
                    } else {
                        lines.join(", ")
                    },
                ),
            );
        }
        DeviceCmd::Move {
            tenant,
            handset,
            site,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let d = admin.device_move(tenant.id, &handset, &site).await?;
            out.one(&d, format!("device {} moved to site {site}", d.phone_id));
        }
        DeviceCmd::MoveTenant {
            mac,
            to_tenant,
            site,
        } => {
            let to = admin.tenant(&to_tenant).await?;
            let moved = admin
                .device_move_tenant(&mac, to.id, site.as_deref())
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
        }
        DeviceCmd::Reserve { tenant, macs } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_reserve(tenant.id, &macs).await?;
            out.list(&list, |r| {
                format!("{}\treserved for {}", r.mac, tenant.name)
            });
        }
        DeviceCmd::Reservations { tenant } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_reservations(tenant.id).await?;
            out.list(&list, |r| format!("{}\t{}", r.mac, timestamp(r.created_at)));
        }
        DeviceCmd::Release { tenant, mac } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            admin.device_release(tenant.id, &mac).await?;
            out.one(
                &serde_json::json!({ "released": mac }),
                format!("MAC {mac} released"),
            );
        }
        DeviceCmd::List { tenant } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_list(tenant.id).await?;
            out.list(&list, |d| {
                format!("{}\t{}\t{} {}", d.phone_id, d.mac, d.family, d.model)
            });
        }
    }
    Ok(())
}
