//! Template checks: every file of every family rendered against a sample device and parsed — XML
//! with quick-xml (well-formed, the vendor's root element), key=value files line by line. Run at
//! start (a broken operator override is reported with its file and line, and the family falls
//! back to the shipped templates) and by `autoprov check-templates`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use quick_xml::events::Event;

use super::context::{FileContext, SharedDirectory};
use super::ProvisionSettings;
use crate::error::{Error, Result};
use crate::model::{
    Bridge, CallGroup, Device, DeviceAccess, DeviceId, DeviceLine, DeviceRecord, DirectoryEntry,
    DirectoryEntryId, FirstName, HuntPolicy, LastName, Mac, NumberId, OwnerKind, PhoneDirectory,
    Secret, SipSettings, Site, SiteId, Tenant, TenantId, Transport, User, UserId, UserState,
    VirtualUser,
};
use crate::render::{Catalog, Format};

/// One thing wrong with a family's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub family: String,
    /// The template (and line, when known) or manifest at fault.
    pub file: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.family, self.file, self.message)
    }
}

/// A device with two lines (one with a user whose name holds XML's special characters), three
/// monitored colleagues (BLF keys) and a directory of five, at a site with daylight saving, TLS
/// and a proxy, with HTTP credentials issued.
pub fn sample_record(model: &str, family: &str) -> Result<DeviceRecord> {
    let tenant = TenantId(1);
    let site = SiteId(1);
    let mac: Mac = "001565000001".parse()?;
    let user = sample_user(tenant)?;
    Ok(DeviceRecord {
        tenant: Tenant {
            id: tenant,
            name: "Sample".into(),
            revision: 1,
        },
        site: sample_site(tenant, site),
        device: Device {
            id: DeviceId(1),
            tenant_id: tenant,
            site_id: site,
            mac,
            family: family.into(),
            model: model.into(),
            phone_id: "D00001".into(),
            admin_password: Secret::new("sample-admin-password-000".into()),
            access: DeviceAccess {
                http_password: Some(Secret::new("sample-http-password-0000".into())),
                ..DeviceAccess::default()
            },
        },
        lines: vec![
            sample_line(1, "+4930123456", Some(user.clone()))?,
            sample_line(2, "+4930123457", None)?,
        ],
        monitors: ["Bob", "Carol", "Dan"]
            .iter()
            .zip(0i64..)
            .map(|(name, i)| {
                let extension = Some(format!("34{}", 57 + i));
                colleague(
                    &user,
                    10 + i,
                    name,
                    extension,
                    &format!("+49301234{}", 57 + i),
                )
            })
            .collect::<Result<_>>()?,
        speed_dials: vec![("Reception".into(), "+4930999".into())],
        pickup_group: Some(crate::model::KeyGroup {
            name: "Front <&> \"desk\"".into(),
            slots: Vec::new(),
        }),
        park_groups: vec![crate::model::KeyGroup {
            name: "Lot 'A' <&>".into(),
            slots: vec!["800".into(), "801".into()],
        }],
    })
}

