//! One user's page (001, 000, 003): details and their edit, licences, the life cycle's
//! transitions (activation and failure the operator's — `admin::may_activate` and the
//! operator's role, as the API's, decide both the buttons and the POST —, deactivation with an
//! announcement and a transfer number, reactivation, deletion after a page that says it cannot
//! be undone), the desk phone (a handset of the number's site by Phone ID, or none) and new
//! login details — both answered with the line's login details on that one page, never again
//! —, the app registration, and the PBX options grouped as 003 explains them.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

mod line;
mod options;

pub(super) use line::{details_page, free_handsets, handset, user_details};

use super::super::templates::in_lang;
use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::users::{users_url, LICENCES};
use super::ADMINS;
use crate::admin::{NumberQuery, UserUpdate};
use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{ListQuery, NumberView, Role, User, UserState, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "user/detail.html",
        include_str!("../../templates/user/detail.html"),
    ),
    (
        "user/delete.html",
        include_str!("../../templates/user/delete.html"),
    ),
    (
        "user/login_details.html",
        include_str!("../../templates/user/login_details.html"),
    ),
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    let at = "/t/{tenant}/users/{user}";
    router
        .route(at, get(show))
        .route(&format!("{at}/edit"), post(edit))
        .route(&format!("{at}/licences"), post(licences))
        .route(&format!("{at}/options"), post(options::save))
        .route(&format!("{at}/app"), post(app_email))
        .route(&format!("{at}/app-registered"), post(app_registered))
        .route(&format!("{at}/activate"), post(activate))
        .route(&format!("{at}/fail"), post(fail))
        .route(&format!("{at}/deactivate"), post(deactivate))
        .route(&format!("{at}/delete"), get(delete_page).post(delete))
        .route(&format!("{at}/desk-phone"), post(line::desk_phone))
        .route(&format!("{at}/login-details"), post(line::login_details))
}

#[derive(Deserialize)]
pub(super) struct UserPath {
    user: String,
}

/// A form of name/value pairs (checkboxes repeat a name; absent ones are off).
pub(super) type Pairs = Vec<(String, String)>;

pub(super) fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

pub(super) fn user_url(page: &TenantPage, user: &User) -> String {
    format!("{}/{}", users_url(&page.tenant), user.id.0)
}

