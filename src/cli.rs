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
    /// BLF permissions: who may be monitored by whom
    #[command(subcommand)]
    Blf(BlfCmd),
    /// A tenant's licence pools
    #[command(subcommand)]
    Licence(LicenceCmd),
    /// Sites' trunks
    #[command(subcommand)]
    Trunk(TrunkCmd),
    /// The audit trail of a tenant, newest first
    Audit {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        actor: Option<String>,
        /// user, number, device, site, …
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        entity_id: Option<i64>,
        /// create, update, delete, login, …
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
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
    /// HTTPS address for phones [default: 0.0.0.0:8443]; off to disable
    #[arg(long, value_name = "ADDR")]
    https: Option<String>,
    /// TFTP address [default: 0.0.0.0:6969; 0.0.0.0:69 in production]; off to disable
    #[arg(long, value_name = "ADDR")]
    tftp: Option<String>,
    /// Admin address: the REST API over HTTPS [default: 127.0.0.1:9443]; off to disable
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,
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
    /// Make the local CA and server certificate (for https.hostnames) in <data>/certs, or check
    /// the ones there against the CA the store recorded
    Init {
        /// Issue a new server certificate from the existing CA (e.g. for new https.hostnames)
        #[arg(long)]
        force: bool,
        /// Make a new CA, replacing the one phones trust: every phone provisioned over HTTPS
        /// must then be provisioned again
        #[arg(long)]
        replace: bool,
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
        /// A network (CIDR) from which first-contact windows may be used; repeat for more; none:
        /// from anywhere
        #[arg(long = "first-contact-network", value_name = "CIDR")]
        first_contact_networks: Vec<String>,
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
        number: String,
        /// reserved, active or pending
        status: String,
    },
    /// Assign an active number to a user without one
    Assign {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
        #[arg(long)]
        user: String,
    },
    /// Take a number back from its user
    Unassign {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
    },
    /// Set the two-part display name (leave both out to clear it)
    Label {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
    },
    /// Show or change call features: --set call_waiting=true --set forward_busy=+4930…
    Features {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
        /// NAME=VALUE (JSON values; an empty value clears)
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Reset the PIN to the number's default PIN (and unlock it)
    ResetPin {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
    },
    /// Check a PIN (three wrong in a row lock it)
    VerifyPin {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
        pin: String,
    },
    /// Log a number in to a handset by Phone ID or MAC; prints the login details once
    Login {
        #[command(flatten)]
        tenant: TenantArg,
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
        number: String,
    },
    /// New login details for a number's line, printed once
    LoginDetails {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
    },
}

#[derive(Subcommand, Debug)]
enum BlfCmd {
    /// Allow a user to be monitored, by one user or (without --watcher) by anyone
    Grant {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        watched: String,
        #[arg(long)]
        watcher: Option<String>,
    },
    /// Withdraw a grant (monitor-list entries it allowed go too)
    Revoke {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
    },
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Subcommand, Debug)]
enum LicenceCmd {
    /// Pools: total, assigned, available
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Set a pool's size (app, conference-room, e-fax)
    Set {
        #[command(flatten)]
        tenant: TenantArg,
        kind: String,
        total: i64,
    },
}

