//! A tenant's sites: the list, adding one, a site's page with its settings (update), its trust
//! settings (allowed and first-contact networks, window length) and removing it — refused by
//! the admin rule while it holds numbers or devices, the rule's message shown.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::refusal::{given, lines, refusal};
use super::ADMINS;
use crate::admin::{SiteInput, SiteUpdate};
use crate::app::App;
use crate::error::Error;
use crate::model::{Site, Tenant, Transport};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "sites/list.html",
        include_str!("../templates/sites/list.html"),
    ),
    (
        "sites/site.html",
        include_str!("../templates/sites/site.html"),
    ),
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/sites", get(list).post(add))
        .route("/t/{tenant}/sites/{site}", get(show).post(update))
        .route("/t/{tenant}/sites/{site}/trust", post(trust))
        .route("/t/{tenant}/sites/{site}/remove", post(remove))
}

#[derive(Deserialize)]
struct SitePath {
    site: String,
}

/// The add and edit forms (the add form has the first four).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct SiteForm {
    name: String,
    time_zone: String,
    sip_domain: String,
    ntp_server: String,
    sip_proxy: String,
    sip_port: String,
    sip_transport: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TrustForm {
    allowed_networks: String,
    first_contact_networks: String,
    first_contact_hours: String,
}

fn sites_url(tenant: &Tenant) -> String {
    format!("/t/{}/sites", tenant.id.0)
}

fn site_url(tenant: &Tenant, site: &Site) -> String {
    format!("/t/{}/sites/{}", tenant.id.0, site.id.0)
}

async fn list(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render_list(&view, &page, &SiteForm::default(), BTreeMap::new()).await
}

async fn add(view: View, page: TenantPage, form: Form<SiteForm>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let input = SiteInput {
        name: f.name.clone(),
        time_zone: given(&f.time_zone),
        ntp_server: given(&f.ntp_server),
        sip_domain: given(&f.sip_domain),
        ..Default::default()
    };
    let admin = &page.session.caller().admin;
    match admin.site_add(page.tenant.id, &input).await {
        Ok(site) => Ok(redirect_with(&site_url(&page.tenant, &site), "sites.added")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "name")?;
            let mut response = render_list(&view, &page, f, errors).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

async fn render_list(
    view: &View,
    page: &TenantPage,
    new: &SiteForm,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let sites = page
        .session
        .caller()
        .admin
        .site_list(page.tenant.id)
        .await?;
    let sites: Vec<_> = sites
        .iter()
        .map(|s| {
            minijinja::context! {
                href => site_url(&page.tenant, s),
                name => s.name,
                time_zone => s.time_zone,
                sip => format!("{}:{} ({})", s.sip.domain, s.sip.port, s.sip.transport.as_str()),
                allowed => s.allowed_networks.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }
        })
        .collect();
    Ok(view.render(
        Some(&page.session.0),
        "sites/list.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => sites_url(&page.tenant),
            sites => sites,
            new => minijinja::context! {
                name => new.name, time_zone => new.time_zone,
                sip_domain => new.sip_domain, ntp_server => new.ntp_server,
            },
            errors => errors,
        },
    ))
}

async fn find(page: &TenantPage, key: &str) -> Result<Site, UiError> {
    let admin = &page.session.caller().admin;
    admin
        .site(page.tenant.id, Some(key))
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } | Error::Invalid(_) => UiError::NotFound,
            e => e.into(),
        })
}

async fn show(
    view: View,
    page: TenantPage,
    Path(path): Path<SitePath>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let site = find(&page, &path.site).await?;
    render_site(&view, &page, &site, None, BTreeMap::new(), StatusCode::OK).await
}

