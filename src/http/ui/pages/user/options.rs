//! The PBX options of a user's page (003), in the groups the PBX manual explains them in:
//! shown from the stored `PbxOptions` and saved whole through `admin::user_update` (whose
//! merge and `PbxOptions::validate` name a bad field).

use axum::extract::Path;
use axum::response::Response;
use serde_json::json;

use super::super::super::{Form, TenantPage, UiError, View};
use super::{answer, find, value, Pairs, UserPath};
use crate::admin::UserUpdate;
use crate::error::{Error, Result};
use crate::model::PbxOptions;

/// The PBX options (003) in their groups: (name, whether it is a text).
const OPTION_GROUPS: &[(&str, &[(&str, bool)])] = &[
    (
        "clients",
        &[
            ("cti_access", false),
            ("no_tls_soft_clients", false),
            ("parallel_softphone_sessions", false),
            ("may_record", false),
            ("presence_group", true),
        ],
    ),
    (
        "calls",
        &[
            ("busy_when_active", false),
            ("busy_when_ringing", false),
            ("behind_nat", false),
            ("show_internal_number_internally", false),
            ("displayed_number", true),
        ],
    ),
    (
        "notifications",
        &[
            ("missed_call_email", false),
            ("push_incoming", false),
            ("push_missed", false),
        ],
    ),
    (
        "directory",
        &[
            ("excluded_from_allusers", false),
            ("hidden_from_directory", false),
        ],
    ),
    (
        "conference",
        &[
            ("personal_conference_room", false),
            ("conference_pin", true),
        ],
    ),
    (
        "services",
        &[
            ("supervisor_service", false),
            ("room_number", true),
            ("teams_number", true),
            ("teams_uuid", true),
        ],
    ),
];

/// The groups for the template: `[{name, options: [{name, text, on, value}]}]`.
pub(super) fn groups(options: &PbxOptions) -> Result<Vec<minijinja::Value>> {
    let current = serde_json::to_value(options).map_err(Error::json("the PBX options"))?;
    Ok(OPTION_GROUPS
        .iter()
        .map(|(group, names)| {
            let options: Vec<_> = names
                .iter()
                .map(|(name, text)| {
                    let v = &current[*name];
                    minijinja::context! {
                        name => name,
                        text => text,
                        on => v.as_bool().unwrap_or(false),
                        value => v.as_str().unwrap_or_default(),
                    }
                })
                .collect();
            minijinja::context! { name => group, options => options }
        })
        .collect())
}

pub(super) async fn save(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let mut changes = serde_json::Map::new();
    for (_, names) in OPTION_GROUPS {
        for (name, text) in *names {
            let v = value(&form.fields, name).trim();
            let v = match (text, v) {
                (true, "") => serde_json::Value::Null,
                (true, v) => json!(v),
                (false, v) => json!(!v.is_empty()),
            };
            changes.insert((*name).to_owned(), v);
        }
    }
    let input = UserUpdate {
        options: Some(serde_json::Value::Object(changes)),
        ..Default::default()
    };
    let admin = &page.session.caller().admin;
    let result = admin.user_update(page.tenant.id, &user, &input).await;
    answer(&view, &page, &user, result, "user.saved", "options", None).await
}
