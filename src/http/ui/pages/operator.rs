//! The operator's pages (the platform admin only; anyone else gets the 403 page, or 404 for
//! another tenant's address): the tenants (list, add, remove — refused while not empty, the
//! rule's message shown), the activation queue of pending users across tenants (activate,
//! fail), and per tenant the numbers allocated to it (add at a site, release) and the MACs
//! pre-assigned to it (device reservations: reserve, release).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, redirect_with, Form, Session, TenantPage, UiError, View};
use super::refusal::{given, lines, refusal};
use crate::admin::{NumberInput, NumberQuery};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Role, Tenant};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "operator/home.html",
        include_str!("../templates/operator/home.html"),
    ),
    (
        "operator/tenant.html",
        include_str!("../templates/operator/tenant.html"),
    ),
];

const OPERATOR: &[Role] = &[Role::PlatformAdmin];

/// Numbers a tenant's page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/operator", get(home))
        .route("/operator/tenants", post(tenant_add))
        .route("/operator/tenants/{tenant}", get(tenant))
        .route("/operator/tenants/{tenant}/remove", post(tenant_remove))
        .route(
            "/operator/tenants/{tenant}/users/{user}/activate",
            post(activate),
        )
        .route("/operator/tenants/{tenant}/users/{user}/fail", post(fail))
        .route("/operator/tenants/{tenant}/numbers", post(number_add))
        .route(
            "/operator/tenants/{tenant}/numbers/{number}/release",
            post(number_release),
        )
        .route("/operator/tenants/{tenant}/reservations", post(reserve))
        .route(
            "/operator/tenants/{tenant}/reservations/release",
            post(release),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameForm {
    name: String,
}

#[derive(Deserialize)]
struct UserPath {
    user: String,
}

#[derive(Deserialize)]
struct NumberPath {
    number: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct NumberForm {
    number: String,
    site: String,
    status: String,
    main: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MacsForm {
    macs: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MacForm {
    mac: String,
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    offset: Option<u32>,
}

fn tenant_url(tenant: &Tenant) -> String {
    format!("/operator/tenants/{}", tenant.id.0)
}

/// Pending users the activation queue shows at most (the oldest tenants' first).
const QUEUE_MAX: u32 = 500;

async fn home(view: View, session: Session) -> Result<Response, UiError> {
    session.require(OPERATOR)?;
    render_home(&view, &session, "", BTreeMap::new(), StatusCode::OK).await
}

async fn render_home(
    view: &View,
    session: &Session,
    new_name: &str,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let admin = &session.caller().admin;
    let tenants = admin.tenant_list().await?;
    let names: std::collections::HashMap<_, _> =
        tenants.iter().map(|t| (t.id, t.name.as_str())).collect();
    let queue: Vec<_> = admin
        .activation_queue(QUEUE_MAX)
        .await?
        .iter()
        .map(|u| {
            minijinja::context! {
                tenant => names.get(&u.tenant_id).copied().unwrap_or_default(),
                name => u.display_name(),
                email => u.email,
                number => u.number.as_ref().map(|n| n.as_str().to_owned()),
                action => format!("/operator/tenants/{}/users/{}", u.tenant_id.0, u.id.0),
            }
        })
        .collect();
    let tenants: Vec<_> = tenants
        .iter()
        .map(|t| {
            minijinja::context! {
                id => t.id.0, name => t.name, href => tenant_url(t),
                portal => format!("/t/{}/users", t.id.0),
            }
        })
        .collect();
    let mut response = view.render(
        Some(&session.0),
        "operator/home.html",
        minijinja::context! {
            tenants => tenants, queue => queue, new_name => new_name, errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

async fn tenant_add(
    view: View,
    session: Session,
    form: Form<NameForm>,
) -> Result<Response, UiError> {
    session.require(OPERATOR)?;
    match session.caller().admin.tenant_add(&form.fields.name).await {
        Ok(t) => Ok(redirect_with(&tenant_url(&t), "operator.tenant_added")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "name")?;
            render_home(&view, &session, &form.fields.name, errors, status).await
        }
    }
}

async fn tenant_remove(
    view: View,
    page: TenantPage,
    _form: Form<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let admin = &page.session.caller().admin;
    match admin.tenant_remove(&page.tenant.id.0.to_string()).await {
        Ok(()) => Ok(redirect_with("/operator", "operator.tenant_removed")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "remove")?;
            render_home(&view, &page.session, "", errors, status).await
        }
    }
}

async fn activate(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let admin = &page.session.caller().admin;
    let user = admin.user(page.tenant.id, &path.user).await?;
    let result = admin.user_activate(page.tenant.id, &user).await;
    queue_answer(&view, &page, result, "operator.activated").await
}

async fn fail(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let admin = &page.session.caller().admin;
    let user = admin.user(page.tenant.id, &path.user).await?;
    let result = admin.user_fail(page.tenant.id, &user).await;
    queue_answer(&view, &page, result, "operator.failed").await
}

async fn queue_answer<T>(
    view: &View,
    page: &TenantPage,
    result: crate::error::Result<T>,
    flash: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(_) => Ok(redirect_with("/operator#queue", flash)),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "queue")?;
            render_home(view, &page.session, "", errors, status).await
        }
    }
}

async fn tenant(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let new = NumberForm::default();
    render_tenant(
        &view,
        &page,
        &search,
        &new,
        "",
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

async fn number_add(
    view: View,
    page: TenantPage,
    form: Form<NumberForm>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let f = &form.fields;
    let input = NumberInput {
        number: f.number.trim().to_owned(),
        site: given(&f.site),
        status: given(&f.status),
        main: f.main.is_some(),
    };
    let result = page
        .session
        .caller()
        .admin
        .number_add(page.tenant.id, &input)
        .await;
    tenant_answer(
        &view,
        &page,
        result,
        "operator.number_added",
        "number",
        f,
        "",
    )
    .await
}

async fn number_release(
    view: View,
    page: TenantPage,
    Path(path): Path<NumberPath>,
    _form: Form<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let admin = &page.session.caller().admin;
    let number = admin
        .number(page.tenant.id, &path.number)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } | Error::Invalid(_) => UiError::NotFound,
            e => e.into(),
        })?;
    let result = admin.number_release(page.tenant.id, &number).await;
    let new = NumberForm::default();
    tenant_answer(
        &view,
        &page,
        result,
        "operator.number_released",
        "release",
        &new,
        "",
    )
    .await
}

async fn reserve(view: View, page: TenantPage, form: Form<MacsForm>) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let macs = lines(&form.fields.macs);
    let result = page
        .session
        .caller()
        .admin
        .device_reserve(page.tenant.id, &macs)
        .await;
    let new = NumberForm::default();
    let typed = form.fields.macs.as_str();
    tenant_answer(
        &view,
        &page,
        result,
        "operator.reserved",
        "macs",
        &new,
        typed,
    )
    .await
}

