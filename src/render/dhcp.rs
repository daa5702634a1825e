//! DHCP server configuration that makes each family's phones find this server
//! (`autoprov dhcp-config`): the families' `[dhcp]` manifest sections — which vendor class
//! (option 60) is theirs and which options carry this server's URLs — written for dnsmasq, Kea
//! or ISC dhcpd. Pure text; what the options say is the manifests', not code.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::{Catalog, DhcpSpec};
use crate::error::{Error, Result};

/// The DHCP server the output is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhcpFormat {
    Dnsmasq,
    Kea,
    Isc,
}

impl std::str::FromStr for DhcpFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<DhcpFormat> {
        match s.to_ascii_lowercase().as_str() {
            "dnsmasq" => Ok(DhcpFormat::Dnsmasq),
            "kea" => Ok(DhcpFormat::Kea),
            "isc" | "dhcpd" => Ok(DhcpFormat::Isc),
            _ => Err(Error::invalid(
                "format",
                format!("{s:?} is not one of: dnsmasq, kea, isc"),
            )),
        }
    }
}

/// Where phones reach this server.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// The provisioning URL over HTTP, without a trailing `/`.
    pub http: String,
    pub https: String,
    /// The TFTP server's IPv4 address, when known (option 150 needs one).
    pub tftp_ip: Option<Ipv4Addr>,
    pub tftp_port: u16,
}

/// A site the output is limited to: its name and its IPv4 networks.
#[derive(Clone, Debug)]
pub struct DhcpScope {
    pub name: String,
    pub networks: Vec<ipnet::Ipv4Net>,
}

/// One option of one family, its value expanded.
struct Opt {
    code: u8,
    value: String,
}

/// A family's class and options.
struct Class {
    name: String,
    vendor_classes: Vec<String>,
    options: Vec<Opt>,
}

/// The configuration for `format`, for every family with a `[dhcp]` section.
pub fn dhcp_config(
    catalog: &Catalog,
    format: DhcpFormat,
    endpoints: &Endpoints,
    scope: Option<&DhcpScope>,
) -> Result<String> {
    let prefix = scope
        .map(|s| format!("{}-", tag(&s.name)))
        .unwrap_or_default();
    let mut classes = Vec::new();
    for family in catalog.families() {
        let spec: &DhcpSpec = &family.manifest.dhcp;
        if spec.options.is_empty() {
            continue;
        }
        let mut options = Vec::new();
        for (code, value) in &spec.options {
            let code: u8 = code
                .parse()
                .ok()
                .filter(|c| (1..=254).contains(c))
                .ok_or_else(|| {
                    Error::Config(format!(
                        "{}: DHCP option {code:?} is not a number from 1 to 254",
                        family.manifest.family
                    ))
                })?;
            options.push(Opt {
                code,
                value: expand(value, endpoints, &family.manifest.family)?,
            });
        }
        classes.push(Class {
            name: format!("{prefix}{}", family.manifest.family),
            vendor_classes: spec.vendor_classes.clone(),
            options,
        });
    }
    Ok(match format {
        DhcpFormat::Dnsmasq => dnsmasq(&classes, scope),
        DhcpFormat::Kea => kea(&classes, scope),
        DhcpFormat::Isc => isc(&classes, scope),
    })
}

/// The value with this server's addresses put in; text the phone expands itself (`{mac}`,
/// `$MA`) stays.
fn expand(value: &str, endpoints: &Endpoints, family: &str) -> Result<String> {
    let mut out = value
        .replace("{http}", &endpoints.http)
        .replace("{https}", &endpoints.https);
    if out.contains("{tftp_ip}") || out.contains("{tftp}") {
        let ip = endpoints.tftp_ip.ok_or_else(|| {
            Error::invalid(
                "server_ip",
                format!(
                    "{family} phones need the TFTP server's IPv4 address: give --server-ip \
                     (the public URL names no IPv4 address)"
                ),
            )
        })?;
        out = out
            .replace("{tftp_ip}", &ip.to_string())
            .replace("{tftp}", &format!("tftp://{ip}:{}", endpoints.tftp_port));
    }
    Ok(out)
}

/// Option 150 is a list of addresses; every other option here is text.
fn is_address(code: u8) -> bool {
    code == 150
}

