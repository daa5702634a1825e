//! The tenant's shared telephony objects (issue 12): hunt groups and call centres, virtual
//! users, Collaborate bridges, and what owns an extension.

use serde::Serialize;

use super::{FirstName, HuntPolicy, NumberId, OwnerKind, TenantId, UserId, UserState, E164};

/// Whatever owns an extension (or a number) of a tenant, as the directory, phone keys and the
/// dial plan resolve it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExtensionOwner {
    pub kind: OwnerKind,
    /// The owner's id within its kind.
    pub id: i64,
    pub name: String,
}

impl std::fmt::Display for ExtensionOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.as_str().replace('-', " "), self.name)
    }
}

/// Where a group's calls go when nobody answers or nobody is available.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "to", rename_all = "kebab-case")]
pub enum ForwardTo {
    /// An extension of the tenant (whatever owns it).
    Extension { extension: String },
    /// An external number (E.164, TKG §66k checked).
    External {
        #[schema(value_type = String)]
        number: E164,
    },
    /// The main number of the group's site.
    MainNumber,
}

impl ForwardTo {
    /// How the store keeps it: `main`, an E.164 number, or the extension's digits.
    pub fn stored(&self) -> String {
        match self {
            ForwardTo::Extension { extension } => extension.clone(),
            ForwardTo::External { number } => number.to_string(),
            ForwardTo::MainNumber => "main".to_owned(),
        }
    }

    /// The stored text read back; `None` for text no rule made.
    pub fn from_stored(text: &str) -> Option<ForwardTo> {
        match text {
            "main" => Some(ForwardTo::MainNumber),
            t if t.starts_with('+') => t.parse().ok().map(|number| ForwardTo::External { number }),
            t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                Some(ForwardTo::Extension {
                    extension: t.to_owned(),
                })
            }
            _ => None,
        }
    }
}

/// A user in a group, with their state: a deactivated agent stays an agent and is listed so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub state: UserState,
    pub extension: Option<String>,
    #[schema(value_type = Option<String>)]
    pub number: Option<E164>,
    /// The agent's percentage under the `weighted` policy.
    pub weight: Option<i64>,
}

/// A call centre's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Queue {
    /// Callers waiting at most.
    pub length: i64,
    /// Played to waiting callers.
    pub announcement: Option<String>,
    /// Seconds a caller waits at most before the no-answer forwarding.
    pub max_wait_secs: i64,
}

/// A hunt group (`kind` `hunt-group`) or a call centre (`call-centre`, with a queue and
/// supervisors).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CallGroup {
    pub id: i64,
    pub tenant_id: TenantId,
    pub kind: OwnerKind,
    pub name: String,
    pub number_id: Option<NumberId>,
    #[schema(value_type = Option<String>)]
    pub number: Option<E164>,
    pub extension: Option<String>,
    pub policy: HuntPolicy,
    /// Rings before the call moves to the next agent (1–20).
    pub skip_after_rings: i64,
    /// When nobody answers or nobody is available.
    pub forward_to: Option<ForwardTo>,
    pub voicemail: bool,
    /// Where voicemail messages are sent.
    pub voicemail_email: Option<String>,
    pub queue: Option<Queue>,
    /// In order.
    pub agents: Vec<Member>,
    pub supervisors: Vec<Member>,
}

/// An extension that dials an external number (a key supplier, another office).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VirtualUser {
    pub id: i64,
    pub tenant_id: TenantId,
    #[serde(serialize_with = "super::records::as_str")]
    #[schema(value_type = String)]
    pub first_name: FirstName,
    #[serde(serialize_with = "super::records::as_str")]
    #[schema(value_type = String)]
    pub last_name: super::LastName,
    /// The full number called (E.164).
    #[schema(value_type = String)]
    pub external: E164,
    /// 2 to 6 digits.
    pub extension: String,
}

impl VirtualUser {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A Collaborate bridge: the dial-in number of MyRoom conferences.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Bridge {
    pub id: i64,
    pub tenant_id: TenantId,
    pub name: String,
    pub number_id: NumberId,
    #[schema(value_type = String)]
    pub number: E164,
    pub extension: Option<String>,
}
