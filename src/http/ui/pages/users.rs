//! A tenant's users (001): the list with each user's state, searched and paged by the store's
//! `ListQuery`, and adding a user (the name limits' errors shown by their fields).

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, redirect_with, Form, TenantPage, UiError, View};
use super::ADMINS;
use crate::admin::UserInput;
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Tenant};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "users/list.html",
    include_str!("../templates/users/list.html"),
)];

/// Users a page shows.
const PAGE_SIZE: u32 = 25;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/t/{tenant}/users", get(list).post(add))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    offset: Option<u32>,
}

#[derive(Deserialize, Default)]
struct NewUser {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
}

async fn list(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render(&view, &page, &search, &NewUser::default(), BTreeMap::new()).await
}

async fn add(view: View, page: TenantPage, form: Form<NewUser>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let input = UserInput {
        first_name: form.fields.first_name.clone(),
        last_name: form.fields.last_name.clone(),
        email: Some(form.fields.email.trim().to_owned()).filter(|e| !e.is_empty()),
        number: None,
        extension: None,
        mobile: None,
        contract_number: None,
        licences: Vec::new(),
        trunk: None,
        fax_number: None,
    };
    match page
        .session
        .caller()
        .admin
        .user_add(page.tenant.id, &input)
        .await
    {
        Ok(_) => Ok(redirect_with(&users_url(&page.tenant), "users.added")),
        Err(Error::Invalid(f)) => {
            let errors = BTreeMap::from([(f.field.into_owned(), f.message)]);
            let mut response =
                render(&view, &page, &Search::default(), &form.fields, errors).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

fn users_url(tenant: &Tenant) -> String {
    format!("/t/{}/users", tenant.id.0)
}

async fn render(
    view: &View,
    page: &TenantPage,
    search: &Search,
    new: &NewUser,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let q = search.q.clone().filter(|q| !q.trim().is_empty());
    let offset = search.offset.unwrap_or(0);
    let query = ListQuery {
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
        q: q.clone(),
    };
    let listed = page
        .session
        .caller()
        .admin
        .user_page(page.tenant.id, &query)
        .await?;
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
            new => minijinja::context! {
                first_name => new.first_name,
                last_name => new.last_name,
                email => new.email,
            },
            errors => errors,
        },
    ))
}
