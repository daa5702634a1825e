//! A tenant's handsets (004, 002): the list (MAC, model, site, Phone ID, the numbers logged
//! in and their users, state, last contact and firmware; searched, and filtered by a firmware
//! version seen, in the store's SQL), adding one by MAC and model ("did you mean" by the field), and
//! a handset's page: its lines and sightings, replacing its hardware (new MAC), changing its
//! model or site, telling it to fetch its files again (resync) and removing it after a page
//! that says what removing does.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, redirect_with, Form, TenantPage, UiError, View};
use super::ADMINS;
use crate::admin::{DeviceInput, DeviceUpdate};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Tenant};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "handsets/list.html",
        include_str!("../templates/handsets/list.html"),
    ),
    (
        "handsets/detail.html",
        include_str!("../templates/handsets/detail.html"),
    ),
    (
        "handsets/remove.html",
        include_str!("../templates/handsets/remove.html"),
    ),
];

/// Handsets a page shows.
const PAGE_SIZE: u32 = 25;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/handsets", get(list).post(add))
        .route("/t/{tenant}/handsets/{handset}", get(detail))
        .route("/t/{tenant}/handsets/{handset}/replace", post(replace))
        .route("/t/{tenant}/handsets/{handset}/update", post(update))
        .route("/t/{tenant}/handsets/{handset}/resync", post(resync))
        .route(
            "/t/{tenant}/handsets/{handset}/remove",
            get(remove_page).post(remove),
        )
}

/// The handset of the path: its Phone ID (or MAC).
#[derive(Deserialize)]
struct Handset {
    handset: String,
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    /// A firmware version seen; empty: any.
    firmware: Option<String>,
    offset: Option<u32>,
}

#[derive(Deserialize, Default)]
struct NewHandset {
    #[serde(default)]
    mac: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    site: String,
}

#[derive(Deserialize, Default)]
struct Replace {
    #[serde(default)]
    mac: String,
}

#[derive(Deserialize, Default)]
struct Update {
    #[serde(default)]
    model: String,
    #[serde(default)]
    site: String,
}

#[derive(Deserialize)]
struct Nothing {}

/// A number logged in to a handset, for the list: its slot, and its user's page and name.
struct Line {
    position: u16,
    number: String,
    user: Option<(String, String)>,
}

fn list_url(tenant: &Tenant) -> String {
    format!("/t/{}/handsets", tenant.id.0)
}

fn detail_url(tenant: &Tenant, phone_id: &str) -> String {
    format!("/t/{}/handsets/{phone_id}", tenant.id.0)
}

