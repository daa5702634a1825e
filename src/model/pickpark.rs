//! Call pickup groups and call park groups (portal seed 001): who is in them, and a park
//! group's slots.

use serde::Serialize;

use super::Member;

/// A call pickup group: its members pick up each other's ringing calls. A user is in at most
/// one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PickupGroup {
    pub id: i64,
    pub name: String,
    pub members: Vec<Member>,
}

/// A call park group: its members park calls on its slots (extensions) and retrieve them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ParkGroup {
    pub id: i64,
    pub name: String,
    pub members: Vec<Member>,
    /// The park slots' extensions, in order.
    pub slots: Vec<String>,
}
