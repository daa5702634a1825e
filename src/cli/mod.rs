//! Command-line interface: `serve` and the admin commands (the README lists them). Admin
//! commands go through `autoprov::admin`, straight to the store, so they work with the server
//! stopped or running (a running server sees the change within `store.poll_ms`). Every command
//! takes `--json`.
//!
//! This file holds the parser's top level, settings and logging, the output helpers and the
//! dispatch; each command group's subcommands and their handling are in a module of their own.

#![allow(clippy::print_stdout)]

mod audit;
mod blf;
mod certs;
mod device;
mod dhcp;
mod directory;
mod group;
mod import;
mod licence;
mod number;
mod pickpark;
mod portal_user;
mod rollout;
mod schedule;
mod serve;
mod shared;
mod site;
mod templates;
mod tenant;
mod token;
mod trunk;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use autoprov::config::{self, LogFormat, Settings, Sources};
use autoprov::App;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

/// The heading the options every command takes stand under in `--help`.
const GLOBAL: &str = "Global options";

#[derive(Parser, Debug)]
#[command(
    name = "autoprov",
    version,
    about = "Provisioning server for SIP desk phones"
)]
struct Cli {
    /// Data folder (SQLite file, generated certificates, static files) [default: ./data]
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    data: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: sqlite://<data>/autoprov.db]
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    database: Option<String>,
    /// TOML configuration file
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    config: Option<PathBuf>,
    /// Log format: human or json
    #[arg(long, global = true, value_name = "FORMAT", help_heading = GLOBAL)]
    log_format: Option<String>,
    /// Machine-readable output
    #[arg(long, global = true, help_heading = GLOBAL)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server
    Serve(serve::ServeArgs),
    /// Tenants (organisations)
    #[command(subcommand)]
    Tenant(tenant::TenantCmd),
    /// A tenant's sites
    #[command(subcommand)]
    Site(site::SiteCmd),
    /// Phone numbers
    #[command(subcommand)]
    Number(number::NumberCmd),
    /// Users
    #[command(subcommand)]
    User(user::UserCmd),
    /// Handsets
    #[command(subcommand)]
    Device(device::DeviceCmd),
    /// The local CA and HTTPS server certificate
    #[command(subcommand)]
    Certs(certs::CertsCmd),
    /// API tokens
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Web portal accounts
    #[command(subcommand)]
    PortalUser(portal_user::PortalUserCmd),
    /// BLF permissions: who may be monitored by whom
    #[command(subcommand)]
    Blf(blf::BlfCmd),
    /// A tenant's licence pools
    #[command(subcommand)]
    Licence(licence::LicenceCmd),
    /// Sites' trunks
    #[command(subcommand)]
    Trunk(trunk::TrunkCmd),
    /// Call pickup groups
    #[command(subcommand)]
    PickupGroup(pickpark::PickupCmd),
    /// Call park groups and their slots
    #[command(subcommand)]
    ParkGroup(pickpark::ParkCmd),
    /// Schedules: opening hours and holiday lists
    #[command(subcommand)]
    Schedule(schedule::ScheduleCmd),
    /// Group night forwarding of a tenant or site
    #[command(subcommand)]
    NightService(schedule::NightCmd),
    /// The phone directory's own entries (people and companies with a number)
    #[command(subcommand)]
    Directory(directory::DirectoryCmd),
    /// Import a CSV file of devices, users, numbers, speed-dials or directory: every row or none
    Import(import::ImportArgs),
    /// Export a tenant's devices, users, numbers or speed-dials as CSV (what `import` takes)
    Export(import::ExportArgs),
    /// Hunt groups: calls to one number shared by agents
    #[command(subcommand)]
    HuntGroup(group::GroupCmd),
    /// Call centres: hunt groups with a queue and supervisors
    #[command(subcommand)]
    CallCentre(group::GroupCmd),
    /// Virtual users: extensions that dial an external number
    #[command(subcommand)]
    VirtualUser(shared::VirtualUserCmd),
    /// Collaborate bridges: the dial-in numbers of MyRoom conferences
    #[command(subcommand)]
    Bridge(shared::BridgeCmd),
    /// Every extension and number of a tenant, its owner and how calls are handled
    Dialplan(TenantArg),
    /// The audit trail of a tenant, newest first
    Audit(audit::AuditArgs),
    /// Render every family's files against a sample device and parse them; report what is
    /// broken (with the operator's overrides, if configured)
    CheckTemplates,
    /// Print what a phone would receive
    Render(templates::RenderArgs),
    /// List the phone models the device templates know
    Models(rollout::ModelsArgs),
    /// Which phones of a rollout have arrived
    #[command(subcommand)]
    Rollout(rollout::RolloutCmd),
    /// Bring the database schema up to date (on PostgreSQL nodes never do it on their own
    /// start); prints the version before and after
    Migrate,
    /// Print DHCP server configuration (options 66/67, 43, 150, 160 and vendor classes) that
    /// points each phone family at this server
    DhcpConfig(dhcp::DhcpArgs),
}

