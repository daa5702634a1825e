//! Command-line interface (see interface.md): `serve` and the admin commands. Admin commands go
//! through `autoprov::admin`, straight to the store, so they work with the server stopped or
//! running (a running server sees the change within `store.poll_ms`). Every command takes
//! `--json`.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput, UserUpdate};
use autoprov::config::{self, LogFormat, Settings, Sources};
use autoprov::{App, Listeners};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(
    name = "autoprov",
    version,
    about = "Provisioning server for SIP desk phones"
)]
struct Cli {
    /// Data folder (SQLite file, generated certificates, static files) [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: sqlite://<data>/autoprov.db]
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// TOML configuration file
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format: human or json
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Machine-readable output
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server
    Serve(ServeArgs),
    /// Tenants (organisations)
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// A tenant's sites
    #[command(subcommand)]
    Site(SiteCmd),
    /// Phone numbers
    #[command(subcommand)]
    Number(NumberCmd),
    /// Users
    #[command(subcommand)]
    User(UserCmd),
    /// Handsets
    #[command(subcommand)]
    Device(DeviceCmd),
    /// The local CA and HTTPS server certificate
    #[command(subcommand)]
    Certs(CertsCmd),
    /// API tokens
    #[command(subcommand)]
    Token(TokenCmd),
    /// Render every family's files against a sample device and parse them; report what is
    /// broken (with the operator's overrides, if configured)
    CheckTemplates,
    /// Print what a phone would receive
    Render {
        /// The phone's MAC
        mac: String,
        /// A file name; the device's main file when left out
        file: Option<String>,
        /// Show passwords instead of ********
        #[arg(long)]
        show_secrets: bool,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// HTTP address [default: 0.0.0.0:8080]; off to disable
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// HTTPS address (not available yet: off)
    #[arg(long, value_name = "ADDR")]
    https: Option<String>,
    /// TFTP address (not available yet: off)
    #[arg(long, value_name = "ADDR")]
    tftp: Option<String>,
    /// SIP PnP address (not available yet: off)
    #[arg(long, value_name = "ADDR")]
    pnp: Option<String>,
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
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
    /// Revoke a token by its id
    Revoke { id: i64 },
}

#[derive(Subcommand, Debug)]
enum CertsCmd {
    /// Make the local CA and server certificate (for https.hostnames) in <data>/certs
    Init {
        /// Replace existing ones
        #[arg(long)]
        force: bool,
    },
    /// Show the certificates in use; with --ca, print the CA certificate to hand to phones
    Show {
        #[arg(long)]
        ca: bool,
    },
}

#[derive(Args, Debug)]
struct TenantArg {
    /// Tenant id or name
    #[arg(long)]
    tenant: String,
}

#[derive(Subcommand, Debug)]
enum TenantCmd {
    /// Add a tenant
    Add { name: String },
    /// List tenants
    List,
}

#[derive(Subcommand, Debug)]
enum SiteCmd {
    /// Add a site to a tenant
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        name: String,
        /// IANA time zone, e.g. Europe/Berlin [default: defaults.time_zone]
        #[arg(long)]
        time_zone: Option<String>,
        /// NTP server [default: defaults.ntp_server]
        #[arg(long)]
        ntp_server: Option<String>,
        /// SIP registrar domain or address [default: defaults.sip_domain]
        #[arg(long)]
        sip_domain: Option<String>,
        /// Outbound proxy
        #[arg(long)]
        sip_proxy: Option<String>,
        /// Registrar port [default: 5060, 5061 for TLS]
        #[arg(long)]
        sip_port: Option<u16>,
        /// udp, tcp or tls [default: defaults.sip_transport]
        #[arg(long)]
        sip_transport: Option<String>,
        /// A network (CIDR) whose phones need no credentials; repeat for more
        #[arg(long = "allowed-network", value_name = "CIDR")]
        allowed_networks: Vec<String>,
        /// How long a new device's first-contact window stays open [default: 24]
        #[arg(long)]
        first_contact_hours: Option<u32>,
    },
    /// Set who at a site may fetch without credentials
    Trust {
        #[command(flatten)]
        tenant: TenantArg,
        /// Site id or name [default: the tenant's first site]
        site: Option<String>,
        /// A network (CIDR) whose phones need no credentials; repeat for more; none clears
        #[arg(long = "allowed-network", value_name = "CIDR")]
        allowed_networks: Vec<String>,
        /// How long a device's first-contact window stays open
        #[arg(long)]
        first_contact_hours: Option<u32>,
    },
    /// List a tenant's sites
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Subcommand, Debug)]
enum NumberCmd {
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
    /// List a tenant's numbers
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Subcommand, Debug)]
enum UserCmd {
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
        #[arg(long)]
        email: Option<String>,
        /// An active number of the tenant
        #[arg(long)]
        number: Option<String>,
        /// [default: the last four digits of the number]
        #[arg(long)]
        extension: Option<String>,
    },
    /// Change a user's profile
    Update {
        #[command(flatten)]
        tenant: TenantArg,
        /// User id, e-mail, number or "First Last"
        user: String,
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
        /// An empty value clears it
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        extension: Option<String>,
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
        user: String,
    },
    /// Deactivate an active user; callers hear an announcement and can be transferred
    Deactivate {
        #[command(flatten)]
        tenant: TenantArg,
        user: String,
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

#[derive(Subcommand, Debug)]
enum DeviceCmd {
    /// Register a handset
    Add {
        #[command(flatten)]
        tenant: TenantArg,
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
        #[arg(long)]
        mac: String,
        /// Hours the old password stays valid
        #[arg(long, default_value_t = 24)]
        overlap_hours: u32,
    },
    /// Log a number in to a handset
    Login {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        mac: String,
        #[arg(long)]
        number: String,
    },
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let (settings, _log_guard) = match settings(&cli) {
        Ok(s) => s,
        Err(e) => return fail(json, &e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                json,
                &anyhow::Error::from(e).context("starting the runtime"),
            )
        }
    };
    match runtime.block_on(execute(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(json, &e),
    }
}

fn fail(json: bool, e: &anyhow::Error) -> ExitCode {
    if json {
        let body = serde_json::json!({ "error": format!("{e:#}") });
        eprintln!("{body}");
    } else {
        eprintln!("error: {e:#}");
    }
    ExitCode::FAILURE
}

/// Loads settings and starts logging (serve logs at info, admin commands at warn). The returned
/// guard flushes the log writer when dropped at exit.
fn settings(cli: &Cli) -> anyhow::Result<(Settings, tracing_appender::non_blocking::WorkerGuard)> {
    let mut flags: Vec<(&'static str, String)> = Vec::new();
    if let Some(d) = &cli.data {
        flags.push(("data", d.display().to_string()));
    }
    if let Some(d) = &cli.database {
        flags.push(("database", d.clone()));
    }
    if let Some(f) = &cli.log_format {
        flags.push(("log_format", f.clone()));
    }
    if let Command::Serve(args) = &cli.command {
        for (key, value) in [
            ("listen.http", &args.http),
            ("listen.https", &args.https),
            ("listen.tftp", &args.tftp),
            ("listen.pnp", &args.pnp),
        ] {
            if let Some(v) = value {
                flags.push((key, v.clone()));
            }
        }
    }
    let sources = Sources {
        config_file: cli.config.clone(),
        read_env: true,
        flags,
    };
    let (settings, warnings) = config::load(&sources)?;
    let default_level = match cli.command {
        Command::Serve(_) => "autoprov=info",
        _ => "autoprov=warn",
    };
    let filter = settings
        .log_filter
        .as_deref()
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default_level));
    // One log line per served file: a background thread does the writing, so requests do not
    // wait for the terminal or disk. Lines are never dropped: only a full queue (128k lines)
    // makes a request wait.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok((settings, guard))
}

