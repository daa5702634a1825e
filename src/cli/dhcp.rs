//! `autoprov dhcp-config`: DHCP server configuration that points each phone family here.

use std::net::{IpAddr, Ipv4Addr};

use autoprov::render::{dhcp_config, DhcpFormat, DhcpScope, Endpoints};
use autoprov::App;
use clap::Args;

#[derive(Args, Debug)]
pub(super) struct DhcpArgs {
    /// dnsmasq, kea or isc
    #[arg(long)]
    format: String,
    /// Tenant id or name of --site
    #[arg(long, requires = "site")]
    tenant: Option<String>,
    /// Only this site's networks (its first-contact networks, else its allowed networks)
    #[arg(long, requires = "tenant")]
    site: Option<String>,
    /// The TFTP server's IPv4 address for option 150 [default: from the public URL or --tftp]
    #[arg(long)]
    server_ip: Option<Ipv4Addr>,
}

pub(super) async fn run(app: &App, args: DhcpArgs) -> anyhow::Result<()> {
    let format: DhcpFormat = args.format.parse()?;
    let settings = &app.settings;
    if settings.public_url_is_local_guess() {
        eprintln!(
            "warning: provisioning.public_url is a guess ({}); phones elsewhere cannot reach it: \
             set it to the address phones use",
            settings.public_url
        );
    }
    let http = settings.public_url.trim_end_matches('/').to_owned();
    let https = settings
        .https_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| http.clone());
    let endpoints = Endpoints {
        tftp_ip: args.server_ip.or_else(|| server_ip(app)),
        tftp_port: settings.tftp.map_or(69, |a| a.port()),
        http,
        https,
    };
    let scope = match (&args.tenant, &args.site) {
        (Some(t), Some(s)) => {
            let tenant = app.admin.tenant(t).await?;
            let site = app.admin.site(tenant.id, Some(s)).await?;
            let networks = if site.first_contact_networks.is_empty() {
                &site.allowed_networks
            } else {
                &site.first_contact_networks
            };
            Some(DhcpScope {
                name: site.name.clone(),
                networks: networks
                    .iter()
                    .filter_map(|n| match n {
                        ipnet::IpNet::V4(v4) => Some(*v4),
                        ipnet::IpNet::V6(_) => None,
                    })
                    .collect(),
            })
        }
        _ => None,
    };
    let text = dhcp_config(&app.catalog, format, &endpoints, scope.as_ref())?;
    super::write_stdout(text.as_bytes());
    Ok(())
}

/// The TFTP listener's own IPv4 address, else the public URL's host when it is one.
fn server_ip(app: &App) -> Option<Ipv4Addr> {
    if let Some(IpAddr::V4(ip)) = app.settings.tftp.map(|a| a.ip()) {
        if !ip.is_unspecified() {
            return Some(ip);
        }
    }
    let rest = app.settings.public_url.split("://").nth(1)?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    host.parse().ok()
}