#[derive(Args, Debug)]
struct TenantArg {
    /// Tenant id or name
    #[arg(long)]
    tenant: String,
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let (settings, logging) = match settings(&cli) {
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
    match runtime.block_on(execute(cli, settings, logging.access.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(json, &e),
    }
}

fn fail(json: bool, e: &anyhow::Error) -> ExitCode {
    let text = chain(e);
    if json {
        let body = serde_json::json!({ "error": text });
        eprintln!("{body}");
    } else {
        eprintln!("error: {text}");
    }
    ExitCode::FAILURE
}

/// The error and its causes, `: `-separated, each once: a cause whose text the error before it
/// already ends with (ours show their cause, as sqlx's do) is not repeated.
fn chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Loads settings and starts logging (serve logs at info, admin commands at warn). The returned
/// guard flushes the log writer when dropped at exit.
/// The log's writers, kept for as long as the process logs; fields drop in order, so the
/// access lines are handed over before the writer's thread stops.
struct Logging {
    access: autoprov::http::access::AccessLog,
    _flusher: Option<autoprov::http::access::Flusher>,
    _writer: tracing_appender::non_blocking::WorkerGuard,
}

fn settings(cli: &Cli) -> anyhow::Result<(Settings, Logging)> {
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
        if args.migrate {
            flags.push(("store.migrate", "true".to_owned()));
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
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The phone path's access lines, in the same layout, go to the same writer in batches
    // (`http::access`); on a terminal, with colours, they stay `tracing` events.
    let (access, flusher) = if terminal {
        (Default::default(), None)
    } else {
        let json = matches!(settings.log_format, LogFormat::Json);
        let (access, flusher) = autoprov::http::access::AccessLog::direct(writer.clone(), json)?;
        (access, Some(flusher))
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(terminal)
        .with_writer(writer);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let logging = Logging {
        access,
        _flusher: flusher,
        _writer: guard,
    };
    Ok((settings, logging))
}

async fn execute(
    cli: Cli,
    settings: Settings,
    access: autoprov::http::access::AccessLog,
) -> anyhow::Result<()> {
    let out = Output { json: cli.json };
    match cli.command {
        Command::Serve(_) => serve::run(settings, access).await,
        Command::Migrate => serve::migrate(&settings, &out).await,
        Command::Certs(cmd) => certs::run(&cmd, &settings, &out).await,
        Command::CheckTemplates => templates::check(&settings, &out),
        Command::Tenant(cmd) => {
            session(settings, async |s| tenant::run(&s.admin, &out, cmd).await).await
        }
        Command::Site(cmd) => {
            session(settings, async |s| site::run(&s.admin, &out, cmd).await).await
        }
        Command::Number(cmd) => {
            session(settings, async |s| number::run(&s.admin, &out, cmd).await).await
        }
        Command::User(cmd) => {
            session(settings, async |s| user::run(&s.admin, &out, cmd).await).await
        }
        Command::Device(cmd) => {
            session(settings, async |s| {
                device::run(&s.admin, &s.app, &out, cmd).await
            })
            .await
        }
        Command::Import(args) => {
            session(settings, async |s| {
                import::import(&s.admin, &out, args).await
            })
            .await
        }
        Command::Export(args) => {
            session(settings, async |s| import::export(&s.admin, args).await).await
        }
        Command::Audit(args) => {
            session(settings, async |s| audit::run(&s.admin, &out, args).await).await
        }
        Command::Token(cmd) => {
            session(settings, async |s| token::run(&s.admin, &out, cmd).await).await
        }
        Command::PortalUser(cmd) => {
            session(settings, async |s| {
                portal_user::run(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::Blf(cmd) => session(settings, async |s| blf::run(&s.admin, &out, cmd).await).await,
        Command::Licence(cmd) => {
            session(settings, async |s| licence::run(&s.admin, &out, cmd).await).await
        }
        Command::Trunk(cmd) => {
            session(settings, async |s| trunk::run(&s.admin, &out, cmd).await).await
        }
        Command::PickupGroup(cmd) => {
            session(settings, async |s| {
                pickpark::run_pickup(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::ParkGroup(cmd) => {
            session(settings, async |s| {
                pickpark::run_park(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::Schedule(cmd) => {
            session(settings, async |s| schedule::run(&s.admin, &out, cmd).await).await
        }
        Command::NightService(cmd) => {
            session(settings, async |s| {
                schedule::run_night(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::Directory(cmd) => {
            session(settings, async |s| {
                directory::run(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::HuntGroup(cmd) => {
            let kind = autoprov::model::OwnerKind::HuntGroup;
            session(settings, async |s| {
                group::run(&s.admin, &out, kind, cmd).await
            })
            .await
        }
        Command::CallCentre(cmd) => {
            let kind = autoprov::model::OwnerKind::CallCentre;
            session(settings, async |s| {
                group::run(&s.admin, &out, kind, cmd).await
            })
            .await
        }
        Command::VirtualUser(cmd) => {
            session(settings, async |s| {
                shared::virtual_user(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::Bridge(cmd) => {
            session(settings, async |s| {
                shared::bridge(&s.admin, &out, cmd).await
            })
            .await
        }
        Command::Dialplan(args) => {
            session(settings, async |s| {
                shared::dialplan(&s.admin, &out, args).await
            })
            .await
        }
        Command::Models(args) => {
            session(settings, async |s| rollout::models(&s.admin, &out, args)).await
        }
        Command::Rollout(cmd) => {
            session(settings, async |s| rollout::run(&s.admin, &out, cmd).await).await
        }
        Command::DhcpConfig(args) => {
            session(settings, async |s| dhcp::run(&s.app, args).await).await
        }
        Command::Render(args) => {
            session(settings, async |s| {
                templates::render(&s.app, &out, args).await
            })
            .await
        }
    }
}

/// Runs an admin command on an opened `Session`, and closes it after success.
async fn session(
    settings: Settings,
    command: impl AsyncFnOnce(&Session) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let session = Session::open(settings).await?;
    let result = command(&session).await;
    session.finish(result).await
}

/// What an admin command works on: the opened `App` and an `Admin` acting as the operator.
struct Session {
    admin: autoprov::admin::Admin,
    app: App,
}

impl Session {
    async fn open(settings: Settings) -> anyhow::Result<Session> {
        let app = App::open(settings).await?;
        // The CLI's writes are recorded in the audit trail as the operating-system user's.
        let actor = format!("cli:{}", autoprov::config::operator_name());
        let admin = app.admin.acting(&actor);
        Ok(Session { admin, app })
    }

    /// Closes the store after a command that succeeded; a failed one returns its error as is.
    async fn finish(self, result: anyhow::Result<()>) -> anyhow::Result<()> {
        result?;
        self.app.store.close().await;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_cause_shown_by_its_error_is_not_repeated() {
        let e = anyhow::Error::from(autoprov::Error::store(
            "cannot open the database",
            std::io::Error::other("permission denied"),
        ))
        .context("opening the store");
        assert_eq!(
            super::chain(&e),
            "opening the store: store: cannot open the database: permission denied"
        );
    }

    /// Every argument of every command, with the path of commands to it.
    fn arguments(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for arg in cmd.get_arguments() {
            out.push((path.to_owned(), arg.clone()));
        }
        for sub in cmd.get_subcommands() {
            arguments(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_has_a_one_line_description_and_global_options_stand_apart() {
        let mut cli = Cli::command();
        cli.build();
        let mut all = Vec::new();
        arguments(&cli, "autoprov", &mut all);
        let mut wrong = Vec::new();
        for (path, arg) in &all {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if help.is_empty() || help.contains('\n') {
                wrong.push(format!("{path} {}: no one-line description", arg.get_id()));
            }
            let global = ["data", "database", "config", "log_format", "json"]
                .contains(&arg.get_id().as_str());
            if global != (arg.get_help_heading() == Some(GLOBAL)) {
                wrong.push(format!(
                    "{path} {}: heading {:?}",
                    arg.get_id(),
                    arg.get_help_heading()
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
