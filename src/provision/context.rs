//! `FileContext`: what a template sees. Built from a `DeviceRecord` and the family's manifest;
//! the only place where store records become template variables, so the names documented for
//! template authors are the field names here.

use serde::Serialize;

use super::ProvisionSettings;
use crate::error::Result;
use crate::model::{DeviceRecord, PhoneDirectory, Secret, SiteId, TimeZoneFacts};
use crate::render::{Family, Value};

#[derive(Debug, Serialize)]
pub struct FileContext {
    /// Absent in shared (common and model) files.
    pub device: Option<DeviceView>,
    /// Absent when neither the file name nor the User-Agent names a model.
    pub model: Option<ModelView>,
    pub site: Option<SiteView>,
    pub sip: Option<SipView>,
    pub time_zone: Option<TimeZoneView>,
    /// Every number logged in to the handset, in account order.
    pub lines: Vec<LineView>,
    /// Account slots of the model with no line in them (to switch off what was there before).
    pub unused_accounts: Vec<u16>,
    /// Programmable keys after the lines: BLF keys for the first line's user's monitor list, then
    /// that user's speed dials, then their park groups' slots, then group pickup.
    pub keys: Vec<KeyView>,
    /// What the phone's directory shows (see [`DirectoryItem`]), in group order: built once
    /// per tenant, site and directory revision and shared by every render (a clone copies no
    /// data); empty in files that do not use it.
    pub directory: Value,
    /// The directory's groups in order, each `{id, name}`, for families that group entries.
    pub directory_groups: Value,
    /// In one list of a grouped directory (see `FileMatch::group`): the group's id.
    pub directory_group: Option<u16>,
    /// The firmware the catalogue names for the device's model, if any.
    pub firmware: Option<FirmwareView>,
    pub provisioning: ProvisioningView,
    /// In a shared file declared `requester_mac`: the MAC the asking phone's User-Agent gave
    /// (12 lowercase hex digits), so the file can name the phone's own files. Nothing of a
    /// device is looked up for it: it only echoes what the phone said.
    pub requester_mac: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    /// 12 lowercase hex digits.
    pub mac: String,
    pub mac_upper: String,
    pub mac_colon: String,
    /// The short code admins pick the handset by; a template may show it on an idle screen.
    pub phone_id: String,
    /// The phone's web-admin password.
    #[serde(serialize_with = "expose")]
    pub admin_password: Secret,
    /// The user name of the device's HTTP credentials (its MAC).
    pub http_user: String,
    /// The device's HTTP password, once issued (at first contact).
    #[serde(serialize_with = "expose_option")]
    pub http_password: Option<Secret>,
}

#[derive(Debug, Serialize)]
pub struct ModelView {
    pub name: String,
    pub code: Option<u32>,
    pub accounts: u16,
    pub line_keys: u16,
}

#[derive(Debug, Serialize)]
pub struct SiteView {
    pub name: String,
    pub ntp_server: String,
}

#[derive(Debug, Serialize)]
pub struct SipView {
    pub domain: String,
    pub proxy: Option<String>,
    pub port: u16,
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    /// The family's own code for the transport (manifest `[transport]`).
    pub transport_code: String,
}