/// The sample's directory: the device's user and four colleagues (Eve with a number but no
/// extension), a virtual user, a hunt group, a call centre with only an extension, a bridge,
/// a tenant-wide company entry with XML's special characters, an entry of the
/// device's site with a short number, and one of another site that its phones do not show.
pub fn sample_directory(record: &DeviceRecord) -> Result<SharedDirectory> {
    let user = record
        .lines
        .iter()
        .find_map(|l| l.user.clone())
        .ok_or_else(|| Error::invalid("sample", "the sample device has no user"))?;
    let users = std::iter::once(Ok(user.clone()))
        .chain(
            ["Bob", "Carol", "Dan", "Eve"]
                .iter()
                .zip(1i64..)
                .map(|(name, i)| {
                    let extension = (i < 4).then(|| format!("34{}", 56 + i));
                    colleague(
                        &user,
                        20 + i,
                        name,
                        extension,
                        &format!("+49301234{}", 56 + i),
                    )
                }),
        )
        .collect::<Result<_>>()?;
    let entry = |id: i64, site: Option<SiteId>, name: &str, number: &str| DirectoryEntry {
        id: DirectoryEntryId(id),
        tenant_id: record.tenant.id,
        site_id: site,
        first_name: None,
        last_name: None,
        company: Some(name.into()),
        name: name.into(),
        number: number.into(),
    };
    let entries = vec![
        entry(1, None, "Pizza \"Roma\" <&> Ltd", "+4930555111"),
        entry(2, Some(record.site.id), "Front desk", "100"),
        entry(
            3,
            Some(SiteId(record.site.id.0 + 1)),
            "Elsewhere",
            "+4930555999",
        ),
    ];
    let tenant = record.tenant.id;
    let group = |id: i64, kind, name: &str, number: Option<&str>, extension: &str| CallGroup {
        id,
        tenant_id: tenant,
        kind,
        name: name.into(),
        number_id: None,
        number: number.and_then(|n| n.parse().ok()),
        extension: Some(extension.into()),
        policy: HuntPolicy::Circular,
        skip_after_rings: 4,
        forward_to: None,
        voicemail: false,
        voicemail_email: None,
        queue: None,
        agents: Vec::new(),
        supervisors: Vec::new(),
    };
    let directory = PhoneDirectory {
        users,
        virtual_users: vec![VirtualUser {
            id: 1,
            tenant_id: tenant,
            first_name: FirstName::parse("Mobile")?,
            last_name: LastName::parse("Max & <Co>")?,
            external: "+491701234567".parse()?,
            extension: "61".into(),
        }],
        groups: vec![
            group(
                1,
                OwnerKind::HuntGroup,
                "Sales \"A\" & <B>",
                Some("+4930123499"),
                "500",
            ),
            group(2, OwnerKind::CallCentre, "Support", None, "510"),
        ],
        bridges: vec![Bridge {
            id: 1,
            tenant_id: tenant,
            name: "Finance Team Collaborate Bridge".into(),
            number_id: NumberId(99),
            number: "+4930123498".parse()?,
            extension: None,
        }],
        entries,
    };
    Ok(SharedDirectory::build(&directory, record.site.id))
}

/// A line of the sample device.
fn sample_line(position: u16, number: &str, user: Option<User>) -> Result<DeviceLine> {
    let e164: crate::model::E164 = number.parse()?;
    Ok(DeviceLine {
        position,
        number_id: NumberId(i64::from(position)),
        sip_user: e164.digits().to_owned(),
        number: e164,
        sip_password: Secret::new("sample-sip-password-000000".into()),
        label: None,
        user,
    })
}

/// The sample's user, whose name holds XML's special characters.
fn sample_user(tenant: TenantId) -> Result<User> {
    Ok(User {
        id: UserId(1),
        tenant_id: tenant,
        first_name: FirstName::parse("Zoë \"Q\" <&>")?,
        last_name: LastName::parse("O'Brien")?,
        email: None,
        state: UserState::Active,
        number_id: Some(NumberId(1)),
        number: Some("+4930123456".parse()?),
        extension: Some("3456".into()),
        mobile: None,
        contract_number: None,
        app_email: None,
        app_login: None,
        app_invitations: 0,
        trunk_id: None,
        fax_number_id: None,
        number_label: None,
        options: Default::default(),
    })
}

/// Another user of the sample's tenant, as `user` but for the name and numbers.
fn colleague(
    user: &User,
    id: i64,
    first_name: &str,
    extension: Option<String>,
    number: &str,
) -> Result<User> {
    Ok(User {
        id: UserId(id),
        first_name: FirstName::parse(first_name)?,
        last_name: LastName::parse("Example")?,
        extension,
        number: number.parse().ok(),
        ..user.clone()
    })
}

/// The sample's site: daylight saving, TLS and a proxy.
fn sample_site(tenant: TenantId, site: SiteId) -> Site {
    Site {
        id: site,
        tenant_id: tenant,
        name: "HQ".into(),
        time_zone: "Europe/Berlin".into(),
        ntp_server: "pool.ntp.org".into(),
        sip: SipSettings {
            domain: "sip.example.com".into(),
            proxy: Some("proxy.example.com".into()),
            port: 5061,
            transport: Transport::Tls,
        },
        allowed_networks: Vec::new(),
        first_contact_networks: Vec::new(),
        first_contact_hours: 24,
    }
}

