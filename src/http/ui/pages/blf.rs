//! Busy Lamp Field (000): the admin's grants (who may be monitored, by whom or by anyone:
//! list, grant, revoke) and each user's monitor list (add, remove). Only granted colleagues
//! can be added: the admin rule refuses others, and its message is shown by the field.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::refusal::{given, refusal};
use super::ADMINS;
use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{Tenant, User};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "blf/grants.html",
        include_str!("../templates/blf/grants.html"),
    ),
    ("blf/user.html", include_str!("../templates/blf/user.html")),
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/blf", get(grants).post(grant))
        .route("/t/{tenant}/blf/grants/{grant}/revoke", post(revoke))
        .route(
            "/t/{tenant}/blf/users/{user}",
            get(monitors).post(monitor_add),
        )
        .route(
            "/t/{tenant}/blf/users/{user}/monitors/{watched}/remove",
            post(monitor_remove),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GrantForm {
    watched: String,
    watcher: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WatchForm {
    watched: String,
}

#[derive(Deserialize)]
struct GrantPath {
    grant: String,
}

#[derive(Deserialize)]
struct UserPath {
    user: String,
}

#[derive(Deserialize)]
struct MonitorPath {
    user: String,
    watched: String,
}

fn blf_url(tenant: &Tenant) -> String {
    format!("/t/{}/blf", tenant.id.0)
}

fn user_url(tenant: &Tenant, user: &User) -> String {
    format!("/t/{}/blf/users/{}", tenant.id.0, user.id.0)
}

/// A user a form names (by id from a picker): one the tenant does not have is that field's
/// error.
async fn picked(page: &TenantPage, field: &'static str, key: &str) -> Result<User> {
    match page.session.caller().admin.user(page.tenant.id, key).await {
        Err(Error::NotFound { .. }) => Err(Error::invalid(field, "choose a user of the list")),
        r => r,
    }
}

/// A user the path names; another tenant's is 404.
async fn path_user(page: &TenantPage, key: &str) -> std::result::Result<User, UiError> {
    let admin = &page.session.caller().admin;
    admin.user(page.tenant.id, key).await.map_err(|e| match e {
        Error::NotFound { .. } | Error::Invalid(_) => UiError::NotFound,
        e => e.into(),
    })
}

fn person(u: &User) -> minijinja::Value {
    minijinja::context! {
        id => u.id.0,
        name => u.display_name(),
        extension => u.extension,
        number => u.number.as_ref().map(|n| n.as_str().to_owned()),
    }
}

async fn grants(view: View, page: TenantPage) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let new = GrantForm::default();
    render_grants(&view, &page, &new, BTreeMap::new(), StatusCode::OK).await
}

async fn grant(
    view: View,
    page: TenantPage,
    form: Form<GrantForm>,
) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let result = async {
        let watched = picked(&page, "watched", &f.watched).await?;
        let watcher = match given(&f.watcher) {
            Some(w) => Some(picked(&page, "watcher", &w).await?),
            None => None,
        };
        let admin = &page.session.caller().admin;
        admin
            .blf_grant(page.tenant.id, &watched, watcher.as_ref())
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(redirect_with(&blf_url(&page.tenant), "blf.granted")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "watched")?;
            render_grants(&view, &page, f, errors, status).await
        }
    }
}

async fn revoke(
    page: TenantPage,
    Path(path): Path<GrantPath>,
    _form: Form<BTreeMap<String, String>>,
) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let id: i64 = path.grant.parse().map_err(|_| UiError::NotFound)?;
    let admin = &page.session.caller().admin;
    admin.blf_revoke(page.tenant.id, id).await?;
    Ok(redirect_with(&blf_url(&page.tenant), "blf.revoked"))
}

async fn render_grants(
    view: &View,
    page: &TenantPage,
    new: &GrantForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> std::result::Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let users = admin.user_list(page.tenant.id).await?;
    let name = |id| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(User::display_name)
            .unwrap_or_default()
    };
    let grants: Vec<_> = admin
        .blf_grants(page.tenant.id)
        .await?
        .iter()
        .map(|g| {
            minijinja::context! {
                id => g.id,
                watched => name(g.watched),
                watcher => g.watcher.map(name),
            }
        })
        .collect();
    let people: Vec<_> = users
        .iter()
        .map(|u| minijinja::context! { href => user_url(&page.tenant, u), ..person(u) })
        .collect();
    let mut response = view.render(
        Some(&page.session.0),
        "blf/grants.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => blf_url(&page.tenant),
            grants => grants,
            users => people,
            new => minijinja::context! { watched => new.watched, watcher => new.watcher },
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

async fn monitors(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let user = path_user(&page, &path.user).await?;
    render_user(&view, &page, &user, "", BTreeMap::new(), StatusCode::OK).await
}

async fn monitor_add(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<WatchForm>,
) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let user = path_user(&page, &path.user).await?;
    let result = async {
        let watched = picked(&page, "watched", &form.fields.watched).await?;
        let admin = &page.session.caller().admin;
        admin.monitor_add(page.tenant.id, &user, &watched).await
    }
    .await;
    match result {
        Ok(()) => Ok(redirect_with(
            &user_url(&page.tenant, &user),
            "blf.monitor_added",
        )),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "watched")?;
            let typed = form.fields.watched.as_str();
            render_user(&view, &page, &user, typed, errors, status).await
        }
    }
}

async fn monitor_remove(
    page: TenantPage,
    Path(path): Path<MonitorPath>,
    _form: Form<BTreeMap<String, String>>,
) -> std::result::Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let user = path_user(&page, &path.user).await?;
    let watched = path_user(&page, &path.watched).await?;
    let admin = &page.session.caller().admin;
    admin
        .monitor_remove(page.tenant.id, user.id, watched.id)
        .await?;
    Ok(redirect_with(
        &user_url(&page.tenant, &user),
        "blf.monitor_removed",
    ))
}

async fn render_user(
    view: &View,
    page: &TenantPage,
    user: &User,
    watched: &str,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> std::result::Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let list = admin.monitor_list(page.tenant.id, user).await?;
    let colleagues: Vec<_> = admin
        .monitor_choices(page.tenant.id, user)
        .await?
        .iter()
        .map(person)
        .collect();
    let mut response = view.render(
        Some(&page.session.0),
        "blf/user.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            back => blf_url(&page.tenant),
            action => user_url(&page.tenant, user),
            user => person(user),
            monitors => list.iter().map(person).collect::<Vec<_>>(),
            colleagues => colleagues,
            watched => watched,
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}
