//! The first stage of a phone's request: the file name and the User-Agent say which family's
//! file is asked for and, for a device's file, whose MAC. Nothing is looked up in the store
//! here; a name nobody's manifest claims, or a User-Agent whose MAC contradicts the file's, is
//! settled at once.

use std::sync::Arc;

use super::{valid_name, FileRequest, Outcome, Provisioner};
use crate::model::Mac;
use crate::render::FileMatch;

/// What the name and the User-Agent say.
pub(super) enum Identified<'a> {
    /// Answered without a look-up; with the file's MAC, when it names one.
    Settled(Outcome, Option<Mac>),
    /// A file with no device in it.
    Shared(Shared<'a>),
    /// One device's file.
    Device(Asked<'a>),
}

/// A request for a file with no device in it.
pub(super) struct Shared<'a> {
    pub(super) matched: FileMatch,
    pub(super) name: &'a str,
    /// The model and the MAC the User-Agent gives.
    pub(super) model: Option<String>,
    pub(super) requester: Option<Mac>,
}

/// A request for one device's file.
pub(super) struct Asked<'a> {
    pub(super) mac: Mac,
    /// The name the families matched: the last part of the path, or the last two.
    pub(super) name: &'a str,
    /// Every match of the name (only the User-Agent's family, when it names one), shared files
    /// first: the memo's own list when the User-Agent leaves it whole, as it does for a phone.
    pub(super) matches: Arc<[FileMatch]>,
    /// The firmware version the User-Agent reports.
    pub(super) firmware: Option<Arc<str>>,
}

impl Asked<'_> {
    /// The MAC's vendor prefix, which guesses are counted against.
    pub(super) fn prefix(&self) -> [u8; 3] {
        let b = self.mac.bytes();
        [b[0], b[1], b[2]]
    }
}

impl Provisioner {
    /// Identifies the file `last` (the last part of the request's path) names.
    pub(super) fn identify<'a>(&self, last: &'a str, request: &FileRequest<'a>) -> Identified<'a> {
        if !valid_name(last) {
            return Identified::Settled(Outcome::NotFound("invalid file name"), None);
        }
        let ua = request
            .user_agent
            .and_then(|ua| self.catalog.identify_user_agent(ua));
        let (name, matches) = self.match_name(last, request.path);
        // Shared files come first (`Catalog::match_file`), and filtering keeps the order.
        let matches = match &ua {
            Some(ua) if matches.iter().any(|m| m.family != ua.family) => matches
                .iter()
                .filter(|m| m.family == ua.family)
                .cloned()
                .collect(),
            _ => matches,
        };
        let Some(first) = matches.first().cloned() else {
            return Identified::Settled(Outcome::NotFound("no family has this file"), None);
        };
        let Some(mac) = first.mac else {
            return Identified::Shared(Shared {
                matched: first,
                name,
                requester: ua.as_ref().and_then(|ua| ua.mac),
                model: ua.map(|ua| ua.model.clone()),
            });
        };
        if let Some(ua_mac) = ua.as_ref().and_then(|ua| ua.mac) {
            if ua_mac != mac {
                tracing::warn!(%mac, %ua_mac, file = name, peer = ?request.peer, "user-agent MAC differs from the file's MAC; refused");
                if let Some(device) = self.cached_device(mac) {
                    self.record_failure(device, request, "mac-mismatch");
                }
                return Identified::Settled(
                    Outcome::NotFound("user-agent MAC differs from file MAC"),
                    Some(mac),
                );
            }
        }
        Identified::Device(Asked {
            mac,
            name,
            matches,
            firmware: ua.and_then(|ua| ua.version.clone()),
        })
    }

    /// The families' matches for `last`, and the name they matched. A file is named by the last
    /// part of the path; a family may name one by its folder too (Grandstream's
    /// `<mac>/phonebook.xml`), so the last two parts are looked at when the last alone is
    /// nobody's.
    fn match_name<'a>(&self, last: &'a str, path: &'a str) -> (&'a str, Arc<[FileMatch]>) {
        let matches = self.catalog.match_file(last);
        if !matches.is_empty() {
            return (last, matches);
        }
        let mut parts = path.rsplit('/').skip(1);
        match parts.next().filter(|f| valid_name(f)) {
            Some(folder) => {
                let name = &path[path.len() - (folder.len() + 1 + last.len())..];
                (name, self.catalog.match_file(name))
            }
            None => (last, matches),
        }
    }
}
