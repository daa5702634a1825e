//! `autoprov site`: a tenant's sites.

use autoprov::admin::{Admin, SiteInput, SiteUpdate};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum SiteCmd {
    /// Add a site to a tenant
    Add(AddArgs),
    /// Set who at a site may fetch without credentials
    Trust(TrustArgs),
    /// List a tenant's sites
    List(TenantArg),
    /// Change a site's name, time zone, NTP server or SIP settings
    Update(UpdateArgs),
    /// Remove a site (refused while it holds numbers or devices)
    Remove(RemoveArgs),
}

#[derive(Args, Debug)]
pub(super) struct UpdateArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Site id or name
    site: String,
    /// A new name (unique in the tenant)
    #[arg(long)]
    name: Option<String>,
    /// IANA time zone, e.g. Europe/Berlin
    #[arg(long)]
    time_zone: Option<String>,
    /// NTP server
    #[arg(long)]
    ntp_server: Option<String>,
    /// SIP registrar domain or address
    #[arg(long)]
    sip_domain: Option<String>,
    /// Outbound proxy ("" clears it)
    #[arg(long)]
    sip_proxy: Option<String>,
    /// Registrar port
    #[arg(long)]
    sip_port: Option<u16>,
    /// udp, tcp or tls
    #[arg(long)]
    sip_transport: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct RemoveArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Site id or name
    site: String,
}

// The argument structs carry no doc comment: clap would take it for the subcommand's about.

#[derive(Args, Debug)]
pub(super) struct AddArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The site's name (unique in the tenant)
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
}

#[derive(Args, Debug)]
pub(super) struct TrustArgs {
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
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: SiteCmd) -> anyhow::Result<()> {
    match cmd {
        SiteCmd::Add(args) => add(admin, out, args).await,
        SiteCmd::Trust(args) => trust(admin, out, args).await,
        SiteCmd::List(args) => list(admin, out, args).await,
        SiteCmd::Update(args) => update(admin, out, args).await,
        SiteCmd::Remove(args) => {
            let tenant = admin.tenant(&args.tenant.tenant).await?;
            admin.site_remove(tenant.id, &args.site).await?;
            out.one(
                &serde_json::json!({ "removed": args.site }),
                format!("site {} removed", args.site),
            );
            Ok(())
        }
    }
}

async fn add(admin: &Admin, out: &Output, args: AddArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let input = SiteInput {
        name: args.name,
        time_zone: args.time_zone,
        ntp_server: args.ntp_server,
        sip_domain: args.sip_domain,
        sip_proxy: args.sip_proxy,
        sip_port: args.sip_port,
        sip_transport: args.sip_transport,
        allowed_networks: args.allowed_networks,
        first_contact_hours: args.first_contact_hours,
    };
    let s = admin.site_add(tenant.id, &input).await?;
    out.one(
        &s,
        format!("site {} added to {} (id {})", s.name, tenant.name, s.id),
    );
    Ok(())
}

async fn trust(admin: &Admin, out: &Output, args: TrustArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let s = admin
        .site_trust(
            tenant.id,
            args.site.as_deref(),
            &args.allowed_networks,
            &args.first_contact_networks,
            args.first_contact_hours,
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
    Ok(())
}

async fn list(admin: &Admin, out: &Output, args: TenantArg) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant).await?;
    let list = admin.site_list(tenant.id).await?;
    out.list(&list, |s| {
        format!("{}\t{}\t{}\t{}", s.id, s.name, s.time_zone, s.sip.domain)
    });
    Ok(())
}

async fn update(admin: &Admin, out: &Output, args: UpdateArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let change = SiteUpdate {
        name: args.name,
        time_zone: args.time_zone,
        ntp_server: args.ntp_server,
        sip_domain: args.sip_domain,
        sip_proxy: args.sip_proxy,
        sip_port: args.sip_port,
        sip_transport: args.sip_transport,
    };
    let s = admin.site_update(tenant.id, &args.site, &change).await?;
    out.one(
        &s,
        format!(
            "site {}: {}, NTP {}, SIP {}:{} over {}",
            s.name, s.time_zone, s.ntp_server, s.sip.domain, s.sip.port, s.sip.transport
        ),
    );
    Ok(())
}
