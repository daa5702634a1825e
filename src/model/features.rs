//! Typed settings sets stored as JSON: a number's call features (portal 002) and a user's PBX
//! options (portal 003). Each is read with unknown names refused, and checked by its own
//! `validate`, which names the field at fault. Rules that need the store (a CLI number must be
//! the tenant's, active, at the same site) live in `admin`.

use serde::{Deserialize, Serialize};

use super::{parse_email, parse_text, E164};
use crate::error::Error;

/// What a number does with calls: forwarding, voicemail and call settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NumberFeatures {
    /// Forward every call to this number.
    pub forward_always: Option<E164>,
    /// Forward when the line is busy; excludes call waiting.
    pub forward_busy: Option<E164>,
    /// Forward when not answered within three rings.
    pub forward_no_answer: Option<E164>,
    pub voicemail: bool,
    /// Send voicemail to this address (needs `voicemail`).
    pub voicemail_email: Option<String>,
    /// Hide the caller ID on outbound calls; overrides the CLI.
    pub hide_caller_id: bool,
    /// Signal a second call while on a call; excludes busy forwarding.
    pub call_waiting: bool,
    /// Send every call to voicemail (or busy tone without voicemail).
    pub do_not_disturb: bool,
    /// Show `cli_number` as caller ID on outbound calls.
    pub cli_enabled: bool,
    /// One of the tenant's active numbers at the same site.
    pub cli_number: Option<E164>,
}

impl NumberFeatures {
    /// The rules that need nothing but the features themselves.
    pub fn validate(&self) -> Result<(), Error> {
        if self.forward_busy.is_some() && self.call_waiting {
            return Err(Error::invalid(
                "forward_busy",
                "busy forwarding and call waiting exclude each other: when the line is busy, calls either wait or are forwarded",
            )
            .coded("busy_forward_or_waiting", []));
        }
        if let Some(email) = &self.voicemail_email {
            // Checked as it will be stored: no trimming, so nothing can hide at its ends.
            if parse_email(email).ok().as_ref() != Some(email) {
                return Err(Error::invalid(
                    "voicemail_email",
                    format!("{email:?} is not an e-mail address"),
                )
                .coded("email_invalid", [("value", format!("{email:?}"))]));
            }
            if !self.voicemail {
                return Err(Error::invalid(
                    "voicemail_email",
                    "voicemail to e-mail needs voicemail enabled",
                )
                .coded("voicemail_email_needs_voicemail", []));
            }
        }
        if self.cli_enabled && self.cli_number.is_none() {
            return Err(
                Error::invalid("cli_number", "CLI is on: choose the number to show")
                    .coded("cli_needs_number", []),
            );
        }
        if let Some(n) = &self.cli_number {
            n.check_tkg_66k("cli_number")?;
        }
        Ok(())
    }
}

/// A user's PBX options (portal 003).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PbxOptions {
    /// Access through CTI clients (desktop, mobile, TAPI).
    pub cti_access: bool,
    /// Do not offer TLS to this user's soft clients.
    pub no_tls_soft_clients: bool,
    /// Signal busy (no call waiting) while a call is active.
    pub busy_when_active: bool,
    /// Signal busy while the phone rings.
    pub busy_when_ringing: bool,
    /// Internal calls show `internal_number` instead of the displayed number.
    pub show_internal_number_internally: bool,
    /// The phone is behind NAT (the default unless the PBX is on site).
    pub behind_nat: bool,
    pub may_record: bool,
    pub parallel_softphone_sessions: bool,
    /// E-mail on every missed call (needs the user's e-mail).
    pub missed_call_email: bool,
    pub push_incoming: bool,
    pub push_missed: bool,
    /// Not rung by the dial-plan group ALLUSERS.
    pub excluded_from_allusers: bool,
    /// Hidden from clients and from the phones' directory.
    pub hidden_from_directory: bool,
    /// A personal conference room (needs a conference-room licence).
    pub personal_conference_room: bool,
    /// The call-centre supervisor service (One Net Call Centre as a supervisor); users
    /// without it can still be a call centre's supervisors (001).
    pub supervisor_service: bool,
    /// As in the hotel software: 1–32 characters.
    pub room_number: Option<String>,
    /// E.164.
    pub teams_number: Option<E164>,
    /// A UUID.
    pub teams_uuid: Option<String>,
    /// The number shown on outbound calls instead of the user's own (TKG §66k applies).
    pub displayed_number: Option<E164>,
    /// CTI presence group: 1–64 characters.
    pub presence_group: Option<String>,
    /// 4–8 digits, not all the same.
    pub conference_pin: Option<String>,
}

impl Default for PbxOptions {
    fn default() -> Self {
        PbxOptions {
            cti_access: false,
            no_tls_soft_clients: false,
            busy_when_active: false,
            busy_when_ringing: false,
            show_internal_number_internally: false,
            behind_nat: true,
            may_record: false,
            parallel_softphone_sessions: false,
            missed_call_email: false,
            push_incoming: false,
            push_missed: false,
            excluded_from_allusers: false,
            hidden_from_directory: false,
            personal_conference_room: false,
            supervisor_service: false,
            room_number: None,
            teams_number: None,
            teams_uuid: None,
            displayed_number: None,
            presence_group: None,
            conference_pin: None,
        }
    }
}