async fn release(view: View, page: TenantPage, form: Form<MacForm>) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let admin = &page.session.caller().admin;
    let result = admin.device_release(page.tenant.id, &form.fields.mac).await;
    let result = match result {
        Err(Error::NotFound { .. }) => return Err(UiError::NotFound),
        r => r,
    };
    let new = NumberForm::default();
    tenant_answer(&view, &page, result, "operator.released", "macs", &new, "").await
}

#[allow(clippy::too_many_arguments)]
async fn tenant_answer<T>(
    view: &View,
    page: &TenantPage,
    result: crate::error::Result<T>,
    flash: &str,
    conflict_field: &str,
    new: &NumberForm,
    macs: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(_) => Ok(redirect_with(&tenant_url(&page.tenant), flash)),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, conflict_field)?;
            let search = Search::default();
            render_tenant(view, page, &search, new, macs, errors, status).await
        }
    }
}

async fn render_tenant(
    view: &View,
    page: &TenantPage,
    search: &Search,
    new: &NumberForm,
    macs: &str,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let tenant = &page.tenant;
    let q = search.q.clone().filter(|q| !q.trim().is_empty());
    let offset = search.offset.unwrap_or(0);
    let query = ListQuery {
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
        q: q.clone(),
    };
    let all = NumberQuery {
        site: Some("all".to_owned()),
    };
    let listed = admin.number_views(tenant.id, &all, &query).await?;
    let sites = admin.site_list(tenant.id).await?;
    let site_name = |id| {
        sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let numbers: Vec<_> = listed
        .items
        .iter()
        .map(|v| {
            minijinja::context! {
                id => v.number.id.0,
                e164 => v.number.e164.as_str(),
                site => site_name(v.number.site_id),
                status => v.number.status.as_str(),
                main => v.number.is_main,
                assigned_to => v.assigned_to,
            }
        })
        .collect();
    let reservations: Vec<_> = admin
        .device_reservations(tenant.id)
        .await?
        .iter()
        .map(|r| r.mac.to_string())
        .collect();
    let base = tenant_url(tenant);
    let pairs: Vec<_> = q.iter().map(|q| ("q", q.clone())).collect();
    let (prev, next) = page_links(&base, &pairs, offset, PAGE_SIZE, listed.total);
    let mut response = view.render(
        Some(&page.session.0),
        "operator/tenant.html",
        minijinja::context! {
            tenant => minijinja::context! { id => tenant.id.0, name => tenant.name },
            action => base,
            numbers => numbers,
            total => listed.total,
            q => q.unwrap_or_default(),
            prev => prev,
            next => next,
            sites => sites.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            statuses => ["reserved", "active", "pending"],
            new => minijinja::context! {
                number => new.number, site => new.site, status => new.status,
                main => new.main.is_some(),
            },
            reservations => reservations,
            macs => macs,
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}