/// Renders and parses every file of every family.
pub fn check(catalog: &Catalog, settings: &ProvisionSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, family) in catalog.families().iter().enumerate() {
        let manifest = &family.manifest;
        let model = manifest
            .models
            .first()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "unknown".into());
        let record = match sample_record(&model, &manifest.family) {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(&manifest.family, "sample", e.to_string()));
                continue;
            }
        };
        let device = match sample_directory(&record)
            .and_then(|directory| FileContext::for_device(family, &record, &directory, settings))
        {
            Ok(c) => c,
            Err(e) => {
                problems.push(problem(&manifest.family, "context", e.to_string()));
                continue;
            }
        };
        // The shared file as a phone whose User-Agent gives its MAC gets it, and as one whose
        // User-Agent gives neither model nor MAC.
        let mut shared = FileContext::shared(family, Some(&model), settings);
        shared.requester_mac = device.device.as_ref().map(|d| d.mac.clone());
        let bare = FileContext::shared(family, None, settings);
        for (file_index, spec) in manifest.files.iter().enumerate() {
            let mut renders = Vec::new();
            // A device's file gets the device; a model's file a model; a common file is rendered
            // with and without one (the User-Agent may or may not name it).
            if spec.pattern.contains("?P<group>") {
                // One list of a grouped directory, People's, so its entries are rendered too.
                let grouped = sample_directory(&record)
                    .and_then(|directory| {
                        FileContext::for_device(family, &record, &directory, settings)
                    })
                    .map(|mut context| {
                        context.directory_group = Some(1);
                        context
                    });
                renders.push((
                    spec.template.clone(),
                    grouped.and_then(|context| catalog.render(index, file_index, &context)),
                ));
            } else if spec.pattern.contains("?P<mac>") {
                renders.push((
                    spec.template.clone(),
                    catalog.render(index, file_index, &device),
                ));
            } else {
                renders.push((
                    spec.template.clone(),
                    catalog.render(index, file_index, &shared),
                ));
                if !spec.pattern.contains("?P<model_code>") {
                    renders.push((
                        spec.template.clone(),
                        catalog.render(index, file_index, &bare),
                    ));
                }
            }
            if let (Some(bootstrap), Some(result)) = (
                &spec.bootstrap,
                catalog.render_bootstrap(index, file_index, &bare),
            ) {
                renders.push((bootstrap.clone(), result));
            }
            for (template, result) in renders {
                match result {
                    Ok(text) => {
                        if let Err(message) = parse(&text, spec.format, spec.root.as_deref()) {
                            problems.push(problem(&manifest.family, &template, message));
                        }
                    }
                    Err(Error::Template { name, message }) => {
                        problems.push(problem(&manifest.family, &name, message));
                    }
                    Err(e) => problems.push(problem(&manifest.family, &template, e.to_string())),
                }
            }
        }
        check_screens(catalog, index, &mut problems);
    }
    problems
}

/// The phone service's screens, rendered with text that needs escaping and parsed as XML.
fn check_screens(catalog: &Catalog, family: usize, problems: &mut Vec<Problem>) {
    use crate::render::Screen;
    let manifest = &catalog.family(family).manifest;
    let Some(service) = &manifest.phone_service else {
        return;
    };
    let context = super::ScreenContext {
        url: "https://prov.example.com/x/token/001565000001/login?a=1&b=<2>",
        login_url: "https://prov.example.com/x/token/001565000001/login",
        logout_url: "https://prov.example.com/x/token/001565000001/logout",
        title: "Zoë \"Q\" <&>",
        text: "O'Brien <&> is signed in",
        number: None,
    };
    // Each screen twice: asking for everything, and asking for the PIN of a number typed
    // already (with characters a URL and XML must escape).
    let typed = super::ScreenContext {
        number: Some("+49 <&> 30"),
        ..context
    };
    for (screen, context) in [Screen::Login, Screen::Logout, Screen::Message]
        .into_iter()
        .flat_map(|screen| [(screen, &context), (screen, &typed)])
    {
        let template = service.template(screen);
        let rendered = catalog.render_screen(family, screen, context);
        let message = match rendered {
            Some(Ok(text)) => parse(&text, Format::Xml, None).err(),
            Some(Err(e)) => Some(e.to_string()),
            None => None,
        };
        if let Some(message) = message {
            problems.push(problem(&manifest.family, template, message));
        }
    }
}