impl PbxOptions {
    /// The rules of each option on its own; `has_email` is whether the user has an e-mail.
    pub fn validate(&self, has_email: bool) -> Result<(), Error> {
        text_option("room_number", self.room_number.as_deref(), 32)?;
        text_option("presence_group", self.presence_group.as_deref(), 64)?;
        if let Some(uuid) = &self.teams_uuid {
            if !is_uuid(uuid) {
                return Err(Error::invalid(
                    "teams_uuid",
                    format!("{uuid:?} is not a UUID (8-4-4-4-12 hex digits)"),
                )
                .coded("uuid_invalid", [("value", format!("{uuid:?}"))]));
            }
        }
        if let Some(n) = &self.displayed_number {
            n.check_tkg_66k("displayed_number")?;
        }
        if let Some(n) = &self.teams_number {
            n.check_tkg_66k("teams_number")?;
        }
        if let Some(pin) = &self.conference_pin {
            let digits =
                pin.len() >= 4 && pin.len() <= 8 && pin.bytes().all(|b| b.is_ascii_digit());
            if !digits || pin.bytes().all(|b| b == pin.as_bytes()[0]) {
                return Err(
                    Error::invalid("conference_pin", "4 to 8 digits, not all the same")
                        .coded("conference_pin_rule", []),
                );
            }
        }
        if self.missed_call_email && !has_email {
            return Err(Error::invalid(
                "missed_call_email",
                "missed-call e-mails need the user's e-mail address",
            )
            .coded("missed_call_needs_email", []));
        }
        Ok(())
    }
}

/// A text option is checked as it will be stored (`validate` changes nothing): the rules of
/// every text ([`parse_text`]), and no space at its ends, where separators could hide.
fn text_option(field: &'static str, value: Option<&str>, max: usize) -> Result<(), Error> {
    if let Some(v) = value {
        if parse_text(field, v, max)? != v {
            return Err(
                Error::invalid(field, format!("{v:?} starts or ends with space"))
                    .coded("text_outer_space", [("value", format!("{v:?}"))]),
            );
        }
    }
    Ok(())
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Applies a JSON merge patch (RFC 7396) of `patch` onto `current` and reads the result as `T`:
/// unknown names and wrong types are refused with the field named.
pub fn merge_settings<T>(current: &T, patch: &serde_json::Value) -> Result<T, Error>
where
    T: Serialize + for<'de> Deserialize<'de>,
{
    let mut value = serde_json::to_value(current).map_err(Error::json("the current settings"))?;
    let serde_json::Value::Object(changes) = patch else {
        return Err(Error::invalid("body", "expected a JSON object of settings"));
    };
    if let serde_json::Value::Object(map) = &mut value {
        for (k, v) in changes {
            map.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(value).map_err(|e| {
        // Name the field at fault: serde names an unknown one in backticks; for a bad value,
        // find the changed key that fails on its own.
        let text = e.to_string();
        let field = if text.starts_with("unknown field") {
            text.split('`').nth(1).map(str::to_owned)
        } else {
            changes.iter().find_map(|(k, v)| {
                let mut one = serde_json::to_value(current).ok()?;
                one.as_object_mut()?.insert(k.clone(), v.clone());
                serde_json::from_value::<T>(one).err().map(|_| k.clone())
            })
        };
        Error::invalid(field.unwrap_or_else(|| "body".to_owned()), text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_forwarding_and_call_waiting_exclude_each_other() {
        let f = NumberFeatures {
            forward_busy: Some("+4930999".parse().unwrap()),
            call_waiting: true,
            ..Default::default()
        };
        let err = f.validate().unwrap_err().to_string();
        assert!(err.starts_with("forward_busy") && err.contains("call waiting"));
    }

    #[test]
    fn options_validate_each_field() {
        let ok = PbxOptions::default();
        assert!(ok.validate(false).is_ok() && ok.behind_nat);
        let bad = PbxOptions {
            conference_pin: Some("1111".into()),
            ..Default::default()
        };
        assert!(bad
            .validate(true)
            .unwrap_err()
            .to_string()
            .starts_with("conference_pin"));
        let bad = PbxOptions {
            teams_uuid: Some("nope".into()),
            ..Default::default()
        };
        assert!(bad
            .validate(true)
            .unwrap_err()
            .to_string()
            .starts_with("teams_uuid"));
        let bad = PbxOptions {
            missed_call_email: true,
            ..Default::default()
        };
        assert!(bad.validate(false).is_err() && bad.validate(true).is_ok());
    }

    #[test]
    fn merge_names_unknown_and_mistyped_fields() {
        let current = PbxOptions::default();
        let merged = merge_settings(&current, &serde_json::json!({"cti_access": true})).unwrap();
        assert!(merged.cti_access && merged.behind_nat);
        let err = merge_settings(&current, &serde_json::json!({"colour": 1})).unwrap_err();
        assert!(err.to_string().starts_with("colour"), "{err}");
        let err = merge_settings(
            &NumberFeatures::default(),
            &serde_json::json!({"cli_number": "0137"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("E.164"), "{err}");
    }
}