/// A name usable as a dnsmasq tag or Kea/ISC class name.
fn tag(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dnsmasq(classes: &[Class], scope: Option<&DhcpScope>) -> String {
    let mut out = String::from("# autoprov: point each phone family at this server (dnsmasq)\n");
    let site = scope.map(|s| tag(&s.name));
    if let (Some(scope), Some(site)) = (scope, &site) {
        for net in &scope.networks {
            let _ = writeln!(
                out,
                "# site {}: {net} — tag its dhcp-range with set:{site}",
                scope.name
            );
        }
    }
    let site_tag = site.map(|s| format!("tag:{s},")).unwrap_or_default();
    for class in classes {
        let _ = writeln!(out, "\n# {}", class.name);
        for vc in &class.vendor_classes {
            let _ = writeln!(out, "dhcp-vendorclass=set:{},{vc}", class.name);
        }
        for opt in &class.options {
            let value = if is_address(opt.code) {
                opt.value.clone()
            } else {
                quoted(&opt.value)
            };
            let _ = writeln!(
                out,
                "dhcp-option={site_tag}tag:{},{},{value}",
                class.name, opt.code
            );
        }
    }
    out
}

fn kea(classes: &[Class], scope: Option<&DhcpScope>) -> String {
    let client_classes: Vec<serde_json::Value> = classes
        .iter()
        .map(|class| {
            let test = class
                .vendor_classes
                .iter()
                .map(|vc| {
                    format!(
                        "substring(option[60].hex,0,{}) == '{}'",
                        vc.len(),
                        vc.replace('\'', "")
                    )
                })
                .collect::<Vec<_>>()
                .join(" or ");
            let data: Vec<serde_json::Value> = class.options.iter().map(kea_option).collect();
            serde_json::json!({ "name": class.name, "test": test, "option-data": data })
        })
        .collect();
    let mut dhcp4 = serde_json::json!({ "client-classes": client_classes });
    if let Some(scope) = scope {
        let subnets: Vec<serde_json::Value> = scope
            .networks
            .iter()
            .enumerate()
            .map(|(i, net)| {
                serde_json::json!({
                    "id": i + 1,
                    "subnet": net.to_string(),
                    "user-context": { "site": scope.name },
                })
            })
            .collect();
        dhcp4["subnet4"] = serde_json::Value::Array(subnets);
    }
    let doc = serde_json::json!({ "Dhcp4": dhcp4 });
    // A tree of strings and numbers always serializes.
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Kea knows 66 and 67 by name; every other option goes as its code with the bytes in hex,
/// which needs no option definition.
fn kea_option(opt: &Opt) -> serde_json::Value {
    match opt.code {
        66 => serde_json::json!({ "name": "tftp-server-name", "data": opt.value }),
        67 => serde_json::json!({ "name": "boot-file-name", "data": opt.value }),
        code => {
            let bytes: Vec<u8> = if is_address(code) {
                opt.value
                    .split(',')
                    .filter_map(|ip| ip.trim().parse::<Ipv4Addr>().ok())
                    .flat_map(|ip| ip.octets())
                    .collect()
            } else {
                opt.value.as_bytes().to_vec()
            };
            serde_json::json!({
                "code": code,
                "space": "dhcp4",
                "csv-format": false,
                "data": hex::encode_upper(bytes),
            })
        }
    }
}

fn isc(classes: &[Class], scope: Option<&DhcpScope>) -> String {
    let mut out = String::from("# autoprov: point each phone family at this server (ISC dhcpd)\n");
    let mut codes: Vec<u8> = classes
        .iter()
        .flat_map(|c| c.options.iter().map(|o| o.code))
        .filter(|c| !matches!(c, 43 | 66 | 67))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for code in &codes {
        let kind = if is_address(*code) {
            "array of ip-address"
        } else {
            "text"
        };
        let _ = writeln!(out, "option autoprov-{code} code {code} = {kind};");
    }
    let mut body = String::new();
    for class in classes {
        let test = class
            .vendor_classes
            .iter()
            .map(|vc| {
                format!(
                    "substring(option vendor-class-identifier, 0, {}) = {}",
                    vc.len(),
                    quoted(vc)
                )
            })
            .collect::<Vec<_>>()
            .join(" or ");
        let _ = writeln!(body, "# {}\nif {test} {{", class.name);
        for opt in &class.options {
            let (name, value) = match opt.code {
                66 => ("tftp-server-name".to_owned(), quoted(&opt.value)),
                67 => ("bootfile-name".to_owned(), quoted(&opt.value)),
                43 => ("vendor-encapsulated-options".to_owned(), quoted(&opt.value)),
                code if is_address(code) => (format!("autoprov-{code}"), opt.value.clone()),
                code => (format!("autoprov-{code}"), quoted(&opt.value)),
            };
            let _ = writeln!(body, "  option {name} {value};");
        }
        body.push_str("}\n");
    }
    match scope {
        Some(scope) if !scope.networks.is_empty() => {
            for net in &scope.networks {
                let _ = writeln!(
                    out,
                    "\n# site {}\nsubnet {} netmask {} {{",
                    scope.name,
                    net.network(),
                    net.netmask()
                );
                for line in body.lines() {
                    let _ = writeln!(out, "  {line}");
                }
                out.push_str("}\n");
            }
        }
        _ => {
            out.push('\n');
            out.push_str(&body);
        }
    }
    out
}