#[derive(Subcommand, Debug)]
enum TrunkCmd {
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        site: String,
        name: String,
    },
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        site: String,
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
        /// Mobile number for mobile integration (E.164)
        #[arg(long)]
        mobile: Option<String>,
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
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
        /// An empty value clears it
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        extension: Option<String>,
        #[arg(long)]
        mobile: Option<String>,
        #[arg(long)]
        contract: Option<String>,
        /// App registration e-mail (fixed once the user registered)
        #[arg(long)]
        app_email: Option<String>,
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
        user: String,
        #[arg(long)]
        login: String,
    },
    /// Show or set the licences a user holds
    Licences {
        #[command(flatten)]
        tenant: TenantArg,
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
    /// Log a number in to a handset (one number per handset unless --additional-line)
    Login {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        mac: String,
        #[arg(long)]
        number: String,
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
        handset: String,
    },
    /// Move a handset (MAC or Phone ID) to another site; no number may be logged in to it
    Move {
        #[command(flatten)]
        tenant: TenantArg,
        handset: String,
        #[arg(long)]
        site: String,
    },
    /// Move a handset (by MAC) to another tenant, e.g. to undo a wrongful claim; numbers logged
    /// in to it stay with their tenant and are logged out
    MoveTenant {
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
        mac: String,
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
            ("listen.admin", &args.admin),
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
        return certs(cmd, &settings, Output { json: cli.json }).await;
    }
    if let Command::CheckTemplates = &cli.command {
        return check_templates(&settings, Output { json: cli.json });
    }
    let app = App::open(settings).await?;
    // The CLI's writes are recorded in the audit trail as the operating-system user's.
    let actor = format!("cli:{}", autoprov::config::operator_name());
    let acting = app.admin.acting(&actor);
    let admin = &acting;
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
            first_contact_networks,
            first_contact_hours,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let s = admin
                .site_trust(
                    tenant.id,
                    site.as_deref(),
                    &allowed_networks,
                    &first_contact_networks,
                    first_contact_hours,
                )
                .await?;
            let list = |networks: &[ipnet::IpNet]| {
                networks
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.one(
                &s,
                format!(
                    "site {}: allowed networks [{}], first contact from [{}], first-contact window {} h",
                    s.name,
                    list(&s.allowed_networks),
                    if s.first_contact_networks.is_empty() {
                        "anywhere".to_owned()
                    } else {
                        list(&s.first_contact_networks)
                    },
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
        Command::Number(NumberCmd::List {
            tenant,
            site,
            search,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let query = autoprov::admin::NumberQuery { site, search };
            let list = admin.number_views(tenant.id, &query).await?;
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
        Command::Number(cmd) => number_command(admin, &out, cmd).await?,
        Command::Blf(cmd) => blf_command(admin, &out, cmd).await?,
        Command::Licence(LicenceCmd::List { tenant }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let pools = admin.licence_pools(tenant.id).await?;
            out.list(&pools, pool_line);
        }
        Command::Licence(LicenceCmd::Set {
            tenant,
            kind,
            total,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let pools = admin.licence_pool_set(tenant.id, &kind, total).await?;
            out.list(&pools, pool_line);
        }
        Command::Trunk(TrunkCmd::Add { tenant, site, name }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let t = admin.trunk_add(tenant.id, &site, &name).await?;
            out.one(&t, format!("trunk {} added (id {})", t.name, t.id));
        }
        Command::Trunk(TrunkCmd::List { tenant, site }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.trunks(tenant.id, &site).await?;
            out.list(&list, |t| format!("{}\t{}", t.id, t.name));
        }
        Command::Audit {
            tenant,
            actor,
            entity,
            entity_id,
            action,
            limit,
            offset,
        } => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let filter = autoprov::store::AuditFilter {
                actor,
                entity,
                entity_id,
                action,
                since: None,
                until: None,
                limit,
                offset,
            };
            let (entries, _) = admin.audit(Some(tenant.id), &filter).await?;
            out.list(&entries, |e| {
                format!(
                    "{}\t{}\t{}\t{} {}\t{}",
                    e.id,
                    timestamp(e.at),
                    e.actor.as_deref().unwrap_or("-"),
                    e.entity,
                    e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
                    e.action
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
            mobile,
            contract,
            licences,
            trunk,
        }) => {
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
        Command::User(UserCmd::Update {
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
        }) => {
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
            let u = admin.user_update(tenant.id, user.id, &input).await?;
            out.one(
                &u,
                format!("user {} updated (id {})", u.display_name(), u.id),
            );
        }
        Command::User(UserCmd::AppRegistered {
            tenant,
            user,
            login,
        }) => {
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
        Command::User(UserCmd::Licences { tenant, user, set }) => {
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
        Command::User(UserCmd::DevicePasswords {
            tenant,
            users,
            password,
            csv,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let mut chosen = Vec::new();
            if users.is_empty() {
                for u in admin.user_list(tenant.id).await? {
                    if u.number.is_some() && u.state != autoprov::model::UserState::Pending {
                        chosen.push(u);
                    }
                }
            } else {
                for key in &users {
                    chosen.push(admin.user(tenant.id, key).await?);
                }
            }
            let ids: Vec<_> = chosen.iter().map(|u| u.id).collect();
            let done = admin
                .users_device_passwords(tenant.id, &ids, password.as_deref())
                .await?;
            let rows: Vec<(String, String, autoprov::admin::LoginDetails)> = done
                .into_iter()
                .filter_map(|(id, d)| {
                    chosen
                        .iter()
                        .find(|u| u.id == id)
                        .map(|u| (u.first_name.to_string(), u.last_name.to_string(), d))
                })
                .collect();
            if let Some(path) = csv {
                let text = autoprov::admin::login_details_csv(
                    rows.iter().map(|(f, l, d)| (f.as_str(), l.as_str(), d)),
                )?;
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
            let details: Vec<_> = rows.iter().map(|(_, _, d)| d.clone()).collect();
            out.list(&details, |d| {
                format!(
                    "{}\t{}\t{}\t{}",
                    d.number, d.phone_id, d.sip_user, d.sip_password
                )
            });
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
                format!(
                    "device {} ({} {}) added, Phone ID {}",
                    d.mac, d.family, d.model, d.phone_id
                ),
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
            additional_line,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let target = autoprov::admin::LoginTarget {
                handset: mac,
                additional_line,
            };
            let r = admin.number_login(tenant.id, &number, &target).await?;
            out.one(&r, login_text(&r));
        }
        Command::Device(DeviceCmd::Show { tenant, handset }) => {
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
        Command::Device(DeviceCmd::Move {
            tenant,
            handset,
            site,
        }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let d = admin.device_move(tenant.id, &handset, &site).await?;
            out.one(&d, format!("device {} moved to site {site}", d.phone_id));
        }
        Command::Device(DeviceCmd::MoveTenant {
            mac,
            to_tenant,
            site,
        }) => {
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
        Command::Device(DeviceCmd::Reserve { tenant, macs }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_reserve(tenant.id, &macs).await?;
            out.list(&list, |r| {
                format!("{}\treserved for {}", r.mac, tenant.name)
            });
        }
        Command::Device(DeviceCmd::Reservations { tenant }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_reservations(tenant.id).await?;
            out.list(&list, |r| format!("{}\t{}", r.mac, timestamp(r.created_at)));
        }
        Command::Device(DeviceCmd::Release { tenant, mac }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            admin.device_release(tenant.id, &mac).await?;
            out.one(
                &serde_json::json!({ "released": mac }),
                format!("MAC {mac} released"),
            );
        }
        Command::Device(DeviceCmd::List { tenant }) => {
            let tenant = admin.tenant(&tenant.tenant).await?;
            let list = admin.device_list(tenant.id).await?;
            out.list(&list, |d| {
                format!("{}\t{}\t{} {}", d.phone_id, d.mac, d.family, d.model)
            });
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
                write_stdout(preview.body.as_bytes());
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

async fn certs(cmd: &CertsCmd, settings: &Settings, out: Output) -> anyhow::Result<()> {
    use autoprov::certs::{describe, LocalPaths, Renew};
    match cmd {
        CertsCmd::Init { force, replace } => {
            let renew = match (replace, force) {
                (true, _) => Renew::Ca,
                (false, true) => Renew::ServerCert,
                (false, false) => Renew::Missing,
            };
            // The store holds the fingerprint of the CA phones trust; the templates are not
            // needed, so no whole `App`.
            let store = App::open_store(settings).await?;
            let made = autoprov::app::local_certs(&store, settings, renew).await;
            store.close().await;
            let local = made?;
            let paths = &local.paths;
            let info = describe(&paths.cert)?;
            out.one(
                &info,
                format!(
                    "server certificate {} for {}\nCA certificate for phones: {} (SHA-256 {}, \
                     recorded in the store)",
                    paths.cert.display(),
                    info.names.join(", "),
                    paths.ca.display(),
                    local.ca_sha256
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
                write_stdout(pem.as_bytes());
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
            emit(&serde_json::to_string(value).unwrap_or_default());
        } else if !human.is_empty() {
            emit(&human);
        }
    }

    fn list<T: Serialize>(&self, values: &[T], human: impl Fn(&T) -> String) {
        if self.json {
            emit(&serde_json::to_string(values).unwrap_or_default());
        } else {
            for v in values {
                emit(&human(v));
            }
        }
    }
}

/// Writes a line to stdout. A reader that went away (`autoprov device list | head -1`) ends
/// the command quietly, as it does for other Unix tools, instead of a panic; the command's
/// writes are done by then, since output comes after them.
fn emit(line: &str) {
    write_stdout(format!("{line}\n").as_bytes());
}

fn write_stdout(bytes: &[u8]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: writing to stdout: {e}");
            std::process::exit(1);
        }
    }
}

fn timestamp(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// NAME=VALUE pairs as a JSON merge patch: a value that parses as JSON is taken as such
/// (`true`, `3`, `"x"`), anything else as text; an empty value clears the setting.
fn settings_patch(pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{pair:?}: write NAME=VALUE"))?;
        let value = match value.trim() {
            "" => serde_json::Value::Null,
            v => serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into())),
        };
        map.insert(name.trim().to_owned(), value);
    }
    Ok(serde_json::Value::Object(map))
}

fn pool_line(p: &autoprov::store::LicencePool) -> String {
    format!(
        "{}\ttotal {}\tassigned {}\tavailable {}",
        p.kind, p.total, p.assigned, p.available
    )
}

/// Login details, shown once to the admin who made them.
fn login_text(d: &autoprov::admin::LoginDetails) -> String {
    format!(
        "{} logged in to {} ({}) as account {}\nlogin details (shown once): SIP user {}, password {}",
        d.number, d.phone_id, d.mac, d.position, d.sip_user, d.sip_password
    )
}

async fn number_command(
    admin: &autoprov::admin::Admin,
    out: &Output,
    cmd: NumberCmd,
) -> anyhow::Result<()> {
    let show = |n: &autoprov::model::Number, what: &str| {
        out.one(n, format!("{} {what}", n.e164));
    };
    match cmd {
        NumberCmd::Add { .. } | NumberCmd::List { .. } => unreachable!("handled by the caller"),
        NumberCmd::Status {
            tenant,
            number,
            status,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let n = admin.number_set_status(t.id, &number, &status).await?;
            show(&n, &format!("is {}", n.status));
        }
        NumberCmd::Assign {
            tenant,
            number,
            user,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let u = admin.user(t.id, &user).await?;
            let n = admin.number_assign(t.id, &number, u.id).await?;
            show(&n, &format!("assigned to {}", u.display_name()));
        }
        NumberCmd::Unassign { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
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
            let n = if set.is_empty() {
                admin.number(t.id, &number).await?
            } else {
                admin
                    .number_features(t.id, &number, &settings_patch(&set)?)
                    .await?
            };
            out.one(
                &n.features,
                serde_json::to_string_pretty(&n.features).unwrap_or_default(),
            );
        }
        NumberCmd::ResetPin { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let n = admin.number_reset_pin(t.id, &number).await?;
            show(&n, &format!("PIN reset to its default {}", n.default_pin));
        }
        NumberCmd::VerifyPin {
            tenant,
            number,
            pin,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            admin.number_verify_pin(t.id, &number, &pin).await?;
            out.one(&serde_json::json!({ "pin": "ok" }), "PIN is right".into());
        }
        NumberCmd::Login {
            tenant,
            number,
            handset,
            additional_line,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let target = autoprov::admin::LoginTarget {
                handset,
                additional_line,
            };
            let d = admin.number_login(t.id, &number, &target).await?;
            out.one(&d, login_text(&d));
        }
        NumberCmd::Logout { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let n = admin.number_logout(t.id, &number).await?;
            show(&n, "logged out");
        }
        NumberCmd::LoginDetails { tenant, number } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let d = admin.number_new_login_details(t.id, &number).await?;
            out.one(&d, login_text(&d));
        }
    }
    Ok(())
}

async fn blf_command(
    admin: &autoprov::admin::Admin,
    out: &Output,
    cmd: BlfCmd,
) -> anyhow::Result<()> {
    match cmd {
        BlfCmd::Grant {
            tenant,
            watched,
            watcher,
        } => {
            let t = admin.tenant(&tenant.tenant).await?;
            let watched = admin.user(t.id, &watched).await?;
            let watcher = match watcher {
                Some(w) => Some(admin.user(t.id, &w).await?.id),
                None => None,
            };
            let g = admin.blf_grant(t.id, watched.id, watcher).await?;
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