/// Unix seconds as the pages show them.
pub(super) fn when(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A rollout state as a catalogue key's tail (`awaiting_first_contact`).
pub(super) fn state_key(state: crate::admin::DeviceState) -> String {
    state.as_str().replace('-', "_")
}

/// An `Error::Invalid` or `Error::Conflict` as the message by `field`; other errors stay.
fn by_field(
    lang: crate::http::ui::templates::Lang,
    e: Error,
    field: &str,
) -> Result<BTreeMap<String, String>, UiError> {
    let e = crate::http::ui::templates::in_lang(lang, e);
    match e {
        Error::Invalid(f) => Ok(BTreeMap::from([(f.field.into_owned(), f.message)])),
        Error::Conflict { message, .. } => Ok(BTreeMap::from([(field.to_owned(), message)])),
        e => Err(e.into()),
    }
}

fn unprocessable(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

async fn list(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render_list(
        &view,
        &page,
        &search,
        &NewHandset::default(),
        BTreeMap::new(),
    )
    .await
}

async fn add(view: View, page: TenantPage, form: Form<NewHandset>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let input = DeviceInput {
        mac: f.mac.trim().to_owned(),
        model: f.model.trim().to_owned(),
        site: Some(f.site.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    match page
        .session
        .caller()
        .admin
        .device_add(page.tenant.id, &input)
        .await
    {
        Ok(device) => Ok(redirect_with(
            &detail_url(&page.tenant, &device.phone_id),
            "handsets.added",
        )),
        Err(e) => {
            let errors = by_field(view.lang, e, "mac")?;
            let response = render_list(&view, &page, &Search::default(), f, errors).await?;
            Ok(unprocessable(response))
        }
    }
}

async fn render_list(
    view: &View,
    page: &TenantPage,
    search: &Search,
    new: &NewHandset,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let q = search.q.clone().filter(|q| !q.trim().is_empty());
    let offset = search.offset.unwrap_or(0);
    let query = ListQuery {
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
        q: q.clone(),
    };
    let firmware = search.firmware.clone().filter(|f| !f.trim().is_empty());
    let listed = admin
        .device_view_page(page.tenant.id, &query, firmware.as_deref())
        .await?;
    let firmwares = admin.device_firmwares(page.tenant.id).await?;
    let sites = admin.site_list(page.tenant.id).await?;
    let site_names: HashMap<i64, &str> = sites.iter().map(|s| (s.id.0, s.name.as_str())).collect();
    let users = super::users::users_url(&page.tenant);
    let mut numbers: HashMap<String, Vec<Line>> = HashMap::new();
    for login in admin.handset_lines(page.tenant.id).await? {
        numbers.entry(login.phone_id).or_default().push(Line {
            position: login.position,
            number: login.number.to_string(),
            user: login
                .user
                .map(|(id, name)| (format!("{users}/{}", id.0), name)),
        });
    }
    let handsets: Vec<_> = listed
        .items
        .iter()
        .map(|v| {
            let mut lines = numbers.remove(&v.device.phone_id).unwrap_or_default();
            lines.sort_by_key(|l| l.position);
            let users: Vec<_> = lines
                .iter()
                .filter_map(|l| l.user.as_ref())
                .map(|(href, name)| minijinja::context! { href => href, name => name })
                .collect();
            let lines: Vec<&str> = lines.iter().map(|l| l.number.as_str()).collect();
            minijinja::context! {
                href => detail_url(&page.tenant, &v.device.phone_id),
                mac => v.device.mac.to_string(),
                model => v.device.model,
                site => site_names.get(&v.device.site_id.0).copied().unwrap_or(""),
                phone_id => v.device.phone_id,
                numbers => lines,
                users => users,
                state => state_key(v.state),
                failing => v.failing,
                last_seen => v.last_seen.as_ref().map(|s| when(s.at)),
                firmware => v.last_seen.as_ref().and_then(|s| s.firmware.clone()),
            }
        })
        .collect();
    let models: Vec<String> = admin.models(None)?.into_iter().map(|m| m.model).collect();
    let base = list_url(&page.tenant);
    let mut search: Vec<_> = q.iter().map(|q| ("q", q.clone())).collect();
    search.extend(firmware.iter().map(|f| ("firmware", f.clone())));
    let (prev, next) = page_links(&base, &search, offset, PAGE_SIZE, listed.total);
    Ok(view.render(
        Some(&page.session.0),
        "handsets/list.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => base,
            handsets => handsets,
            total => listed.total,
            first => if listed.total == 0 { 0 } else { u64::from(offset) + 1 },
            last => u64::from(offset) + listed.items.len() as u64,
            q => q.unwrap_or_default(),
            firmwares => firmwares,
            firmware => firmware.unwrap_or_default(),
            prev => prev,
            next => next,
            models => models,
            sites => sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            new => minijinja::context! { mac => new.mac, model => new.model, site => new.site },
            errors => errors,
        },
    ))
}

async fn detail(view: View, page: TenantPage, Path(h): Path<Handset>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render_detail(&view, &page, &h.handset, Values::default(), BTreeMap::new()).await
}

/// What the detail page's forms were sent with, to show again beside their errors.
#[derive(Default)]
struct Values {
    mac: String,
    model: Option<String>,
    site: Option<String>,
}

async fn render_detail(
    view: &View,
    page: &TenantPage,
    handset: &str,
    values: Values,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let d = admin.device_detail(page.tenant.id, handset).await?;
    let sites = admin.site_list(page.tenant.id).await?;
    let device = &d.view.device;
    let site = sites
        .iter()
        .find(|s| s.id == device.site_id)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let lines: Vec<_> = d
        .lines
        .iter()
        .map(|l| {
            minijinja::context! {
                position => l.position,
                number => l.number.to_string(),
                label => l.label,
                user => l.user.as_ref().map(|u| format!("{} {}", u.first_name, u.last_name)),
            }
        })
        .collect();
    let models: Vec<String> = admin.models(None)?.into_iter().map(|m| m.model).collect();
    let base = detail_url(&page.tenant, &device.phone_id);
    Ok(view.render(
        Some(&page.session.0),
        "handsets/detail.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            list => list_url(&page.tenant),
            base => base,
            handset => minijinja::context! {
                mac => device.mac.to_string(),
                model => device.model,
                family => device.family,
                phone_id => device.phone_id,
                site => site,
                state => state_key(d.view.state),
                failing => d.view.failing,
                last_seen => d.view.last_seen.as_ref().map(|s| minijinja::context! {
                    at => when(s.at),
                    addr => s.addr,
                    protocol => s.protocol,
                    firmware => s.firmware,
                }),
                proven_at => d.view.proven_at.map(when),
                failure => d.view.last_failure.as_ref().map(|f| minijinja::context! {
                    at => when(f.at),
                    reason => f.reason,
                    addr => f.addr,
                }),
            },
            lines => lines,
            models => models,
            sites => sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            values => minijinja::context! {
                mac => values.mac,
                model => values.model.unwrap_or_else(|| device.model.clone()),
                site => values.site.unwrap_or(site),
            },
            errors => errors,
        },
    ))
}

async fn replace(
    view: View,
    page: TenantPage,
    Path(h): Path<Handset>,
    form: Form<Replace>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    match admin
        .device_replace(page.tenant.id, &h.handset, &form.fields.mac)
        .await
    {
        Ok(device) => Ok(redirect_with(
            &detail_url(&page.tenant, &device.phone_id),
            "handsets.replaced",
        )),
        Err(Error::NotFound { what, key }) => Err(Error::NotFound { what, key }.into()),
        Err(e) => {
            let errors = by_field(view.lang, e, "mac")?;
            let values = Values {
                mac: form.fields.mac.clone(),
                ..Values::default()
            };
            let response = render_detail(&view, &page, &h.handset, values, errors).await?;
            Ok(unprocessable(response))
        }
    }
}

async fn update(
    view: View,
    page: TenantPage,
    Path(h): Path<Handset>,
    form: Form<Update>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.handset(page.tenant.id, &h.handset).await?;
    let current_site = admin
        .site_list(page.tenant.id)
        .await?
        .into_iter()
        .find(|s| s.id == current.site_id)
        .map(|s| s.name)
        .unwrap_or_default();
    // The form sends every field; what it leaves as it was is not a change (moving a handset
    // to its own site would still ask for its lines to be logged out).
    let model = form.fields.model.trim();
    let site = form.fields.site.trim();
    let update = DeviceUpdate {
        model: Some(model.to_owned())
            .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case(&current.model)),
        site: Some(site.to_owned())
            .filter(|s| !s.is_empty() && *s != current_site && *s != current.site_id.0.to_string()),
    };
    match admin
        .device_update(page.tenant.id, &h.handset, &update)
        .await
    {
        Ok(device) => Ok(redirect_with(
            &detail_url(&page.tenant, &device.phone_id),
            "handsets.updated",
        )),
        Err(e) => {
            let errors = by_field(view.lang, e, "model")?;
            let values = Values {
                model: Some(form.fields.model.clone()),
                site: Some(form.fields.site.clone()),
                ..Values::default()
            };
            let response = render_detail(&view, &page, &h.handset, values, errors).await?;
            Ok(unprocessable(response))
        }
    }
}

async fn resync(
    page: TenantPage,
    State(app): State<App>,
    Path(h): Path<Handset>,
    _form: Form<Nothing>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let device = page
        .session
        .caller()
        .admin
        .handset(page.tenant.id, &h.handset)
        .await?;
    let told = crate::sip::resync::device(&app, &device).await?;
    let flash = if told.told.notify_sent {
        "handsets.resynced"
    } else {
        "handsets.resync_not_seen"
    };
    Ok(redirect_with(
        &detail_url(&page.tenant, &device.phone_id),
        flash,
    ))
}

async fn remove_page(
    view: View,
    page: TenantPage,
    Path(h): Path<Handset>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let d = page
        .session
        .caller()
        .admin
        .device_detail(page.tenant.id, &h.handset)
        .await?;
    let device = &d.view.device;
    Ok(view.render(
        Some(&page.session.0),
        "handsets/remove.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            back => detail_url(&page.tenant, &device.phone_id),
            action => format!("{}/remove", detail_url(&page.tenant, &device.phone_id)),
            handset => minijinja::context! {
                mac => device.mac.to_string(),
                model => device.model,
                phone_id => device.phone_id,
            },
            numbers => d.lines.iter().map(|l| l.number.to_string()).collect::<Vec<_>>(),
        },
    ))
}

async fn remove(
    page: TenantPage,
    Path(h): Path<Handset>,
    _form: Form<Nothing>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    page.session
        .caller()
        .admin
        .device_remove(page.tenant.id, &h.handset)
        .await?;
    Ok(redirect_with(&list_url(&page.tenant), "handsets.removed"))
}