fn problem(family: &str, file: &str, message: String) -> Problem {
    Problem {
        family: family.to_owned(),
        file: file.to_owned(),
        message,
    }
}

/// Whether `text` is a well-formed file of `format`.
pub fn parse(text: &str, format: Format, root: Option<&str>) -> std::result::Result<(), String> {
    match format {
        Format::Xml => {
            let mut reader = quick_xml::Reader::from_str(text);
            let mut first: Option<String> = None;
            let mut depth = 0usize;
            loop {
                match reader.read_event() {
                    Ok(Event::Start(e)) => {
                        if depth == 0 && first.is_some() {
                            return Err("more than one root element".into());
                        }
                        depth += 1;
                        first.get_or_insert_with(|| {
                            String::from_utf8_lossy(e.name().as_ref()).into_owned()
                        });
                    }
                    Ok(Event::Empty(e)) => {
                        if depth == 0 && first.is_some() {
                            return Err("more than one root element".into());
                        }
                        first.get_or_insert_with(|| {
                            String::from_utf8_lossy(e.name().as_ref()).into_owned()
                        });
                    }
                    Ok(Event::End(_)) => depth = depth.saturating_sub(1),
                    Ok(Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => {
                        return Err(format!(
                            "not well-formed XML at byte {}: {e}",
                            reader.buffer_position()
                        ))
                    }
                }
            }
            match (first, root) {
                (None, _) => Err("no root element".into()),
                (Some(found), Some(expected)) if found != expected => Err(format!(
                    "root element is <{found}>, the phones expect <{expected}>"
                )),
                _ => Ok(()),
            }
        }
        Format::Kv => {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                let fine = line.is_empty()
                    || line.starts_with('#')
                    || line.starts_with("include:config")
                    || line.split_once('=').is_some_and(|(k, _)| {
                        let k = k.trim();
                        !k.is_empty() && !k.contains(char::is_whitespace)
                    });
                if !fine {
                    return Err(format!("line {} is not `key = value`: {line:?}", n + 1));
                }
            }
            Ok(())
        }
    }
}

/// Loads the templates with the operator's overrides and checks them. A family whose overrides
/// fail is reported and served from the shipped templates instead; if the shipped templates
/// fail, that is an error.
pub fn load_checked(
    shipped: &Path,
    overrides: Option<&Path>,
    settings: &ProvisionSettings,
) -> Result<(Arc<Catalog>, Vec<Problem>)> {
    let mut shipped_only: Vec<String> = Vec::new();
    let mut reported = Vec::new();
    let catalog = match Catalog::load_layers(shipped, overrides, &shipped_only) {
        Ok(c) => c,
        Err(e) if overrides.is_some() => {
            // Which family is broken is not known here: fall back to the shipped set whole.
            reported.push(problem("(overrides)", "load", e.to_string()));
            let all = std::fs::read_dir(overrides.unwrap_or(shipped))
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            shipped_only = all;
            Catalog::load_layers(shipped, overrides, &shipped_only)?
        }
        Err(e) => return Err(e),
    };
    let problems = check(&catalog, settings);
    if problems.is_empty() {
        return Ok((Arc::new(catalog), reported));
    }
    let broken_overrides: Vec<String> = problems
        .iter()
        .map(|p| p.family.clone())
        .filter(|f| catalog.is_overridden(f))
        .collect();
    if broken_overrides.len()
        < problems
            .iter()
            .map(|p| &p.family)
            .collect::<std::collections::HashSet<_>>()
            .len()
    {
        // A shipped family itself is broken.
        let shipped_broken: Vec<String> = problems
            .iter()
            .filter(|p| !catalog.is_overridden(&p.family))
            .map(|p| p.to_string())
            .collect();
        return Err(Error::Template {
            name: shipped.display().to_string(),
            message: shipped_broken.join("; "),
        });
    }
    reported.extend(problems);
    shipped_only.extend(broken_overrides);
    let catalog = Catalog::load_layers(shipped, overrides, &shipped_only)?;
    let again = check(&catalog, settings);
    if let Some(p) = again.first() {
        return Err(Error::Template {
            name: p.file.clone(),
            message: p.message.clone(),
        });
    }
    Ok((Arc::new(catalog), reported))
}
