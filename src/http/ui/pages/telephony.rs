//! A tenant's telephony (002): the numbers of one site (the first alphabetically unless the
//! picker says otherwise), searched on the number and "assigned to", and one number's page with
//! its actions — features, reset PIN, assign/unassign, display name, log in to a handset by
//! Phone ID (the line's login details shown once, as the user's page shows them) and log out;
//! after a rule's error the pickers and fields keep what the admin chose. Each action is one `admin` operation; the rules (active and not main,
//! busy forwarding vs call waiting, one number per handset, ...) are theirs.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::super::templates::in_lang;
use super::super::{page_links, redirect_with, Form, TenantPage, UiError, View};
use super::ADMINS;
use crate::admin::{LoginTarget, NumberQuery};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Number, NumberStatus, NumberView, Tenant, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "telephony/list.html",
        include_str!("../templates/telephony/list.html"),
    ),
    (
        "telephony/assigned.html",
        include_str!("../templates/telephony/assigned.html"),
    ),
    (
        "telephony/number.html",
        include_str!("../templates/telephony/number.html"),
    ),
];

/// Numbers a page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/telephony", get(list))
        .route("/t/{tenant}/telephony/{number}", get(number))
        .route("/t/{tenant}/telephony/{number}/features", post(features))
        .route("/t/{tenant}/telephony/{number}/reset-pin", post(reset_pin))
        .route("/t/{tenant}/telephony/{number}/assign", post(assign))
        .route("/t/{tenant}/telephony/{number}/unassign", post(unassign))
        .route("/t/{tenant}/telephony/{number}/label", post(label))
        .route("/t/{tenant}/telephony/{number}/login", post(login))
        .route("/t/{tenant}/telephony/{number}/logout", post(logout))
}

#[derive(Deserialize, Default)]
struct Search {
    site: Option<String>,
    q: Option<String>,
    offset: Option<u32>,
}

/// The `{number}` of the path (the number's id; an E.164 form works too).
#[derive(Deserialize)]
struct NumberPath {
    number: String,
}

/// The features form: empty targets are no forwarding; a checkbox is sent only when ticked.
/// `busy` is one choice of three, since busy forwarding and call waiting exclude each other.
#[derive(Deserialize, Default, Clone)]
struct FeaturesForm {
    #[serde(default)]
    forward_always: String,
    #[serde(default)]
    busy: String,
    #[serde(default)]
    forward_busy: String,
    #[serde(default)]
    forward_no_answer: String,
    voicemail: Option<String>,
    #[serde(default)]
    voicemail_email: String,
    hide_caller_id: Option<String>,
    do_not_disturb: Option<String>,
    cli_enabled: Option<String>,
    #[serde(default)]
    cli_number: String,
}

#[derive(Deserialize, Default)]
struct AssignForm {
    #[serde(default)]
    user: String,
}

#[derive(Deserialize, Default)]
struct LabelForm {
    #[serde(default)]
    first: String,
    #[serde(default)]
    last: String,
}

#[derive(Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    handset: String,
}

/// What the page's pickers and fields were sent with, to show again beside a rule's error
/// (empty: as stored, or nothing chosen).
#[derive(Default)]
struct Chosen<'a> {
    /// The features as sent, instead of as stored.
    features: Option<&'a FeaturesForm>,
    handset: String,
    user: String,
    label: Option<(String, String)>,
}

/// A form without fields but the CSRF token.
#[derive(Deserialize)]
struct Empty {}

fn list_url(tenant: &Tenant) -> String {
    format!("/t/{}/telephony", tenant.id.0)
}

fn number_url(tenant: &Tenant, number: &Number) -> String {
    format!("/t/{}/telephony/{}", tenant.id.0, number.id.0)
}

