//! A tenant's licences per kind (total, assigned, available) and its sites' trunks. The
//! operator sets the pools' sizes and adds trunks (they come with the contract); a tenant
//! admin reads both (and gets the 403 page for the operator's forms).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::refusal::{given, refusal};
use super::ADMINS;
use crate::app::App;
use crate::error::Error;
use crate::model::{Role, Tenant};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "licences/licences.html",
    include_str!("../templates/licences/licences.html"),
)];

const OPERATOR: &[Role] = &[Role::PlatformAdmin];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/licences", get(show))
        .route("/t/{tenant}/licences/{kind}", post(pool_set))
        .route("/t/{tenant}/trunks", post(trunk_add))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SiteQuery {
    site: String,
}

#[derive(Deserialize)]
struct KindPath {
    kind: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PoolForm {
    total: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TrunkForm {
    site: String,
    name: String,
}

fn licences_url(tenant: &Tenant) -> String {
    format!("/t/{}/licences", tenant.id.0)
}

async fn show(
    view: View,
    page: TenantPage,
    Query(q): Query<SiteQuery>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let new = TrunkForm {
        site: q.site,
        name: String::new(),
    };
    render(&view, &page, &new, BTreeMap::new(), StatusCode::OK).await
}

async fn pool_set(
    view: View,
    page: TenantPage,
    Path(path): Path<KindPath>,
    form: Form<PoolForm>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let field = format!("total_{}", path.kind);
    let result = match form.fields.total.trim().parse::<i64>() {
        Ok(total) => {
            let admin = &page.session.caller().admin;
            admin
                .licence_pool_set(page.tenant.id, &path.kind, total)
                .await
        }
        Err(_) => Err(Error::invalid("total", "give a whole number")),
    };
    match result {
        Ok(_) => Ok(redirect_with(
            &licences_url(&page.tenant),
            "licences.pool_set",
        )),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "total")?;
            // The message belongs to this kind's form.
            let errors = errors.into_values().map(|m| (field.clone(), m)).collect();
            render(&view, &page, &TrunkForm::default(), errors, status).await
        }
    }
}

async fn trunk_add(
    view: View,
    page: TenantPage,
    form: Form<TrunkForm>,
) -> Result<Response, UiError> {
    page.session.require(OPERATOR)?;
    let f = &form.fields;
    let admin = &page.session.caller().admin;
    let result = match given(&f.site) {
        Some(site) => admin.trunk_add(page.tenant.id, &site, &f.name).await,
        None => Err(Error::invalid("site", "choose a site")),
    };
    match result {
        Ok(t) => Ok(redirect_with(
            &format!("{}?site={}#trunks", licences_url(&page.tenant), t.site_id.0),
            "licences.trunk_added",
        )),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "trunk_name")?;
            let errors = errors
                .into_iter()
                .map(|(k, v)| (if k == "name" { "trunk_name".into() } else { k }, v))
                .collect();
            render(&view, &page, f, errors, status).await
        }
    }
}

async fn render(
    view: &View,
    page: &TenantPage,
    new: &TrunkForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let pools: Vec<_> = admin
        .licence_pools(page.tenant.id)
        .await?
        .iter()
        .map(|p| {
            minijinja::context! {
                kind => p.kind.as_str(), total => p.total, assigned => p.assigned,
                available => p.available,
            }
        })
        .collect();
    let sites = admin.site_list(page.tenant.id).await?;
    // The chosen site (id or name), else the first.
    let site = sites
        .iter()
        .find(|s| s.id.0.to_string() == new.site.trim() || s.name == new.site.trim())
        .or(sites.first());
    let trunks: Vec<_> = match site {
        Some(s) => admin
            .trunks(page.tenant.id, &s.id.0.to_string())
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect(),
        None => Vec::new(),
    };
    let mut response = view.render(
        Some(&page.session.0),
        "licences/licences.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => licences_url(&page.tenant),
            operator => page.session.role() == Role::PlatformAdmin,
            pools => pools,
            sites => sites.iter().map(|s| minijinja::context! { id => s.id.0, name => s.name }).collect::<Vec<_>>(),
            site => site.map(|s| minijinja::context! { id => s.id.0, name => s.name }),
            trunks => trunks,
            trunk_name => new.name,
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}
