//! The manifest of a device family (`device-templates/<family>/manifest.toml`): what the family's
//! phones request, how to recognise them, and what each model has. Data, not code: a template
//! author adds a model by adding a `[[models]]` entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Folder name and the family's id in the store, e.g. `yealink`.
    pub family: String,
    pub vendor: String,
    /// A regex over the User-Agent with named groups `model`, and optionally `version`, `mac`.
    pub user_agent: String,
    /// The device's main file, `{mac}` or `{MAC}` standing for its MAC: what `autoprov render MAC`
    /// shows.
    pub device_file: String,
    /// SIP transport (`udp`, `tcp`, `tls`) to the family's own code for it.
    #[serde(default)]
    pub transport: BTreeMap<String, String>,
    /// Key kinds (`blf`, `speed_dial`) to the family's own type codes (`keys[].type_code`).
    #[serde(default)]
    pub key_types: BTreeMap<String, String>,
    /// The device's directory file, `{mac}`/`{MAC}` standing for its MAC, where the family
    /// fetches one (`provisioning.directory_url` points at it).
    #[serde(default)]
    pub directory_file: Option<String>,
    /// IANA zone to the family's own zone name, where it has a list of names.
    #[serde(default)]
    pub time_zone_names: BTreeMap<String, String>,
    /// What an unknown model of this family gets.
    pub defaults: ModelDefaults,
    /// Where the family's phones show their Phone ID (an idle-screen text, a label or the host
    /// name), for people: the templates put it there. Unset: the family shows none.
    #[serde(default)]
    pub phone_id_shown: Option<String>,
    /// SIP: how the family's phones are found by PnP and told to fetch their files again.
    #[serde(default)]
    pub sip: SipSpec,
    /// The XML-browser screens for signing in and out at the phone (`/x/<token>/<mac>/…`).
    /// Unset: the family's phones have no such service (and no key for it).
    #[serde(default)]
    pub phone_service: Option<PhoneService>,
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    pub files: Vec<FileSpec>,
    /// How the family's phones find this server by DHCP (`autoprov dhcp-config`).
    #[serde(default)]
    pub dhcp: DhcpSpec,
}

/// The DHCP options that point a family's phones at this server, and how a DHCP server tells
/// the family's phones from others.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpSpec {
    /// How the vendor class (option 60) the family's phones send begins.
    #[serde(default)]
    pub vendor_classes: Vec<String>,
    /// Option code (`"66"`) to its value: text with `{http}` (the provisioning URL over
    /// HTTP), `{https}`, `{tftp}` (`tftp://host:port`) and `{tftp_ip}` (the TFTP server's IPv4
    /// address, which option 150 takes as an address list).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// The family's SIP knowledge (`[sip]` in the manifest), used by `src/sip`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipSpec {
    /// `vendor` values of a PnP SUBSCRIBE's `Event: ua-profile` that mean this family (compared
    /// without case). A SUBSCRIBE with a User-Agent the family's `user_agent` matches is the
    /// family's too.
    #[serde(default)]
    pub pnp_vendors: Vec<String>,
    /// Vendor prefixes (the MAC's first three bytes, 6 hex digits) that mean this family when a
    /// SUBSCRIBE's vendor and User-Agent say nothing known (Snom firmware that sends
    /// `vendor="OEM"`).
    #[serde(default)]
    pub pnp_ouis: Vec<String>,
    /// The body of the PnP NOTIFY: `{url}` is the public URL (ending in `/`), `{mac}` and `{MAC}`
    /// the asking phone's MAC. Without one, the family's phones get no PnP answer.
    #[serde(default)]
    pub pnp_url: Option<String>,
    /// The `Event` of the NOTIFY that makes a phone fetch its files again (`check-sync`, Cisco
    /// MPP's `resync`). Without one, the family's phones are not sent one (the hook still runs).
    #[serde(default)]
    pub resync_event: Option<String>,
}

/// The family's phone service (`[phone_service]`): a template per screen, each XML (escaped as
/// every XML file), and what they are sent as.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneService {
    /// Asks for the number or extension and the PIN to sign in with.
    pub login: String,
    /// Asks for the number or extension and the PIN to sign out with.
    pub logout: String,
    /// Shows what happened (`title`, `text`).
    pub message: String,
    pub content_type: String,
}

/// A screen of the phone service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Login,
    Logout,
    Message,
}

impl PhoneService {
    pub fn template(&self, screen: Screen) -> &str {
        match screen {
            Screen::Login => &self.login,
            Screen::Logout => &self.logout,
            Screen::Message => &self.message,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDefaults {
    pub accounts: u16,
    pub line_keys: u16,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// As the User-Agent names it, e.g. `T54W`.
    pub name: String,
    /// The vendor's numeric model code, where files are named by it (Yealink `y0000000000NN`).
    #[serde(default)]
    pub code: Option<u32>,
    /// SIP accounts the model can register.
    pub accounts: u16,
    /// Programmable line/DSS keys on the phone itself.
    pub line_keys: u16,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// A regex over the requested file name, matched case-insensitively and whole. Named groups:
    /// `mac` (the file is a device's), `model_code` (the file is a model's).
    #[serde(rename = "match")]
    pub pattern: String,
    /// Template file in the family folder.
    pub template: String,
    /// For a file with secrets: what an unproven request gets instead, the same for every MAC
    /// (no device data, no secrets). Without one, such a request gets the uniform 404.
    #[serde(default)]
    pub bootstrap: Option<String>,
    /// A device file a phone asks for first when it has no credentials yet: a GET of it inside
    /// the device's first-contact window uses the window up (one request wins). Every other
    /// device file needs proof, also while the window is open, so at most one answer of a window
    /// ever holds a secret, and nothing tells a guesser that a window is open without using it.
    #[serde(default)]
    pub first_contact: bool,
    /// A shared file that names the asking phone's own files by the MAC in its User-Agent
    /// (`requester_mac` in the template): Yealink's common boot file, the fallback of a phone
    /// whose own boot file was refused, must still lead it to its `<mac>.cfg`.
    #[serde(default)]
    pub requester_mac: bool,
    pub format: Format,
    pub content_type: String,
    /// For XML files: the root element the vendor expects; `check-templates` insists on it.
    #[serde(default)]
    pub root: Option<String>,
}

/// How values are escaped in a file: the renderer escapes every `{{ value }}` for the file's
/// format, so a template cannot forget to.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `key = value` lines: values lose control characters (no value can add a line).
    Kv,
    /// XML: `& < > " '` become entities (no value can add an element or attribute).
    Xml,
}