#[derive(Debug, Serialize)]
pub struct TimeZoneView {
    #[serde(flatten)]
    pub facts: TimeZoneFacts,
    /// The family's own name for the zone (manifest `[time_zone_names]`), if it has one.
    pub vendor_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LineView {
    pub position: u16,
    /// E.164, with `+`.
    pub number: String,
    pub extension: Option<String>,
    /// Short text on the phone's line key: the extension, else the number.
    pub label: String,
    /// Caller name: the user's name, else the number.
    pub display_name: String,
    pub user_name: String,
    pub auth_name: String,
    #[serde(serialize_with = "expose")]
    pub password: Secret,
}

#[derive(Debug, Serialize)]
pub struct KeyView {
    /// The key on the phone, 1-based, counted after the keys the lines take.
    pub position: u16,
    /// `blf`, `speed_dial`, `park` (a park slot, where the family has a park key type; else
    /// the slot is a `blf` key without pickup) or `group_pickup` (where the family has that
    /// key type; else the group-pickup code is a `speed_dial` key labelled with the group).
    pub kind: &'static str,
    /// What the key watches or dials: the extension, else the number.
    pub value: String,
    pub label: String,
    /// The account the key uses.
    pub line: u16,
    /// Directed pickup of a ringing call at the watched phone (`provisioning.pickup_prefix` +
    /// value), for BLF keys.
    pub pickup: Option<String>,
    /// The directed-pickup code alone (`provisioning.pickup_prefix`), for BLF keys: for phones
    /// that dial code + watched number themselves.
    pub pickup_code: Option<String>,
    /// The family's code for the kind (manifest `[key_types]`).
    pub type_code: String,
}

#[derive(Debug, Serialize)]
pub struct FirmwareView {
    pub url: String,
    pub version: String,
}

/// One name in a phone's directory and how to dial it.
#[derive(Debug, Serialize)]
pub struct DirectoryItem {
    pub name: String,
    /// The full number: E.164, or (for a directory entry with a short number) its digits.
    pub number: String,
    /// The extension, where the name is internal: dial this rather than the number.
    pub extension: Option<String>,
    /// `user`, `virtual_user`, `hunt_group`, `call_centre`, `bridge` or `entry` (a directory
    /// entry).
    pub kind: &'static str,
    /// The group's id (1-based, see `directory_groups`) and its name.
    pub group_id: u16,
    pub group: &'static str,
}

/// A directory group: what a family that groups entries shows.
#[derive(Debug, Serialize)]
pub struct DirectoryGroup {
    pub id: u16,
    pub name: &'static str,
}

/// The kinds in the order the directory lists them, each with its group's name.
const GROUPS: [(&str, &str); 6] = [
    ("user", "People"),
    ("virtual_user", "People"),
    ("hunt_group", "Groups"),
    ("call_centre", "Groups"),
    ("bridge", "Conference bridges"),
    ("entry", "Directory"),
];

/// The groups' names, in order (a group's id is its place here, from 1).
const GROUP_NAMES: [&str; 4] = ["People", "Groups", "Conference bridges", "Directory"];

/// An item of `kind`: `number` is dialled from outside, `extension` inside; a name with only
/// an extension gets it as its number (and no extension), so no file shows it twice.
fn item(
    kind: &'static str,
    name: String,
    number: Option<String>,
    extension: Option<String>,
) -> Option<DirectoryItem> {
    let group = GROUPS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Directory", |(_, g)| g);
    let group_id = GROUP_NAMES.iter().position(|g| *g == group).unwrap_or(0) as u16 + 1;
    let (number, extension) = match (number, extension) {
        (Some(n), e) => (n, e),
        (None, Some(e)) => (e, None),
        (None, None) => return None,
    };
    Some(DirectoryItem {
        name,
        number,
        extension,
        kind,
        group_id,
        group,
    })
}

/// A phone's directory as templates see it, shared by the renders of every device of a site.
#[derive(Clone, Debug)]
pub struct SharedDirectory {
    pub items: Value,
    pub groups: Value,
}

impl SharedDirectory {
    /// The directory of `site`'s phones: the users, then the tenant-wide entries and the site's.
    pub fn build(directory: &PhoneDirectory, site: SiteId) -> SharedDirectory {
        let users = directory.users.iter().filter_map(|u| {
            let number = Some(u.number.as_ref()?.to_string());
            item("user", u.shown_name(), number, u.extension.clone())
        });
        let virtual_users = directory.virtual_users.iter().filter_map(|v| {
            let number = Some(v.external.to_string());
            item(
                "virtual_user",
                v.display_name(),
                number,
                Some(v.extension.clone()),
            )
        });
        let groups = directory.groups.iter().filter_map(|g| {
            let kind = match g.kind {
                crate::model::OwnerKind::CallCentre => "call_centre",
                _ => "hunt_group",
            };
            let number = g.number.as_ref().map(|n| n.to_string());
            item(kind, g.name.clone(), number, g.extension.clone())
        });
        let bridges = directory.bridges.iter().filter_map(|b| {
            let number = Some(b.number.to_string());
            item("bridge", b.name.clone(), number, b.extension.clone())
        });
        let entries = directory
            .entries
            .iter()
            .filter(|e| e.site_id.is_none_or(|s| s == site))
            .filter_map(|e| item("entry", e.name.clone(), Some(e.number.clone()), None));
        let mut items: Vec<DirectoryItem> = users
            .chain(virtual_users)
            .chain(groups)
            .chain(bridges)
            .chain(entries)
            .collect();
        // Grouped, in the order of GROUPS (stable: each kind keeps its own order).
        items.sort_by_key(|i| GROUPS.iter().position(|(k, _)| *k == i.kind));
        let groups: Vec<DirectoryGroup> = (1..=GROUP_NAMES.len() as u16)
            .filter(|id| items.iter().any(|i| i.group_id == *id))
            .map(|id| DirectoryGroup {
                id,
                name: GROUP_NAMES[usize::from(id - 1)],
            })
            .collect();
        SharedDirectory {
            items: Value::from_serialize(&items),
            groups: Value::from_serialize(&groups),
        }
    }