/// The user of the path, in the page's tenant (anything else is 404).
pub(super) async fn find(page: &TenantPage, key: &str) -> std::result::Result<User, UiError> {
    page.session.require(ADMINS)?;
    match page.session.caller().admin.user(page.tenant.id, key).await {
        Ok(u) => Ok(u),
        Err(Error::NotFound { .. } | Error::Invalid(_)) => Err(UiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The user's number as Telephony lists it (with the handset it is logged in to).
async fn line(page: &TenantPage, user: &User) -> Result<Option<NumberView>> {
    let Some(e164) = &user.number else {
        return Ok(None);
    };
    let admin = &page.session.caller().admin;
    let listed = admin
        .number_views(
            page.tenant.id,
            &NumberQuery {
                site: Some("all".into()),
            },
            &ListQuery {
                limit: Some(LIST_MAX),
                offset: None,
                q: Some(e164.as_str().to_owned()),
            },
        )
        .await?;
    Ok(listed
        .items
        .into_iter()
        .find(|v| Some(v.number.id) == user.number_id))
}

async fn show(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    render(&view, &page, &user, BTreeMap::new(), None, StatusCode::OK).await
}

/// The user's page; `sent` is the form as sent (after an error) for the edit fields.
async fn render(
    view: &View,
    page: &TenantPage,
    user: &User,
    errors: BTreeMap<String, String>,
    sent: Option<&Pairs>,
    status: StatusCode,
) -> std::result::Result<Response, UiError> {
    let caller = page.session.caller();
    let admin = &caller.admin;
    let tenant = page.tenant.id;
    let held: Vec<&str> = admin
        .user_licences(tenant, user)
        .await?
        .iter()
        .map(|k| k.as_str())
        .collect();
    let line = line(page, user).await?;
    let handsets: Vec<_> = match &line {
        Some(v) => admin
            .device_list(tenant)
            .await?
            .into_iter()
            .filter(|d| d.site_id == v.number.site_id)
            .map(line::handset)
            .collect(),
        None => Vec::new(),
    };
    let stored = json!({
        "first_name": user.first_name.as_str(),
        "last_name": user.last_name.as_str(),
        "email": user.email,
        "extension": user.extension,
        "mobile": user.mobile.as_ref().map(|m| m.as_str()),
        "contract_number": user.contract_number,
    });
    let mut edit: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in stored.as_object().into_iter().flatten() {
        edit.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
    }
    if let Some(sent) = sent {
        for (k, v) in sent {
            if edit.contains_key(k) {
                edit.insert(k.clone(), v.clone());
            }
        }
    }
    let groups = options::groups(&user.options)?;
    let principal = &caller.principal;
    let state = user.state;
    let mut response = view.render(
        Some(&page.session.0),
        "user/detail.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            list => users_url(&page.tenant),
            url => user_url(page, user),
            user => minijinja::context! {
                id => user.id.0,
                name => user.display_name(),
                email => user.email,
                state => state.as_str(),
                number => user.number.as_ref().map(|n| n.as_str()),
                extension => user.extension,
                mobile => user.mobile.as_ref().map(|n| n.as_str()),
                contract_number => user.contract_number,
                app_email => user.app_email,
                app_login => user.app_login,
                app_invitations => user.app_invitations,
            },
            edit => edit,
            licences => LICENCES,
            held => held,
            logged_in => line.as_ref().and_then(|v| v.logged_in.as_ref()).map(|l| l.phone_id.clone()),
            handsets => handsets,
            groups => groups,
            may => minijinja::context! {
                activate => state != UserState::Deactivated && state != UserState::Active
                    && crate::admin::may_activate(principal, user),
                fail => state == UserState::Pending && principal.role == Role::PlatformAdmin,
                reactivate => state == UserState::Deactivated && crate::admin::may_activate(principal, user),
                deactivate => state == UserState::Active,
                delete => matches!(state, UserState::Active | UserState::Deactivated),
                record_app_login => principal.role == Role::PlatformAdmin,
                operator => principal.role == Role::PlatformAdmin,
            },
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

/// An action's answer: back to the user's page with `flash`, or the page again with the error
/// by its field (a `Conflict` under `section`).
pub(super) async fn answer<T>(
    view: &View,
    page: &TenantPage,
    user: &User,
    result: Result<T>,
    flash: &str,
    section: &str,
    sent: Option<&Pairs>,
) -> std::result::Result<Response, UiError> {
    let (field, message, status) = match result.map_err(|e| in_lang(view.lang, e)) {
        Ok(_) => return Ok(redirect_with(&user_url(page, user), flash)),
        Err(Error::Invalid(f)) => (
            f.field.into_owned(),
            f.message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Error::Conflict { message: m, .. }) => (section.to_owned(), m, StatusCode::CONFLICT),
        Err(Error::NotFound { .. }) if section == "desk_phone" => (
            section.to_owned(),
            "no such handset".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    // An error of a field the section does not show is shown with the section.
    let field = match field.as_str() {
        "body" | "form" | "options" | "user" | "number" => section.to_owned(),
        _ => field,
    };
    let errors = BTreeMap::from([(field, message)]);
    let fresh = find(page, &user.id.0.to_string()).await?;
    render(view, page, &fresh, errors, sent, status).await
}

/// `Some(new)` when the form's `name` differs from `current` (a pending user's configuration
/// is fixed, so an unchanged field is not sent at all).
fn changed(pairs: &Pairs, name: &str, current: Option<&str>) -> Option<String> {
    let new = value(pairs, name).trim();
    (new != current.unwrap_or("")).then(|| new.to_owned())
}

async fn edit(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let f = &form.fields;
    let mobile = user.mobile.as_ref().map(|m| m.as_str());
    let input = UserUpdate {
        first_name: changed(f, "first_name", Some(user.first_name.as_str())),
        last_name: changed(f, "last_name", Some(user.last_name.as_str())),
        email: changed(f, "email", user.email.as_deref()),
        extension: changed(f, "extension", user.extension.as_deref()),
        mobile: changed(f, "mobile", mobile),
        contract_number: changed(f, "contract_number", user.contract_number.as_deref()),
        ..Default::default()
    };
    let admin = &page.session.caller().admin;
    let result = admin.user_update(page.tenant.id, &user, &input).await;
    answer(&view, &page, &user, result, "user.saved", "edit", Some(f)).await
}

async fn licences(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let kinds: Vec<String> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "licence")
        .map(|(_, v)| v.clone())
        .collect();
    let admin = &page.session.caller().admin;
    let result = admin
        .user_licences_set(page.tenant.id, &user, &kinds, None)
        .await;
    answer(&view, &page, &user, result, "user.saved", "licences", None).await
}

async fn app_email(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let input = UserUpdate {
        app_email: Some(value(&form.fields, "app_email").to_owned()),
        ..Default::default()
    };
    let admin = &page.session.caller().admin;
    let result = admin.user_update(page.tenant.id, &user, &input).await;
    answer(
        &view,
        &page,
        &user,
        result,
        "user.app_saved",
        "app_email",
        None,
    )
    .await
}

async fn app_registered(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    page.session.require(&[Role::PlatformAdmin])?;
    let caller = page.session.caller();
    let login = value(&form.fields, "login");
    let result = caller
        .admin
        .user_app_registered(page.tenant.id, &user, login)
        .await;
    answer(&view, &page, &user, result, "user.app_saved", "login", None).await
}

async fn activate(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let caller = page.session.caller();
    if !crate::admin::may_activate(&caller.principal, &user) {
        return Err(UiError::Forbidden);
    }
    let result = caller.admin.user_activate(page.tenant.id, &user).await;
    answer(&view, &page, &user, result, "user.activated", "state", None).await
}

async fn fail(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    page.session.require(&[Role::PlatformAdmin])?;
    let caller = page.session.caller();
    let result = caller.admin.user_fail(page.tenant.id, &user).await;
    answer(&view, &page, &user, result, "user.failed", "state", None).await
}

async fn deactivate(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let f = &form.fields;
    let transfer = Some(value(f, "transfer").trim()).filter(|t| !t.is_empty());
    let mode = Some(value(f, "transfer_mode")).filter(|m| !m.is_empty());
    let admin = &page.session.caller().admin;
    let result = admin
        .user_deactivate(
            page.tenant.id,
            &user,
            Some(value(f, "announcement")),
            transfer,
            mode,
        )
        .await
        .map_err(|e| match e {
            // The transfer number's parse error names no field.
            Error::Invalid(mut fe) if fe.field == "e164" || fe.field == "number" => {
                fe.field = "transfer".into();
                Error::Invalid(fe)
            }
            e => e,
        });
    answer(
        &view,
        &page,
        &user,
        result,
        "user.deactivated",
        "state",
        None,
    )
    .await
}

async fn delete_page(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    Ok(view.render(
        Some(&page.session.0),
        "user/delete.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            name => user.display_name(),
            number => user.number.as_ref().map(|n| n.as_str()),
            action => format!("{}/delete", user_url(&page, &user)),
            back => user_url(&page, &user),
        },
    ))
}

async fn delete(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let admin = &page.session.caller().admin;
    match admin.user_delete(page.tenant.id, &user).await {
        Ok(()) => Ok(redirect_with(&users_url(&page.tenant), "user.deleted")),
        result => answer(&view, &page, &user, result, "", "state", None).await,
    }
}
