//! Domain types and their validation. Parsing happens here, once, at the edge; nothing in this
//! module does IO.

mod directory;
mod e164;
mod features;
mod groups;
mod ids;
mod list;
mod mac;
mod names;
mod records;
mod secret;
mod text;
mod timezone;

use std::fmt;
use std::str::FromStr;

pub use directory::{parse_dial_number, DirectoryEntry, DirectoryEntryId, PhoneDirectory};
pub use e164::{E164, TKG_66K_KINDS};
pub use features::{merge_settings, NumberFeatures, PbxOptions};
pub use groups::{Bridge, CallGroup, ExtensionOwner, ForwardTo, Member, Queue, VirtualUser};
pub use ids::{DeviceId, NumberId, SiteId, TenantId, UserId};
pub use list::{ListQuery, Listed, LIST_DEFAULT, LIST_MAX};
pub use mac::Mac;
pub use names::{parse_label, FirstName, LastName, FIRST_NAME_MAX, LAST_NAME_MAX};
pub use records::{
    join_label, Device, DeviceAccess, DeviceLine, DeviceRecord, KeyGroup, LoggedIn, Number,
    NumberView, SipSettings, Site, Tenant, User,
};
pub use secret::{constant_time_eq, Secret};
pub use text::{check_text, parse_text};
pub use timezone::{DstRule, TimeZoneFacts, Transition};

use crate::error::Error;

/// Closed sets of names stored as text: one macro gives each its parse, display and serde form,
/// and an error that lists the allowed values.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(input: &str) -> Result<Self, Error> {
                match input.to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(
                        $field,
                        format!(
                            "{input:?} is not one of: {}",
                            [$($text),+].join(", ")
                        ),
                    )
                    .coded(
                        "not_one_of",
                        [
                            ("value", format!("{input:?}")),
                            ("choices", [$($text),+].join(", ")),
                        ],
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

// After the macro, which they use.
mod pickpark;
mod schedule;

pub use pickpark::{ParkGroup, PickupGroup};
pub use schedule::{
    Holiday, HolidayEntry, NightCalendar, NightMode, NightService, NightTarget, Schedule,
    ScheduleKind, Week, WeeklyHours, WEEKDAYS,
};

/// An OpenAPI string schema for a type that serialises as text.
macro_rules! string_schema {
    ($name:ty, $description:literal, $example:literal) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($description))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

string_schema!(E164, "E.164: + and 2 to 15 digits", "+4930123456");
string_schema!(Mac, "12 lowercase hex digits", "001565a1b2c3");
string_schema!(FirstName, "1 to 23 characters", "Ann");
string_schema!(LastName, "1 to 30 characters", "Example");

text_enum!(
    /// A user's life cycle: created `pending` (can call out, cannot be reached), moved by the
    /// operator to `active` or `failed`; `active` and `deactivated` alternate.
    UserState, "state" {
        Pending = "pending",
        Active = "active",
        Failed = "failed",
        Deactivated = "deactivated",
    }
);

text_enum!(
    /// A number's status: `reserved` (allocated, not live), `active`, `pending` (being changed).
    NumberStatus, "status" {
        Reserved = "reserved",
        Active = "active",
        Pending = "pending",
    }
);

text_enum!(
    /// What an API token may do: the operator's `platform-admin` everything; a `tenant-admin`
    /// one tenant; a `user` their own things.
    Role, "role" {
        PlatformAdmin = "platform-admin",
        TenantAdmin = "tenant-admin",
        User = "user",
    }
);

/// Who is calling the API: the token's role and what it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Principal {
    pub token_id: i64,
    pub role: Role,
    pub tenant: Option<TenantId>,
    pub user: Option<UserId>,
}

impl Principal {
    /// Whether the caller may see `tenant` at all (another tenant's objects are "not found").
    pub fn sees(&self, tenant: TenantId) -> bool {
        self.role == Role::PlatformAdmin || self.tenant == Some(tenant)
    }
}

text_enum!(
    /// Licences a tenant buys in a pool and assigns to users.
    LicenceKind, "kind" {
        App = "app",
        ConferenceRoom = "conference-room",
        EFax = "e-fax",
    }
);

text_enum!(
    /// What owns an extension (or a number) in a tenant: the extension plan's kinds. A new
    /// kind of owner is a variant here and an arm in `store/extensions.rs`.
    OwnerKind, "kind" {
        User = "user",
        HuntGroup = "hunt-group",
        CallCentre = "call-centre",
        VirtualUser = "virtual-user",
        Bridge = "bridge",
        ParkSlot = "park-slot",
    }
);

text_enum!(
    /// How a hunt group or call centre hands a call to its agents: `circular` (round robin
    /// from the agent after the last one called), `regular` (top-down), `simultaneous` (all
    /// at once), `uniform` (the longest idle), `weighted` (by each agent's percentage).
    HuntPolicy, "policy" {
        Circular = "circular",
        Regular = "regular",
        Simultaneous = "simultaneous",
        Uniform = "uniform",
        Weighted = "weighted",
    }
);