async fn list(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let sites = admin.site_list(tenant).await?;
    let key = search.site.clone().filter(|s| !s.trim().is_empty());
    // No site yet: the page says so instead of an error.
    let site = match (&key, sites.is_empty()) {
        (None, true) => None,
        _ => Some(admin.site(tenant, key.as_deref()).await?),
    };
    let q = search.q.clone().filter(|q| !q.trim().is_empty());
    let offset = search.offset.unwrap_or(0);
    let (rows, total) = match &site {
        Some(site) => {
            let listed = admin
                .number_views(
                    tenant,
                    &NumberQuery {
                        site: Some(site.id.0.to_string()),
                    },
                    &ListQuery {
                        limit: Some(PAGE_SIZE),
                        offset: Some(offset),
                        q: q.clone(),
                    },
                )
                .await?;
            let rows: Vec<_> = listed.items.iter().map(|v| row(&page.tenant, v)).collect();
            (rows, listed.total)
        }
        None => (Vec::new(), 0),
    };
    let base = list_url(&page.tenant);
    let mut query = Vec::new();
    if let Some(site) = &site {
        query.push(("site", site.id.0.to_string()));
    }
    if let Some(q) = &q {
        query.push(("q", q.clone()));
    }
    let (prev, next) = page_links(&base, &query, offset, PAGE_SIZE, total);
    let sites: Vec<_> = sites
        .iter()
        .map(|s| minijinja::context! { id => s.id.0, name => s.name })
        .collect();
    Ok(view.render(
        Some(&page.session.0),
        "telephony/list.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => base,
            sites => sites,
            site => site.as_ref().map(|s| minijinja::context! { id => s.id.0, name => s.name }),
            numbers => rows,
            total => total,
            first => if total == 0 { 0 } else { u64::from(offset) + 1 },
            last => u64::from(offset) + rows_len(total, offset, PAGE_SIZE),
            q => q.unwrap_or_default(),
            prev => prev,
            next => next,
        },
    ))
}

/// How many rows a page of `total` from `offset` shows.
fn rows_len(total: u64, offset: u32, size: u32) -> u64 {
    total.saturating_sub(u64::from(offset)).min(u64::from(size))
}

/// One row of the list: what the columns show and which actions the number has.
fn row(tenant: &Tenant, v: &NumberView) -> minijinja::Value {
    let n = &v.number;
    let assigned = if n.is_main {
        "main"
    } else if v.user_id.is_some() {
        "user"
    } else if v.assigned_to.is_some() {
        "label"
    } else {
        "unassigned"
    };
    minijinja::context! {
        id => n.id.0,
        url => number_url(tenant, n),
        e164 => n.e164.as_str(),
        extension => v.extension,
        default_pin => n.default_pin,
        assigned => assigned,
        assigned_to => v.assigned_to,
        user_url => v.assigned_to.as_ref().filter(|_| v.user_id.is_some()).map(|name| {
            format!(
                "/t/{}/users?{}",
                tenant.id.0,
                serde_urlencoded::to_string([("q", name)]).unwrap_or_default()
            )
        }),
        status => n.status.as_str(),
        logged_in => v.logged_in.as_ref().map(|l| l.phone_id.as_str()),
        actions => n.status == NumberStatus::Active && !n.is_main,
    }
}

/// The number of the path, with its list view (assigned to, extension, handset).
async fn find(page: &TenantPage, key: &str) -> Result<NumberView, UiError> {
    let admin = &page.session.caller().admin;
    let number = admin
        .number(page.tenant.id, key)
        .await
        .map_err(|e| match e {
            Error::Invalid(_) => UiError::NotFound,
            e => e.into(),
        })?;
    let listed = admin
        .number_views(
            page.tenant.id,
            &NumberQuery {
                site: Some(number.site_id.0.to_string()),
            },
            &ListQuery {
                limit: Some(LIST_MAX),
                offset: None,
                q: Some(number.e164.as_str().to_owned()),
            },
        )
        .await?;
    listed
        .items
        .into_iter()
        .find(|v| v.number.id == number.id)
        .ok_or(UiError::NotFound)
}

async fn number(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let chosen = Chosen::default();
    render_number(&view, &page, &v, &chosen, BTreeMap::new(), StatusCode::OK).await
}