    /// No directory: for files that do not show one.
    pub fn empty() -> SharedDirectory {
        SharedDirectory {
            items: Value::from(Vec::<Value>::new()),
            groups: Value::from(Vec::<Value>::new()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProvisioningView {
    /// Base URL phones fetch from, ending in `/`.
    pub url: String,
    pub recheck_minutes: u32,
    /// The HTTPS URL, when HTTPS is on: where a phone with credentials should fetch from.
    pub https_url: Option<String>,
    /// Where the local CA certificate can be fetched, when the local CA is in use.
    pub ca_url: Option<String>,
    /// The device's directory file, where the family has one.
    pub directory_url: Option<String>,
    /// The phone service's base (`…/x/<token>/<mac>/`, then `login` or `logout`), where the
    /// family has one and the device fetches over HTTPS with credentials.
    pub service_url: Option<String>,
}

impl FileContext {
    /// The context of one device's file; `directory` is the shared directory of its site (or
    /// [`SharedDirectory::empty`] for a file that does not use it).
    pub fn for_device(
        family: &Family,
        record: &DeviceRecord,
        directory: &SharedDirectory,
        settings: &ProvisionSettings,
    ) -> Result<FileContext> {
        let manifest = &family.manifest;
        let model = ModelView::of(family, &record.device.model);
        let site = &record.site;
        let facts = TimeZoneFacts::new(&site.time_zone, jiff::Timestamp::now())?;
        let vendor_name = manifest.time_zone_names.get(&facts.iana).cloned();
        let transport = site.sip.transport.as_str();
        let lines = line_views(record, model.accounts);
        let keys = key_views(record, family, settings, model.line_keys, lines.len());
        let mut provisioning = provisioning(settings);
        provisioning.directory_url = directory_url(family, record, settings);
        provisioning.service_url = service_url(family, record, settings);
        let unused_accounts = (1..=model.accounts)
            .filter(|p| !lines.iter().any(|l| l.position == *p))
            .collect();
        Ok(FileContext {
            device: Some(DeviceView {
                mac: record.device.mac.to_string(),
                mac_upper: record.device.mac.upper(),
                mac_colon: record.device.mac.colon(),
                phone_id: record.device.phone_id.clone(),
                admin_password: record.device.admin_password.clone(),
                http_user: record.device.mac.to_string(),
                http_password: record.device.access.http_password.clone(),
            }),
            model: Some(model),
            site: Some(SiteView {
                name: site.name.clone(),
                ntp_server: site.ntp_server.clone(),
            }),
            sip: Some(SipView {
                domain: site.sip.domain.clone(),
                proxy: site.sip.proxy.clone(),
                port: site.sip.port,
                transport: transport.to_owned(),
                transport_code: manifest
                    .transport
                    .get(transport)
                    .cloned()
                    .unwrap_or_else(|| transport.to_owned()),
            }),
            time_zone: Some(TimeZoneView { facts, vendor_name }),
            lines,
            unused_accounts,
            keys,
            directory: directory.items.clone(),
            directory_groups: directory.groups.clone(),
            directory_group: None,
            firmware: settings
                .firmware
                .find(&manifest.family, &record.device.model)
                .map(|entry| FirmwareView {
                    url: crate::firmware::Index::url(entry, &settings.firmware_base_url),
                    version: entry.version.clone(),
                }),
            provisioning,
            requester_mac: None,
        })
    }
    /// The context of a file with no device in it: only the model (if known) and provisioning.
    pub fn shared(
        family: &Family,
        model: Option<&str>,
        settings: &ProvisionSettings,
    ) -> FileContext {
        let model = model.map(|name| ModelView::of(family, name));
        FileContext {
            device: None,
            model,
            site: None,
            sip: None,
            time_zone: None,
            lines: Vec::new(),
            unused_accounts: Vec::new(),
            keys: Vec::new(),
            directory: Value::from(Vec::<Value>::new()),
            directory_groups: Value::from(Vec::<Value>::new()),
            directory_group: None,
            firmware: None,
            provisioning: provisioning(settings),
            requester_mac: None,
        }
    }
}

impl ModelView {
    /// The manifest's entry for `name`, or the family's defaults for a model it does not list.
    fn of(family: &Family, name: &str) -> ModelView {
        match family.model(name) {
            Some(m) => ModelView {
                name: m.name.clone(),
                code: m.code,
                accounts: m.accounts,
                line_keys: m.line_keys,
            },
            None => ModelView {
                name: name.to_owned(),
                code: None,
                accounts: family.manifest.defaults.accounts,
                line_keys: family.manifest.defaults.line_keys,
            },
        }
    }
}

/// The device's lines, up to the model's accounts.
fn line_views(record: &DeviceRecord, accounts: u16) -> Vec<LineView> {
    record
        .lines
        .iter()
        .filter(|line| line.position <= accounts)
        .map(|line| {
            let user = line.user.as_ref();
            let extension = user.and_then(|u| u.extension.clone());
            LineView {
                position: line.position,
                number: line.number.to_string(),
                label: extension.clone().unwrap_or_else(|| line.number.to_string()),
                extension,
                // The number's label overrides the user's name (portal 002).
                display_name: line
                    .label
                    .clone()
                    .or_else(|| user.map(|u| u.shown_name()))
                    .unwrap_or_else(|| line.number.to_string()),
                user_name: line.sip_user.clone(),
                auth_name: line.sip_user.clone(),
                password: line.sip_password.clone(),
            }
        })
        .collect()
}

/// A key before it has its position: kind, label, value, and whether it picks up (BLF on a
/// user).
type Key = (&'static str, String, String, bool);

/// Keys after the lines' own, in the family's order: BLF keys for the monitor list, speed
/// dials, park slots, group pickup — as many as the model has.
fn key_views(
    record: &DeviceRecord,
    family: &Family,
    settings: &ProvisionSettings,
    line_keys: u16,
    n_lines: usize,
) -> Vec<KeyView> {
    let room = usize::from(line_keys.saturating_sub(n_lines as u16));
    let types = &family.manifest.key_types;
    let blf = record.monitors.iter().map(|watched| {
        let value = watched
            .extension
            .clone()
            .or_else(|| watched.number.as_ref().map(|n| n.to_string()))
            .unwrap_or_default();
        ("blf", watched.shown_name(), value, true)
    });
    let dials = record
        .speed_dials
        .iter()
        .map(|(label, target)| ("speed_dial", label.clone(), target.clone(), false));
    // A park slot is the family's park key where it has one, else a BLF key on the slot
    // (pressed, it dials the slot: the parked call is retrieved).
    let park_kind = if types.contains_key("park") {
        "park"
    } else {
        "blf"
    };
    let parks = record.park_groups.iter().flat_map(|group| {
        group.slots.iter().map(move |slot| {
            let label = format!("{} {slot}", group.name);
            (park_kind, label, slot.clone(), false)
        })
    });
    // Group pickup is the family's own key type where it has one, else a speed dial of the
    // group-pickup code (pressed, it dials the code: the PBX picks up the group's call).
    let pickup_kind = if types.contains_key("group_pickup") {
        "group_pickup"
    } else {
        "speed_dial"
    };
    let pickup = record.pickup_group.iter().map(|group| {
        let code = settings.group_pickup_code.clone();
        (pickup_kind, group.name.clone(), code, false)
    });
    let keys: Vec<Key> = blf
        .chain(dials)
        .chain(parks)
        .chain(pickup)
        .take(room)
        .collect();
    keys.into_iter()
        .enumerate()
        .map(|(i, (kind, label, value, picks_up))| KeyView {
            position: n_lines as u16 + i as u16 + 1,
            kind,
            pickup: picks_up.then(|| format!("{}{value}", settings.pickup_prefix)),
            pickup_code: picks_up.then(|| settings.pickup_prefix.clone()),
            value,
            label,
            line: 1,
            type_code: types.get(kind).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The device's directory URL, where the family has a directory file.
fn directory_url(
    family: &Family,
    record: &DeviceRecord,
    settings: &ProvisionSettings,
) -> Option<String> {
    let pattern = family.manifest.directory_file.as_ref()?;
    let base = match (&record.device.access.http_password, &settings.https_url) {
        (Some(_), Some(https)) => https.clone(),
        _ => settings.public_url.clone(),
    };
    let name = pattern
        .replace("{mac}", &record.device.mac.to_string())
        .replace("{MAC}", &record.device.mac.upper());
    // Over HTTPS the URL carries the device's URL token: every family's phone can fetch its
    // directory with exactly what its file tells it, whether or not it answers a challenge for
    // it.
    Some(
        match (&record.device.access.http_password, &settings.https_url) {
            (Some(password), Some(_)) => {
                format!("{base}d/{}/{name}", super::trust::url_token(password))
            }
            _ => format!("{base}{name}"),
        },
    )
}

/// The device's phone-service URL: only over HTTPS, and only with the device's token in it.
fn service_url(
    family: &Family,
    record: &DeviceRecord,
    settings: &ProvisionSettings,
) -> Option<String> {
    family.manifest.phone_service.as_ref()?;
    let password = record.device.access.http_password.as_ref()?;
    let https = settings.https_url.as_ref()?;
    Some(format!(
        "{https}x/{}/{}/",
        super::trust::service_token(password),
        record.device.mac
    ))
}

fn provisioning(settings: &ProvisionSettings) -> ProvisioningView {
    ProvisioningView {
        url: settings.public_url.clone(),
        recheck_minutes: settings.recheck_minutes,
        https_url: settings.https_url.clone(),
        ca_url: settings.ca_url.clone(),
        directory_url: None,
        service_url: None,
    }
}

/// Templates see a secret's value (that is what they are for); `Debug` of the context does not.
fn expose<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

fn expose_option<S: serde::Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_some(secret.expose()),
        None => s.serialize_none(),
    }
}