async fn execute(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    if let Command::Serve(_) = cli.command {
        return serve(settings).await;
    }
    if let Command::Certs(cmd) = &cli.command {
        return certs(cmd, &settings, Output { json: cli.json });
    }
    if let Command::CheckTemplates = &cli.command {
        return check_templates(&settings, Output { json: cli.json });
    }
    let app = App::open(settings).await?;
    let admin = &app.admin;
    let out = Output { json: cli.json };
    match cli.command {
        Command::Serve(_) | Command::Certs(_) | Command::CheckTemplates => {
            unreachable!("handled above")
        }
        Command::Tenant(TenantCmd::Add { name }) => {
            let t = admin.tenant_add(&name).await?;
            out.one(&t, format!("tenant {} added (id {})", t.name, t.id));
        }
        Command::Tenant(TenantCmd::List) => {
            let list = admin.tenant_list().await?;
            out.list(&list, |t| format!("{}\t{}", t.id, t.name));
        }
        Command::Site(SiteCmd::Add {
            tenant,
            name,
            time_zone,
            ntp_server,
            sip_domain,
            sip_proxy,
            sip_port,
            sip_transport,
            allowed_networks,
            first_contact_hours,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = SiteInput {
                name,
                time_zone,
                ntp_server,
                sip_domain,
                sip_proxy,
                sip_port,
                sip_transport,
                allowed_networks,
                first_contact_hours,
            };
            let s = admin.site_add(tenant.id, &input).await?;
            out.one(
                &s,
                format!("site {} added to {} (id {})", s.name, tenant.name, s.id),
            );
        }
        Command::Site(SiteCmd::Trust {
            tenant,
            site,
            allowed_networks,
            first_contact_hours,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let s = admin
                .site_trust(
                    tenant.id,
                    site.as_deref(),
                    &allowed_networks,
                    first_contact_hours,
                )
                .await?;
            let networks: Vec<String> = s.allowed_networks.iter().map(|n| n.to_string()).collect();
            out.one(
                &s,
                format!(
                    "site {}: allowed networks [{}], first-contact window {} h",
                    s.name,
                    networks.join(", "),
                    s.first_contact_hours
                ),
            );
        }
        Command::Site(SiteCmd::List { tenant }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.site_list(tenant.id).await?;
            out.list(&list, |s| {
                format!("{}\t{}\t{}\t{}", s.id, s.name, s.time_zone, s.sip.domain)
            });
        }
        Command::Number(NumberCmd::Add {
            tenant,
            number,
            site,
            status,
            main,
        }) => {
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
        Command::Number(NumberCmd::List { tenant }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.number_list(tenant.id).await?;
            out.list(&list, |n| {
                format!(
                    "{}\t{}{}",
                    n.e164,
                    n.status,
                    if n.is_main { "\tmain" } else { "" }
                )
            });
        }
        Command::User(UserCmd::Add {
            tenant,
            first,
            last,
            email,
            number,
            extension,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = UserInput {
                first_name: first,
                last_name: last,
                email,
                number,
                extension,
            };
            let u = admin.user_add(tenant.id, &input).await?;
            out.one(
                &u,
                format!("user {} added (id {}, {})", u.display_name(), u.id, u.state),
            );
        }
        Command::User(UserCmd::Update {
            tenant,
            user,
            first,
            last,
            email,
            extension,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let input = UserUpdate {
                first_name: first,
                last_name: last,
                email,
                extension,
            };
            let u = admin.user_update(tenant.id, user.id, &input).await?;
            out.one(
                &u,
                format!("user {} updated (id {})", u.display_name(), u.id),
            );
        }
        Command::User(UserCmd::Activate { tenant, user }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin.user_activate(tenant.id, user.id).await?;
            out.one(&u, format!("user {} is {}", u.display_name(), u.state));
        }
        Command::User(UserCmd::List { tenant }) => {
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
        Command::User(UserCmd::Fail { tenant, user }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            let u = admin.user_fail(tenant.id, user.id).await?;
            out.one(&u, format!("user {} is {}", u.display_name(), u.state));
        }
        Command::User(UserCmd::Deactivate {
            tenant,
            user,
            announcement,
            transfer,
            transfer_mode,
        }) => {
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
        Command::User(UserCmd::Delete { tenant, user }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let user = admin.user(tenant.id, &user).await?;
            admin.user_delete(tenant.id, user.id).await?;
            out.one(
                &serde_json::json!({ "deleted": user.id }),
                format!("user {} deleted; their number is free", user.display_name()),
            );
        }
        Command::User(UserCmd::SpeedDials {
            tenant,
            user,
            set,
            clear,
        }) => {
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
        Command::User(UserCmd::Monitor {
            tenant,
            user,
            add,
            remove,
        }) => {
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
        Command::Device(DeviceCmd::Add {
            tenant,
            mac,
            model,
            site,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let input = DeviceInput { mac, model, site };
            let d = admin.device_add(tenant.id, &input).await?;
            out.one(
                &d,
                format!("device {} ({} {}) added", d.mac, d.family, d.model),
            );
        }
        Command::Device(DeviceCmd::Arm { tenant, mac, hours }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let until = admin.device_arm(tenant.id, &mac, hours).await?;
            out.one(
                &serde_json::json!({ "first_contact_until": until }),
                format!("first-contact window open until {}", timestamp(until)),
            );
        }
        Command::Device(DeviceCmd::RotateCredentials {
            tenant,
            mac,
            overlap_hours,
        }) => {
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
        Command::Device(DeviceCmd::Login {
            tenant,
            mac,
            number,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let r = admin.device_login(tenant.id, &mac, &number).await?;
            out.one(
                &r,
                format!(
                    "{} logged in to {} as account {} (SIP user {})",
                    r.number, r.mac, r.position, r.sip_user
                ),
            );
        }
        Command::Token(TokenCmd::Create { role, tenant, user }) => {
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
        Command::Token(TokenCmd::Revoke { id }) => {
            admin.token_revoke(id).await?;
            out.one(
                &serde_json::json!({ "revoked": id }),
                format!("token {id} revoked"),
            );
        }
        Command::Render {
            mac,
            file,
            show_secrets,
        } => {
            let mac = mac.parse()?;
            let preview = app
                .provisioner
                .preview(mac, file.as_deref(), show_secrets)
                .await?;
            if cli.json {
                out.one(&preview, String::new());
            } else {
                use std::io::Write as _;
                std::io::stdout()
                    .write_all(preview.body.as_bytes())
                    .context("writing the file")?;
            }
        }
    }
    app.store.close().await;
    Ok(())
}

/// Checks the shipped templates and, separately, the operator's overrides; fails if either is
/// broken (the server would fall back to the shipped files for a broken override).
fn check_templates(settings: &Settings, out: Output) -> anyhow::Result<()> {
    use autoprov::provision::check;
    use autoprov::render::Catalog;
    let provision = App::provision_settings(settings);
    let mut problems = Vec::new();
    let mut families = 0;
    for overrides in std::iter::once(None).chain(settings.templates_override.as_deref().map(Some)) {
        match Catalog::load_layers(&settings.templates_dir, overrides, &[]) {
            Ok(catalog) => {
                families = catalog.families().len();
                problems.extend(check::check(&catalog, &provision));
            }
            Err(e) => problems.push(check::Problem {
                family: "(load)".into(),
                file: overrides
                    .unwrap_or(&settings.templates_dir)
                    .display()
                    .to_string(),
                message: e.to_string(),
            }),
        }
    }
    problems.dedup();
    let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    if problems.is_empty() {
        out.one(
            &serde_json::json!({ "families": families, "problems": list }),
            format!("{families} families: every file renders and parses"),
        );
        Ok(())
    } else {
        out.list(&list, |p| p.clone());
        anyhow::bail!("{} template problem(s)", problems.len())
    }
}

fn certs(cmd: &CertsCmd, settings: &Settings, out: Output) -> anyhow::Result<()> {
    use autoprov::certs::{describe, init, LocalPaths};
    match cmd {
        CertsCmd::Init { force } => {
            let paths = init(settings, *force)?;
            let info = describe(&paths.cert)?;
            out.one(
                &info,
                format!(
                    "server certificate {} for {}\nCA certificate for phones: {}",
                    paths.cert.display(),
                    info.names.join(", "),
                    paths.ca.display()
                ),
            );
        }
        CertsCmd::Show { ca } => {
            let local = LocalPaths::new(&settings.data_dir);
            if *ca {
                let pem = std::fs::read_to_string(&local.ca).with_context(|| {
                    format!(
                        "{}: no local CA yet (run `autoprov certs init`)",
                        local.ca.display()
                    )
                })?;
                print!("{pem}");
                return Ok(());
            }
            let cert = match &settings.https_settings.cert_and_key {
                Some((cert, _)) => cert.clone(),
                None => local.cert.clone(),
            };
            let mut list = vec![describe(&cert).with_context(|| {
                format!(
                    "{}: no certificate yet (run `autoprov certs init`)",
                    cert.display()
                )
            })?];
            if settings.https_settings.cert_and_key.is_none() {
                list.push(describe(&local.ca)?);
            }
            out.list(&list, |c| {
                format!(
                    "{}\n  subject  {}\n  issuer   {}\n  names    {}\n  valid    {} .. {}\n  sha256   {}",
                    c.path,
                    c.subject,
                    c.issuer,
                    c.names.join(", "),
                    c.not_before,
                    c.not_after,
                    c.sha256
                )
            });
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listeners = Listeners::bind(&settings).await?;
    let bound = |l: &Option<tokio::net::TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
    let settings = settings.with_bound(bound(&listeners.http), bound(&listeners.https));
    if settings.public_url_is_local_guess() {
        tracing::warn!(
            url = %settings.public_url,
            "phones are told to come back to a loopback URL; set provisioning.public_url to an address they can reach"
        );
    }
    let app = App::open(settings).await?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        on_signal.cancel();
    });
    autoprov::run(app, listeners, shutdown).await?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct Output {
    json: bool,
}

impl Output {
    fn one<T: Serialize>(&self, value: &T, human: String) {
        if self.json {
            println!("{}", serde_json::to_string(value).unwrap_or_default());
        } else if !human.is_empty() {
            println!("{human}");
        }
    }

    fn list<T: Serialize>(&self, values: &[T], human: impl Fn(&T) -> String) {
        if self.json {
            println!("{}", serde_json::to_string(values).unwrap_or_default());
        } else {
            for v in values {
                println!("{}", human(v));
            }
        }
    }
}

fn timestamp(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}