text_enum!(
    /// The kind of group a user's membership is in.
    GroupKind, "group kind" {
        HuntGroup = "hunt-group",
        CallCentre = "call-centre",
        PickupGroup = "pickup-group",
        ParkGroup = "park-group",
    }
);

text_enum!(
    /// What a user is in a hunt group or call centre.
    MemberRole, "role" {
        Agent = "agent",
        Supervisor = "supervisor",
    }
);

text_enum!(
    /// SIP transport of a site's registrar.
    Transport, "transport" {
        Udp = "udp",
        Tcp = "tcp",
        Tls = "tls",
    }
);

impl Transport {
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Udp | Transport::Tcp => 5060,
            Transport::Tls => 5061,
        }
    }
}

text_enum!(
    /// What an audit entry is about, stored as its text in `change_log.entity`. `DeviceLines`:
    /// a tenant's logged-in lines as a whole (new login details); `VendorPrefix`: a MAC vendor
    /// prefix whose first-contact windows the throttle closed; `PortalAccount`: a web portal
    /// login (never its password or hash).
    AuditEntity, "entity" {
        Tenant = "tenant",
        Site = "site",
        Number = "number",
        User = "user",
        Device = "device",
        DeviceLines = "device-lines",
        DeviceReservation = "device-reservation",
        LicencePool = "licence-pool",
        Trunk = "trunk",
        BlfGrant = "blf-grant",
        DirectoryEntry = "directory-entry",
        HuntGroup = "hunt-group",
        CallCentre = "call-centre",
        VirtualUser = "virtual-user",
        Bridge = "bridge",
        Token = "token",
        VendorPrefix = "vendor-prefix",
        PickupGroup = "pickup-group",
        ParkGroup = "park-group",
        Schedule = "schedule",
        NightService = "night-service",
        PortalAccount = "portal-account",
    }
);

text_enum!(
    /// What was done, stored as its text in `change_log.action`. A status or state change is
    /// recorded as the status or state it moved to.
    AuditAction, "action" {
        Create = "create",
        Update = "update",
        Delete = "delete",
        Move = "move",
        MoveTenant = "move-tenant",
        Replace = "replace",
        FirstContact = "first-contact",
        FirstContactClosed = "first-contact-closed",
        Arm = "arm",
        Rotate = "rotate",
        Login = "login",
        Import = "import",
        Logout = "logout",
        NewLoginDetails = "new-login-details",
        Label = "label",
        Features = "features",
        SetPin = "set-pin",
        ResetPin = "reset-pin",
        Set = "set",
        Licences = "licences",
        MonitorAdd = "monitor-add",
        MonitorRemove = "monitor-remove",
        SpeedDials = "speed-dials",
        Grant = "grant",
        Revoke = "revoke",
        Reserve = "reserve",
        Release = "release",
        Trust = "trust",
        Deactivate = "deactivate",
        UnassignNumber = "unassign-number",
        Reserved = "reserved",
        Active = "active",
        Pending = "pending",
        Failed = "failed",
        Deactivated = "deactivated",
        PasswordReset = "password-reset",
        PasswordChange = "password-change",
    }
);

impl From<UserState> for AuditAction {
    fn from(state: UserState) -> AuditAction {
        match state {
            UserState::Pending => AuditAction::Pending,
            UserState::Active => AuditAction::Active,
            UserState::Failed => AuditAction::Failed,
            UserState::Deactivated => AuditAction::Deactivated,
        }
    }
}

impl From<NumberStatus> for AuditAction {
    fn from(status: NumberStatus) -> AuditAction {
        match status {
            NumberStatus::Reserved => AuditAction::Reserved,
            NumberStatus::Active => AuditAction::Active,
            NumberStatus::Pending => AuditAction::Pending,
        }
    }
}

/// What a new site gets for anything its creator leaves out (from the configuration).
#[derive(Clone, Debug)]
pub struct SiteDefaults {
    pub time_zone: String,
    pub ntp_server: String,
    /// No default registrar unless configured: adding a site then asks for one.
    pub sip_domain: Option<String>,
    pub sip_transport: Transport,
}

/// A host name or address as a site's registrar, proxy or NTP server: letters, digits, `.`,
/// `-` and `_`, or an IPv6 address (bare or in `[]`); nothing that could break out of a file's
/// value. A port is refused, not split: the templates add the site's port themselves, so
/// `sip.example.com:5060` would reach phones as `sip.example.com:5060:5060`.
pub fn parse_host(field: &'static str, input: &str) -> Result<String, Error> {
    let value = input.trim();
    let name_chars = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    let ipv6 = |s: &str| s.parse::<std::net::Ipv6Addr>().is_ok();
    let bracketed = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .is_some_and(ipv6);
    if !value.is_empty() && value.len() <= 253 && (name_chars(value) || ipv6(value) || bracketed) {
        return Ok(value.to_ascii_lowercase());
    }
    // `host:port` or `[v6]:port`: say where the port goes.
    if let Some((host, port)) = value.rsplit_once(':') {
        let host_ok = (!host.is_empty() && name_chars(host))
            || host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .is_some_and(ipv6);
        if host_ok && port.parse::<u16>().is_ok() {
            let setting = if field.starts_with("sip") {
                "give the port with the site's port setting (--sip-port, sip_port)"
            } else {
                "NTP is always asked on port 123"
            };
            return Err(Error::invalid(
                field,
                format!("{value:?} has a port: give the host alone ({host}); {setting}"),
            )
            .coded(
                "host_with_port",
                [("value", format!("{value:?}")), ("host", host.to_owned())],
            ));
        }
    }
    Err(
        Error::invalid(field, format!("{value:?} is not a host name or address"))
            .coded("host_invalid", [("value", format!("{value:?}"))]),
    )
}

