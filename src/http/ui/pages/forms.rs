//! What the Groups pages share (hunt groups and call centres, pickup and park groups, virtual
//! users, night service, bridges, the directory): the form body as ordered pairs (repeated
//! fields such as the agents keep their order), errors by field, the tenant's users for the
//! pickers, and the delete confirmation page (`groups/confirm.html`) and field macros
//! (`groups/fields.html`) in the Groups page's templates.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;

use super::super::templates::{in_lang, Lang};
use super::super::{TenantPage, UiError, View};
use crate::error::Error;
use crate::model::Tenant;

/// A form's fields in the order sent (`serde_urlencoded` reads these from any form).
pub(super) type Pairs = Vec<(String, String)>;

/// The first value of `name`, trimmed ("" if absent).
pub(super) fn one(pairs: &Pairs, name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Every value of `name` in order, trimmed, empty ones kept (rows of a picker line up).
pub(super) fn all(pairs: &Pairs, name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// `Some(text)` unless blank.
pub(super) fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A whole number typed into `field`; blank is none.
pub(super) fn int(field: &'static str, text: &str) -> Result<Option<i64>, Error> {
    match given(text) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid(field, format!("{t:?} is not a whole number"))),
    }
}

/// An `Invalid` error by its own field, a `Conflict` by the form's input `conflict_field` picks
/// for the field the conflict names (none: the form's choice), a number or site the
/// form named that does not exist by that field; other errors stay. (The object of the page
/// itself is looked up before, so its `NotFound` is the 404 page.)
/// A rule's text is in `lang` where the portal's catalogue has it.
pub(super) fn by_field(
    lang: Lang,
    e: Error,
    conflict_field: impl Fn(Option<&str>) -> &'static str,
) -> Result<BTreeMap<String, String>, UiError> {
    match in_lang(lang, e) {
        Error::Invalid(f) => Ok(BTreeMap::from([(f.field.into_owned(), f.message)])),
        Error::Conflict { field, message, .. } => Ok(BTreeMap::from([(
            conflict_field(field.as_deref()).to_owned(),
            message,
        )])),
        Error::NotFound { what, key } if what == "number" || what == "site" => Ok(BTreeMap::from(
            [(what.to_owned(), format!("{what} not found: {key}"))],
        )),
        e => Err(e.into()),
    }
}

pub(super) fn unprocessable(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

pub(super) fn tenant_ctx(tenant: &Tenant) -> minijinja::Value {
    minijinja::context! { id => tenant.id.0, name => tenant.name }
}

/// The tenant's users for a picker: id, name and state (a pending user is shown as such; the
/// rule that refuses them is the admin's).
pub(super) async fn users(page: &TenantPage) -> Result<Vec<minijinja::Value>, UiError> {
    let users = page
        .session
        .caller()
        .admin
        .user_list(page.tenant.id)
        .await?;
    Ok(users
        .iter()
        .map(|u| {
            minijinja::context! {
                id => u.id.0.to_string(),
                name => u.display_name(),
                state => u.state.as_str(),
            }
        })
        .collect())
}

/// The page that asks before deleting `name`: the texts are `t.<page>.delete_*`, the form
/// posts to `action`, cancel goes to `back`.
pub(super) fn confirm(
    view: &View,
    page: &TenantPage,
    catalogue: &str,
    name: &str,
    action: &str,
    back: &str,
) -> Response {
    view.render(
        Some(&page.session.0),
        "groups/confirm.html",
        minijinja::context! {
            tenant => tenant_ctx(&page.tenant),
            page => catalogue,
            name => name,
            action => action,
            back => back,
        },
    )
}