/// The number's page; `chosen` is what its forms were sent with (after an error).
async fn render_number(
    view: &View,
    page: &TenantPage,
    v: &NumberView,
    chosen: &Chosen<'_>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let n = &v.number;
    let (label_first, label_last) = match &chosen.label {
        Some((first, last)) => (Some(first.clone()), Some(last.clone())),
        None => (n.label_first.clone(), n.label_last.clone()),
    };
    let f = &n.features;
    let stored = FeaturesForm {
        forward_always: opt(&f.forward_always),
        busy: if f.call_waiting {
            "wait".into()
        } else if f.forward_busy.is_some() {
            "forward".into()
        } else {
            "none".into()
        },
        forward_busy: opt(&f.forward_busy),
        forward_no_answer: opt(&f.forward_no_answer),
        voicemail: f.voicemail.then(String::new),
        voicemail_email: f.voicemail_email.clone().unwrap_or_default(),
        hide_caller_id: f.hide_caller_id.then(String::new),
        do_not_disturb: f.do_not_disturb.then(String::new),
        cli_enabled: f.cli_enabled.then(String::new),
        cli_number: opt(&f.cli_number),
    };
    let shown = chosen.features.unwrap_or(&stored);
    let actions = n.status == NumberStatus::Active && !n.is_main;
    // The pickers: the site's active numbers (CLI), its handsets (log in), and the users
    // without a number (assign) — which of them the operation takes is its rule.
    let mut cli_numbers = Vec::new();
    let mut handsets = Vec::new();
    let mut users = Vec::new();
    if actions {
        let numbers = admin
            .number_views(
                tenant,
                &NumberQuery {
                    site: Some(n.site_id.0.to_string()),
                },
                &ListQuery {
                    limit: Some(LIST_MAX),
                    offset: None,
                    q: None,
                },
            )
            .await?;
        cli_numbers = numbers
            .items
            .iter()
            .filter(|o| o.number.status == NumberStatus::Active)
            .map(|o| o.number.e164.as_str().to_owned())
            .collect();
        handsets = admin
            .device_list(tenant)
            .await?
            .into_iter()
            .filter(|d| d.site_id == n.site_id)
            .map(super::user::handset)
            .collect();
        users = admin
            .user_page(
                tenant,
                &ListQuery {
                    limit: Some(LIST_MAX),
                    offset: None,
                    q: None,
                },
            )
            .await?
            .items
            .into_iter()
            .filter(|u| u.number_id.is_none())
            .map(|u| {
                minijinja::context! {
                    id => u.id.0.to_string(),
                    name => format!("{} {}", u.first_name.as_str(), u.last_name.as_str()),
                }
            })
            .collect();
    }
    let site = admin.site(tenant, Some(&n.site_id.0.to_string())).await?;
    let url = number_url(&page.tenant, n);
    let mut response = view.render(
        Some(&page.session.0),
        "telephony/number.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            list => format!("{}?site={}", list_url(&page.tenant), site.id.0),
            site => site.name,
            url => url,
            number => row(&page.tenant, v),
            label_first => label_first,
            label_last => label_last,
            chosen => minijinja::context! { handset => chosen.handset, user => chosen.user },
            custom_pin => n.custom_pin,
            pin_locked => n.pin_locked,
            features => minijinja::context! {
                forward_always => shown.forward_always,
                busy => shown.busy,
                forward_busy => shown.forward_busy,
                forward_no_answer => shown.forward_no_answer,
                voicemail => shown.voicemail.is_some(),
                voicemail_email => shown.voicemail_email,
                hide_caller_id => shown.hide_caller_id.is_some(),
                do_not_disturb => shown.do_not_disturb.is_some(),
                cli_enabled => shown.cli_enabled.is_some(),
                cli_number => shown.cli_number,
            },
            stored => minijinja::context! {
                forward_always => f.forward_always.as_ref().map(|e| e.as_str()),
                forward_busy => f.forward_busy.as_ref().map(|e| e.as_str()),
                forward_no_answer => f.forward_no_answer.as_ref().map(|e| e.as_str()),
                voicemail => f.voicemail,
                voicemail_email => f.voicemail_email,
                hide_caller_id => f.hide_caller_id,
                call_waiting => f.call_waiting,
                do_not_disturb => f.do_not_disturb,
                cli_enabled => f.cli_enabled,
                cli_number => f.cli_number.as_ref().map(|e| e.as_str()),
            },
            cli_numbers => cli_numbers,
            handsets => handsets,
            users => users,
            errors => errors,
        },
    );
    if status != StatusCode::OK {
        *response.status_mut() = status;
    }
    Ok(response)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// An action's answer: back to the number with `flash`, or its page again with the error by
