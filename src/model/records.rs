//! The records the store hands out: plain data, already validated, with secrets wrapped.

use serde::Serialize;

use super::{
    DeviceId, FirstName, LastName, Mac, NumberFeatures, NumberId, NumberStatus, PbxOptions, Secret,
    SiteId, TenantId, Transport, UserId, UserState, E164,
};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// The store revision of this tenant's last change.
    pub revision: i64,
}

/// Where a site's phones register.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SipSettings {
    pub domain: String,
    pub proxy: Option<String>,
    pub port: u16,
    pub transport: Transport,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: SiteId,
    pub tenant_id: TenantId,
    pub name: String,
    /// IANA name, checked against the tz database when set.
    pub time_zone: String,
    pub ntp_server: String,
    pub sip: SipSettings,
    /// Networks whose phones are trusted without credentials (LAN-only sites that choose it).
    #[serde(serialize_with = "networks")]
    #[schema(value_type = Vec<String>)]
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// Where first-contact windows may be used from; empty: from anywhere.
    #[serde(serialize_with = "networks")]
    #[schema(value_type = Vec<String>)]
    pub first_contact_networks: Vec<ipnet::IpNet>,
    /// How long a new or re-armed device's first-contact window stays open.
    pub first_contact_hours: u32,
}

fn networks<S: serde::Serializer>(list: &[ipnet::IpNet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(|n| n.to_string()))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Number {
    pub id: NumberId,
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub e164: E164,
    pub status: NumberStatus,
    pub is_main: bool,
    /// The two-part display name that overrides the user's name where shown.
    pub label_first: Option<String>,
    pub label_last: Option<String>,
    /// Shown to admins; the user replaces it with a custom PIN on first use.
    pub default_pin: String,
    /// Whether the user has set their own PIN (the hash is never handed out).
    pub custom_pin: bool,
    /// Three wrong PINs in a row lock it until a reset.
    pub pin_locked: bool,
    pub features: NumberFeatures,
}

impl Number {
    /// The label if set, as "First Last".
    pub fn label(&self) -> Option<String> {
        join_label(self.label_first.as_deref(), self.label_last.as_deref())
    }
}

/// A two-part label as one text, if either part is set.
pub fn join_label(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (None, None) => None,
        (f, l) => Some(
            format!("{} {}", f.unwrap_or(""), l.unwrap_or(""))
                .trim()
                .to_owned(),
        ),
    }
}

/// A number as the portal's number list shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NumberView {
    #[serde(flatten)]
    pub number: Number,
    /// "Main Number", the label, or the assigned user's name.
    pub assigned_to: Option<String>,
    pub user_id: Option<UserId>,
    pub extension: Option<String>,
    pub logged_in: Option<LoggedIn>,
}

/// The handset a number is logged in to.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LoggedIn {
    pub phone_id: String,
    pub mac: Mac,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    #[serde(serialize_with = "as_str")]
    pub first_name: FirstName,
    #[serde(serialize_with = "as_str")]
    pub last_name: LastName,
    pub email: Option<String>,
    pub state: UserState,
    pub number_id: Option<NumberId>,
    pub number: Option<E164>,
    pub extension: Option<String>,
    /// Mobile integration: the user's mobile (E.164) and its contract number.
    pub mobile: Option<E164>,
    pub contract_number: Option<String>,
    /// The app registration e-mail; fixed once the user has registered (`app_login` set).
    pub app_email: Option<String>,
    pub app_login: Option<String>,
    /// How many registration invitations were issued (each e-mail change re-issues one).
    pub app_invitations: i64,
    /// The preferred trunk (sites with several trunks).
    pub trunk_id: Option<i64>,
    /// The e-fax number (with an e-fax licence).
    pub fax_number_id: Option<NumberId>,
    /// The label of the user's number, shown instead of the name where set.
    pub number_label: Option<String>,
    pub options: PbxOptions,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// What phones show for this user: their number's label, else their name.
    pub fn shown_name(&self) -> String {
        self.number_label
            .clone()
            .unwrap_or_else(|| self.display_name())
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: DeviceId,
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub mac: Mac,
    pub family: String,
    pub model: String,
    /// The short code the phone shows, for admins to pick it in lists.
    pub phone_id: String,
    /// The phone's own web-admin password: random per device, never a vendor default.
    #[serde(skip)]
    pub admin_password: Secret,
    /// How the device proves itself over HTTP (see `DeviceAccess`).
    #[serde(skip)]
    pub access: DeviceAccess,
}

/// A device's HTTP credentials and first-contact window. The HTTP user name is the MAC (12
/// lowercase hex digits); the password is issued at first contact.
#[derive(Clone, Debug, Default)]
pub struct DeviceAccess {
    pub http_password: Option<Secret>,
    /// The password before the last rotation, valid until `http_prev_until` (Unix seconds).
    pub http_password_prev: Option<Secret>,
    pub http_prev_until: Option<i64>,
    /// Open until this time (Unix seconds); closed (`None`) once used.
    pub first_contact_until: Option<i64>,
}

/// A number logged in to a handset, with the SIP account created for it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceLine {
    /// 1-based account slot on the phone.
    pub position: u16,
    pub number_id: NumberId,
    pub number: E164,
    pub sip_user: String,
    #[serde(skip)]
    pub sip_password: Secret,
    /// The number's label, shown instead of the user's name.
    pub label: Option<String>,
    /// The user the number is assigned to, if any.
    pub user: Option<User>,
}

/// Everything the store knows that one phone's files are made from.
#[derive(Clone, Debug)]
pub struct DeviceRecord {
    pub tenant: Tenant,
    pub site: Site,
    pub device: Device,
    pub lines: Vec<DeviceLine>,
    /// The monitor list (BLF keys) of the user on the first line, in key order.
    pub monitors: Vec<User>,
    /// The first line's user's speed dials: (label, what to dial).
    pub speed_dials: Vec<(String, String)>,
    /// The first line's user's pickup group (a group-pickup key where the family has one).
    pub pickup_group: Option<KeyGroup>,
    /// The first line's user's park groups, by name (keys for their slots).
    pub park_groups: Vec<KeyGroup>,
}

/// A pickup or park group as a phone's keys show it: its name and (a park group's) slots'
/// extensions in order; its members are not part of any phone's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGroup {
    pub name: String,
    pub slots: Vec<String>,
}

pub(super) fn as_str<T: std::fmt::Display, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