/// An extension: 2–8 digits, unique in its tenant (`admin::extensions` narrows the length
/// per kind of owner).
pub fn parse_extension(input: &str) -> Result<String, Error> {
    let value = input.trim();
    if !(2..=8).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "extension",
            format!("{value:?} is not an extension: 2 to 8 digits"),
        )
        .coded("not_an_extension", [("value", format!("{value:?}"))]));
    }
    Ok(value.to_owned())
}

/// An e-mail address, checked for shape only: text ([`check_text`]) with one `@`, text on both
/// sides, a dot in the domain, no spaces, control or invisible characters.
pub fn parse_email(input: &str) -> Result<String, Error> {
    let value = check_text("email", input)?;
    let bad = || {
        Error::invalid("email", format!("{value:?} is not an e-mail address"))
            .coded("email_invalid", [("value", format!("{value:?}"))])
    };
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.contains('@')
        || value.len() > 254
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || text::invisible(c))
    {
        return Err(bad());
    }
    Ok(value.to_owned())
}

/// A token bucket's count after `elapsed` at `per_minute`, capped at `burst`: the one refill of
/// every failure budget (the phone path's throttle, the API's failed token checks).
pub fn refill(tokens: f64, elapsed: std::time::Duration, burst: f64, per_minute: f64) -> f64 {
    (tokens + elapsed.as_secs_f64() * per_minute / 60.0).min(burst)
}

/// `elapsed` in milliseconds rounded to two decimals: how every log line gives a duration
/// (`ms=1.96`, not `ms=1.9561549999999999`).
pub fn millis(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 100_000.0).round() / 100.0
}

/// The key for per-source limits: the address, or for IPv6 its /64 (one host usually has a whole
/// /64 to pick addresses from).
pub fn source_key(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            std::net::IpAddr::from(octets)
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_and_name_the_choices() {
        assert_eq!("ACTIVE".parse::<UserState>().unwrap(), UserState::Active);
        let err = "on".parse::<NumberStatus>().unwrap_err().to_string();
        assert!(err.contains("reserved, active, pending"), "{err}");
        assert_eq!(Transport::Tls.default_port(), 5061);
    }

    #[test]
    fn audit_actions_of_states_keep_their_text() {
        for state in UserState::ALL {
            assert_eq!(AuditAction::from(*state).as_str(), state.as_str());
        }
        for status in NumberStatus::ALL {
            assert_eq!(AuditAction::from(*status).as_str(), status.as_str());
        }
    }

    #[test]
    fn millis_are_rounded_to_two_decimals() {
        let d = std::time::Duration::from_nanos(1_956_155);
        assert_eq!(millis(d).to_string(), "1.96");
        assert_eq!(
            millis(std::time::Duration::from_secs(2)).to_string(),
            "2000"
        );
        assert_eq!(millis(std::time::Duration::ZERO).to_string(), "0");
    }

    #[test]
    fn hosts_extensions_emails() {
        assert_eq!(
            parse_host("sip_domain", "SIP.Example.com").unwrap(),
            "sip.example.com"
        );
        assert!(parse_host("sip_domain", "a b").is_err());
        assert!(parse_host("sip_domain", "x\ny").is_err());
        for ok in [
            "2001:db8::1",
            "[2001:db8::1]",
            "192.0.2.1",
            "sip_1.example.com",
        ] {
            assert!(parse_host("sip_domain", ok).is_ok(), "{ok}");
        }
        for with_port in [
            "sip.example.com:5060",
            "[2001:db8::1]:5060",
            "192.0.2.1:5061",
        ] {
            let err = parse_host("sip_domain", with_port).unwrap_err().to_string();
            assert!(
                err.starts_with("sip_domain") && err.contains("--sip-port"),
                "{with_port}: {err}"
            );
        }
        assert!(parse_host("sip_domain", "a:b:c").is_err());
        assert!(parse_host("sip_domain", "[::1]x").is_err());
        assert!(parse_email("ann\u{2028}@example.com").is_err());
        assert!(parse_extension("3456").is_ok());
        assert!(parse_extension("1").is_err());
        assert!(parse_extension("12a4").is_err());
        assert!(parse_email("ann@example.com").is_ok());
        assert!(parse_email("ann@example").is_err());
        assert!(parse_email("ann example.com").is_err());
    }
}