/// its field (`Invalid`, and the `Conflict`s a form can cause, under `conflict_field`).
async fn answer<T>(
    view: &View,
    page: &TenantPage,
    v: &NumberView,
    result: crate::error::Result<T>,
    flash: &str,
    conflict_field: &str,
    chosen: &Chosen<'_>,
) -> Result<Response, UiError> {
    let (field, message, status) = match result.map_err(|e| in_lang(view.lang, e)) {
        Ok(_) => return Ok(redirect_with(&number_url(&page.tenant, &v.number), flash)),
        Err(Error::Invalid(f)) => (
            f.field.into_owned(),
            f.message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Error::Conflict { message, .. }) => {
            (conflict_field.to_owned(), message, StatusCode::CONFLICT)
        }
        Err(Error::NotFound { .. }) if conflict_field == "handset" => (
            "handset".to_owned(),
            "no such handset".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    let errors = BTreeMap::from([(field, message)]);
    // The page as it is now (the action may have changed nothing, or something else did).
    let fresh = find(page, &v.number.id.0.to_string()).await?;
    render_number(view, page, &fresh, chosen, errors, status).await
}

async fn features(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    form: Form<FeaturesForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let f = &form.fields;
    let target = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            serde_json::Value::Null
        } else {
            json!(s)
        }
    };
    let changes = json!({
        "forward_always": target(&f.forward_always),
        "forward_busy": if f.busy == "forward" { target(&f.forward_busy) } else { serde_json::Value::Null },
        "call_waiting": f.busy == "wait",
        "forward_no_answer": target(&f.forward_no_answer),
        "voicemail": f.voicemail.is_some(),
        "voicemail_email": target(&f.voicemail_email),
        "hide_caller_id": f.hide_caller_id.is_some(),
        "do_not_disturb": f.do_not_disturb.is_some(),
        "cli_enabled": f.cli_enabled.is_some(),
        "cli_number": target(&f.cli_number),
    });
    let result = page
        .session
        .caller()
        .admin
        .number_features(page.tenant.id, &v.number, &changes)
        .await;
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_features",
        "features",
        &Chosen {
            features: Some(f),
            ..Chosen::default()
        },
    )
    .await
}

async fn reset_pin(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    _form: Form<Empty>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let result = page
        .session
        .caller()
        .admin
        .number_reset_pin(page.tenant.id, &v.number)
        .await;
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_pin_reset",
        "pin",
        &Chosen::default(),
    )
    .await
}

async fn assign(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    form: Form<AssignForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let admin = &page.session.caller().admin;
    let key = form.fields.user.trim();
    let chosen = Chosen {
        user: key.to_owned(),
        ..Chosen::default()
    };
    let result = if key.is_empty() {
        Err(Error::invalid("user", "choose a user"))
    } else {
        match admin.user(page.tenant.id, key).await {
            Ok(user) => admin.number_assign(page.tenant.id, &v.number, &user).await,
            Err(Error::NotFound { .. }) => Err(Error::invalid("user", "no such user")),
            Err(e) => Err(e),
        }
    };
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_assigned",
        "user",
        &chosen,
    )
    .await
}

async fn unassign(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    _form: Form<Empty>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let result = page
        .session
        .caller()
        .admin
        .number_unassign(page.tenant.id, &v.number)
        .await;
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_unassigned",
        "user",
        &Chosen::default(),
    )
    .await
}

async fn label(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    form: Form<LabelForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let result = page
        .session
        .caller()
        .admin
        .number_label(
            page.tenant.id,
            &v.number,
            Some(&form.fields.first),
            Some(&form.fields.last),
        )
        .await;
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_label",
        "label_first",
        &Chosen {
            label: Some((form.fields.first.clone(), form.fields.last.clone())),
            ..Chosen::default()
        },
    )
    .await
}

async fn login(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    form: Form<LoginForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let handset = form.fields.handset.trim();
    let result = if handset.is_empty() {
        Err(Error::invalid("handset", "choose a handset"))
    } else {
        // The portal's rule is one number per handset: no additional line here.
        let target = LoginTarget {
            handset: handset.to_owned(),
            additional_line: false,
        };
        page.session
            .caller()
            .admin
            .number_login(page.tenant.id, &v.number, &target)
            .await
    };
    match result {
        // The line's login details, shown this once (a later view shows only the Phone ID).
        Ok(details) => {
            let name = v.assigned_to.as_deref().unwrap_or(v.number.e164.as_str());
            let back = number_url(&page.tenant, &v.number);
            Ok(super::user::details_page(
                &view, &page, name, &back, &details,
            ))
        }
        Err(e) => {
            let chosen = Chosen {
                handset: handset.to_owned(),
                ..Chosen::default()
            };
            answer::<()>(&view, &page, &v, Err(e), "", "handset", &chosen).await
        }
    }
}

async fn logout(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    _form: Form<Empty>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let v = find(&page, &path.number).await?;
    let result = page
        .session
        .caller()
        .admin
        .number_logout(page.tenant.id, &v.number)
        .await;
    answer(
        &view,
        &page,
        &v,
        result,
        "telephony.flash_logged_out",
        "handset",
        &Chosen::default(),
    )
    .await
}