async fn update(
    view: View,
    page: TenantPage,
    Path(path): Path<SitePath>,
    form: Form<SiteForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let site = find(&page, &path.site).await?;
    let f = &form.fields;
    let port = match f.sip_port.trim() {
        "" => None,
        p => match p.parse::<u16>() {
            Ok(p) => Some(p),
            Err(_) => {
                let e = Error::invalid("sip_port", format!("{p:?} is not a port"));
                return answer::<()>(&view, &page, &site, Some(f), Err(e), "", "name").await;
            }
        },
    };
    let update = SiteUpdate {
        name: Some(f.name.clone()),
        time_zone: Some(f.time_zone.trim().to_owned()),
        ntp_server: Some(f.ntp_server.trim().to_owned()),
        sip_domain: Some(f.sip_domain.trim().to_owned()),
        sip_proxy: Some(f.sip_proxy.trim().to_owned()),
        sip_port: port,
        sip_transport: given(&f.sip_transport),
    };
    let admin = &page.session.caller().admin;
    let result = admin
        .site_update(page.tenant.id, &site.id.0.to_string(), &update)
        .await;
    answer(
        &view,
        &page,
        &site,
        Some(f),
        result,
        "sites.updated",
        "name",
    )
    .await
}

async fn trust(
    view: View,
    page: TenantPage,
    Path(path): Path<SitePath>,
    form: Form<TrustForm>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let site = find(&page, &path.site).await?;
    let f = &form.fields;
    let hours = match f.first_contact_hours.trim() {
        "" => None,
        h => match h.parse::<u32>() {
            Ok(h) => Some(h),
            Err(_) => {
                let e = Error::invalid("first_contact_hours", format!("{h:?} is not a number"));
                return answer::<()>(&view, &page, &site, None, Err(e), "", "allowed_networks")
                    .await;
            }
        },
    };
    let admin = &page.session.caller().admin;
    let result = admin
        .site_trust(
            page.tenant.id,
            Some(&site.id.0.to_string()),
            &lines(&f.allowed_networks),
            &lines(&f.first_contact_networks),
            hours,
        )
        .await;
    answer(
        &view,
        &page,
        &site,
        None,
        result,
        "sites.trust_set",
        "allowed_networks",
    )
    .await
}

async fn remove(
    view: View,
    page: TenantPage,
    Path(path): Path<SitePath>,
    _form: Form<BTreeMap<String, String>>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let site = find(&page, &path.site).await?;
    let admin = &page.session.caller().admin;
    match admin
        .site_remove(page.tenant.id, &site.id.0.to_string())
        .await
    {
        Ok(()) => Ok(redirect_with(&sites_url(&page.tenant), "sites.removed")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "remove")?;
            render_site(&view, &page, &site, None, errors, status).await
        }
    }
}

/// An edit's answer: back to the site with `flash`, or its page again with the rule's message
/// by its field.
async fn answer<T>(
    view: &View,
    page: &TenantPage,
    site: &Site,
    form: Option<&SiteForm>,
    result: crate::error::Result<T>,
    flash: &str,
    conflict_field: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(_) => Ok(redirect_with(&site_url(&page.tenant, site), flash)),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, conflict_field)?;
            render_site(view, page, site, form, errors, status).await
        }
    }
}

async fn render_site(
    view: &View,
    page: &TenantPage,
    site: &Site,
    form: Option<&SiteForm>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let current = SiteForm {
        name: site.name.clone(),
        time_zone: site.time_zone.clone(),
        sip_domain: site.sip.domain.clone(),
        ntp_server: site.ntp_server.clone(),
        sip_proxy: site.sip.proxy.clone().unwrap_or_default(),
        sip_port: site.sip.port.to_string(),
        sip_transport: site.sip.transport.as_str().to_owned(),
    };
    let f = form.unwrap_or(&current);
    let join = |list: &[ipnet::IpNet]| {
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut response = view.render(
        Some(&page.session.0),
        "sites/site.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            back => sites_url(&page.tenant),
            action => site_url(&page.tenant, site),
            site => minijinja::context! {
                name => site.name,
                allowed_networks => join(&site.allowed_networks),
                first_contact_networks => join(&site.first_contact_networks),
                first_contact_hours => site.first_contact_hours,
            },
            form => minijinja::context! {
                name => f.name, time_zone => f.time_zone, sip_domain => f.sip_domain,
                ntp_server => f.ntp_server, sip_proxy => f.sip_proxy, sip_port => f.sip_port,
                sip_transport => f.sip_transport,
            },
            transports => Transport::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}
