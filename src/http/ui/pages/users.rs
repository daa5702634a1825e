//! A tenant's users (001): the list with each user's state, searched and paged by the store's
//! `ListQuery`; adding a user (a site first, by a GET form, whose numbers, trunks and free
//! handsets are all the form offers; names with their limits, e-mail, number, trunk, desk
//! phone or "no desk phone", mobile and contract, licences with the e-fax number; the rules' errors
//! shown by their fields) — with a desk phone, the answer is the line's login details, shown
//! once, as the user's page shows them —; and new device passwords for the users
//! ticked in the list (random, or one set value), answered as a CSV download. One user's page
//! is `user.rs`.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::templates::{in_lang, rule_text, text};
use super::super::{page_links, redirect_with, Form, TenantPage, UiError, View};
use super::ADMINS;
use crate::admin::{UserAdded, UserInput};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Tenant};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "users/list.html",
    include_str!("../templates/users/list.html"),
)];

/// Users a page shows.
const PAGE_SIZE: u32 = 25;

/// The licences a user may hold, as the add form and the user's page offer them.
pub(super) const LICENCES: &[&str] = &["app", "conference-room", "e-fax"];

/// The add form's fields: an error of another field is shown above the form.
const ADD_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "number",
    "mobile",
    "contract_number",
    "licences",
    "trunk",
    "fax_number",
    "handset",
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/users", get(list).post(add))
        .route("/t/{tenant}/users/device-passwords", post(device_passwords))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    offset: Option<u32>,
    /// The add form's site (id or name): its numbers, trunks and handsets are the ones offered.
    site: Option<String>,
}

/// The add form as sent: a form of pairs, since the licences' checkboxes repeat a name.
#[derive(Default)]
struct NewUser {
    fields: BTreeMap<String, String>,
    licences: Vec<String>,
}

impl NewUser {
    fn from_pairs(pairs: &[(String, String)]) -> NewUser {
        let mut new = NewUser::default();
        for (k, v) in pairs {
            match k.as_str() {
                "licence" => new.licences.push(v.clone()),
                "csrf" => {}
                _ => {
                    new.fields.insert(k.clone(), v.clone());
                }
            }
        }
        new
    }

    fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// A field, `None` when left empty.
    fn given(&self, name: &str) -> Option<String> {
        Some(self.text(name).trim().to_owned()).filter(|v| !v.is_empty())
    }
}

async fn list(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let errors = BTreeMap::new();
    let new = NewUser::default();
    render(&view, &page, &search, search.site.as_deref(), &new, errors).await
}

async fn add(
    view: View,
    page: TenantPage,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let new = NewUser::from_pairs(&form.fields);
    let input = UserInput {
        first_name: new.text("first_name"),
        last_name: new.text("last_name"),
        email: new.given("email"),
        number: new.given("number"),
        extension: None,
        mobile: new.given("mobile"),
        contract_number: new.given("contract_number"),
        licences: new.licences.clone(),
        trunk: new.given("trunk"),
        fax_number: new.given("fax_number"),
        handset: new.given("handset"),
    };
    let admin = &page.session.caller().admin;
    // The user and their desk phone in one write: a handset that refuses the line (someone
    // logged in to it, another site's) adds nobody, and the form says why under its field.
    let (field, message, status) =
        match admin.user_add_with_desk_phone(page.tenant.id, &input).await {
            Ok(UserAdded {
                user,
                desk_phone: Some(details),
            }) => return Ok(super::user::user_details(&view, &page, &user, &details)),
            Ok(UserAdded {
                user,
                desk_phone: None,
            }) => {
                let url = format!("{}/{}", users_url(&page.tenant), user.id.0);
                return Ok(redirect_with(&url, "users.added"));
            }
            Err(Error::Invalid(f)) => (
                f.field.into_owned(),
                rule_text(view.lang, f.code.as_ref(), f.message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            // A conflict by the field the rule names (a number someone has), else above the form
            // (the tenant's pool of a licence used up); said in the page's language.
            Err(Error::Conflict {
                field,
                message,
                code,
            }) => {
                // The form has no extension of its own: a new user's is their number's default.
                let field = match field.as_deref() {
                    Some("extension") => "number",
                    Some(f) => f,
                    None => "form",
                };
                let message = rule_text(view.lang, code.as_ref(), message);
                (field.to_owned(), message, StatusCode::CONFLICT)
            }
            Err(e) => return Err(e.into()),
        };
    let field = match ADD_FIELDS.contains(&field.as_str()) {
        true => field,
        false => "form".to_owned(),
    };
    let errors = BTreeMap::from([(field, message)]);
    let site = new.given("site");
    let search = Search::default();
    let mut response = render(&view, &page, &search, site.as_deref(), &new, errors).await?;
    *response.status_mut() = status;
    Ok(response)
}

/// New device passwords for the ticked users: the CSV of their new login details, or the list
/// again with why not.
async fn device_passwords(
    view: View,
    page: TenantPage,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let value = |name: &str| {
        form.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let users: Vec<String> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "user")
        .map(|(_, v)| v.clone())
        .collect();
    let password = (value("mode") == "set").then(|| value("password"));
    let admin = &page.session.caller().admin;
    let result = match users.is_empty() {
        true => Err(Error::invalid("bulk", "tick the users first")),
        false => {
            admin
                .users_device_passwords(page.tenant.id, Some(&users), password)
                .await
        }
    };
    let message = match result.map_err(|e| in_lang(view.lang, e)) {
        Ok(rows) if !rows.is_empty() => {
            let csv = crate::admin::login_details_csv(&rows)?;
            return Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"device-passwords.csv\"",
                    ),
                ],
                csv,
            )
                .into_response());
        }
        Ok(_) => text(view.lang, "users.bulk_none")
            .unwrap_or_default()
            .to_owned(),
        Err(Error::Invalid(f)) => f.message,
        Err(Error::Conflict { message, .. }) => message,
        Err(Error::NotFound { .. }) => "no such user".to_owned(),
        Err(e) => return Err(e.into()),
    };
    let errors = BTreeMap::from([("bulk".to_owned(), message)]);
    let search = Search::default();
    let new = NewUser::default();
    let mut response = render(&view, &page, &search, None, &new, errors).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

