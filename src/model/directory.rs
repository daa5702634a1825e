//! The phone directory's own entries (portal 000 "Phone Site Directory", 004 "Telefonbuch"): a
//! person or a company and the number to dial, for a whole tenant or one site's phones.

use serde::Serialize;

use super::{Bridge, CallGroup, SiteId, TenantId, User, VirtualUser, E164};
use crate::error::Error;

/// An entry's id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize)]
#[serde(transparent)]
pub struct DirectoryEntryId(pub i64);

impl std::fmt::Display for DirectoryEntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for DirectoryEntryId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <i64 as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for DirectoryEntryId {}

/// One entry as the store returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub id: DirectoryEntryId,
    pub tenant_id: TenantId,
    /// Shown only on this site's phones; none: on every phone of the tenant.
    pub site_id: Option<SiteId>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    /// What phones show: "First Last", else the company.
    pub name: String,
    /// What phones dial: E.164, or an internal extension or short number (digits).
    pub number: String,
}

/// What a tenant's phone directories are made from, loaded once per directory revision: the
/// users with a number that are not hidden (by last and first name), the virtual users, hunt
/// groups and call centres, bridges, and the directory's own entries (by name).
#[derive(Clone, Debug, Default)]
pub struct PhoneDirectory {
    pub users: Vec<User>,
    pub virtual_users: Vec<VirtualUser>,
    /// Hunt groups and call centres.
    pub groups: Vec<CallGroup>,
    pub bridges: Vec<Bridge>,
    pub entries: Vec<DirectoryEntry>,
}

impl PhoneDirectory {
    /// About the bytes it holds, with an allowance for the text on the heap.
    pub fn weight(&self) -> usize {
        64 + std::mem::size_of_val(self.users.as_slice())
            + self.users.len() * 128
            + std::mem::size_of_val(self.entries.as_slice())
            + self.entries.len() * 64
            + std::mem::size_of_val(self.virtual_users.as_slice())
            + std::mem::size_of_val(self.groups.as_slice())
            + self
                .groups
                .iter()
                .map(|g| 64 + 48 * (g.agents.len() + g.supervisors.len()))
                .sum::<usize>()
            + std::mem::size_of_val(self.bridges.as_slice())
            + (self.virtual_users.len() + self.bridges.len()) * 64
    }
}

/// An entry's number as typed: E.164 (`+`, the country code and the rest; spaces, `-`, `/`,
/// `.` and brackets are dropped, and a leading `00` is read as `+`), or an internal extension
/// or short number of 2 to 8 digits, not starting with 0. A national number (`030 …`) is
/// refused: phones of every site dial it, so it must say its country.
pub fn parse_dial_number(input: &str) -> Result<String, Error> {
    let compact: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/' | '.' | '(' | ')'))
        .collect();
    let international = match compact.strip_prefix("00") {
        Some(rest) if compact.len() > 8 => Some(format!("+{rest}")),
        _ => compact.starts_with('+').then(|| compact.clone()),
    };
    if let Some(e164) = international {
        return e164
            .parse::<E164>()
            .map(|n| n.to_string())
            .map_err(|_| not_a_number(input));
    }
    if (2..=8).contains(&compact.len()) && compact.bytes().all(|b| b.is_ascii_digit()) {
        if compact.starts_with('0') {
            return Err(Error::invalid(
                "number",
                format!(
                    "{:?} starts with 0, as a national number does: write it in E.164 (+ and \
                     the country code, e.g. +4930123456)",
                    input.trim()
                ),
            )
            .coded(
                "number_national",
                [("value", format!("{:?}", input.trim()))],
            ));
        }
        return Ok(compact);
    }
    Err(not_a_number(input))
}

fn not_a_number(input: &str) -> Error {
    Error::invalid(
        "number",
        format!(
            "{:?} is neither an E.164 number (+ and the country code, e.g. +4930123456) nor an \
             extension or short number of 2 to 8 digits",
            input.trim()
        ),
    )
    .coded(
        "entry_number_invalid",
        [("value", format!("{:?}", input.trim()))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_e164_or_short() {
        assert_eq!(parse_dial_number("+49 30 123-456").unwrap(), "+4930123456");
        assert_eq!(
            parse_dial_number("0049 (30) 123456").unwrap(),
            "+4930123456"
        );
        assert_eq!(parse_dial_number(" 1234 ").unwrap(), "1234");
        assert_eq!(parse_dial_number("110").unwrap(), "110");
        for bad in [
            "",
            "1",
            "030 1234567",
            "030 1234",
            "+0123",
            "12a4",
            "+49 30 12x",
            "123456789",
        ] {
            let e = parse_dial_number(bad).unwrap_err().to_string();
            assert!(e.starts_with("number: "), "{bad:?}: {e}");
            assert!(e.contains("E.164"), "{bad:?}: {e}");
        }
    }
}