pub(super) fn users_url(tenant: &Tenant) -> String {
    format!("/t/{}/users", tenant.id.0)
}

/// The list and the add form; `site` (id or name, default the first alphabetically) is the
/// add form's site: its numbers, trunks and free handsets are all the form offers, since a
/// number is logged in only to a handset of its own site (the rule's), and the page works
/// without the script.
async fn render(
    view: &View,
    page: &TenantPage,
    search: &Search,
    site: Option<&str>,
    new: &NewUser,
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
    let listed = admin.user_page(page.tenant.id, &query).await?;
    let users: Vec<_> = listed
        .items
        .iter()
        .map(|u| {
            minijinja::context! {
                id => u.id.0,
                first_name => u.first_name.as_str(),
                last_name => u.last_name.as_str(),
                email => u.email,
                number => u.number.as_ref().map(|n| n.as_str()),
                extension => u.extension,
                state => u.state.as_str(),
            }
        })
        .collect();
    let sites = admin.site_list(page.tenant.id).await?;
    let key = site.map(str::trim).filter(|s| !s.is_empty());
    // No site yet: the form offers no number, trunk or handset.
    let site = match (key, sites.is_empty()) {
        (None, true) => None,
        _ => Some(admin.site(page.tenant.id, key).await?),
    };
    let available = admin.numbers_available(page.tenant.id).await?;
    let numbers: Vec<String> = available
        .iter()
        .filter(|n| site.as_ref().is_some_and(|s| s.id == n.site_id))
        .map(|n| n.e164.as_str().to_owned())
        .collect();
    // The fax number may be any available number of the tenant.
    let fax_numbers: Vec<String> = available
        .iter()
        .map(|n| n.e164.as_str().to_owned())
        .collect();
    let mut trunks = Vec::new();
    let mut handsets = Vec::new();
    if let Some(site) = &site {
        for t in admin.trunks(page.tenant.id, &site.id.0.to_string()).await? {
            trunks.push(minijinja::context! { id => t.id.to_string(), name => t.name });
        }
        handsets = super::user::free_handsets(page, site.id).await?;
    }
    let sites: Vec<_> = sites
        .iter()
        .map(|s| minijinja::context! { id => s.id.0, name => s.name })
        .collect();
    // Every field of the form, as sent or empty.
    let sent: BTreeMap<&str, String> = ADD_FIELDS.iter().map(|f| (*f, new.text(f))).collect();
    let base = users_url(&page.tenant);
    let search: Vec<_> = q.iter().map(|q| ("q", q.clone())).collect();
    let (prev, next) = page_links(&base, &search, offset, PAGE_SIZE, listed.total);
    Ok(view.render(
        Some(&page.session.0),
        "users/list.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => base,
            users => users,
            total => listed.total,
            first => if listed.total == 0 { 0 } else { u64::from(offset) + 1 },
            last => u64::from(offset) + listed.items.len() as u64,
            q => q.unwrap_or_default(),
            prev => prev,
            next => next,
            sites => sites,
            site => site.as_ref().map(|s| minijinja::context! { id => s.id.0, name => s.name }),
            numbers => numbers,
            fax_numbers => fax_numbers,
            trunks => trunks,
            handsets => handsets,
            licences => LICENCES,
            new => sent,
            new_licences => new.licences,
            errors => errors,
        },
    ))
}
