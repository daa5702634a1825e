//! Virtual users (000): extensions that dial an outside number — the list with an add form,
//! editing one, deleting after a page that asks. The rules are `admin::virtual_users`'s.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, one, Pairs};
use super::ADMINS;
use crate::admin::VirtualUserInput;
use crate::app::App;
use crate::model::{ListQuery, VirtualUser, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "virtual_users/list.html",
        include_str!("../templates/virtual_users/list.html"),
    ),
    (
        "virtual_users/edit.html",
        include_str!("../templates/virtual_users/edit.html"),
    ),
    (
        "virtual_users/form.html",
        include_str!("../templates/virtual_users/form.html"),
    ),
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/virtual-users", get(list).post(add))
        .route("/t/{tenant}/virtual-users/{user}", get(edit).post(save))
        .route(
            "/t/{tenant}/virtual-users/{user}/delete",
            get(ask).post(delete),
        )
}

#[derive(Deserialize)]
struct Key {
    user: String,
}

fn list_url(page: &TenantPage) -> String {
    format!("/t/{}/virtual-users", page.tenant.id.0)
}

fn input_of(p: &Pairs) -> VirtualUserInput {
    VirtualUserInput {
        first_name: one(p, "first_name"),
        last_name: one(p, "last_name"),
        number: one(p, "number"),
        extension: one(p, "extension"),
    }
}

fn form_ctx(v: &VirtualUserInput) -> minijinja::Value {
    minijinja::context! {
        first_name => v.first_name,
        last_name => v.last_name,
        number => v.number,
        extension => v.extension,
    }
}

async fn list(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render_list(&view, &page, &VirtualUserInput::default(), BTreeMap::new()).await
}

async fn render_list(
    view: &View,
    page: &TenantPage,
    new: &VirtualUserInput,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let query = ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    };
    let listed = page
        .session
        .caller()
        .admin
        .virtual_user_page(page.tenant.id, &query)
        .await?;
    let rows: Vec<_> = listed
        .items
        .iter()
        .map(|v| {
            minijinja::context! {
                id => v.id,
                name => v.display_name(),
                number => v.external.as_str(),
                extension => v.extension,
            }
        })
        .collect();
    Ok(view.render(
        Some(&page.session.0),
        "virtual_users/list.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            base => list_url(page),
            rows => rows,
            form => form_ctx(new),
            errors => errors,
        },
    ))
}

async fn add(view: View, page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let input = input_of(&form.fields);
    let admin = &page.session.caller().admin;
    match admin.virtual_user_add(page.tenant.id, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "virtual_users.added")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "extension")?;
            let response = render_list(&view, &page, &input, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn render_edit(
    view: &View,
    page: &TenantPage,
    current: &VirtualUser,
    form: &VirtualUserInput,
    errors: BTreeMap<String, String>,
) -> Response {
    let base = list_url(page);
    view.render(
        Some(&page.session.0),
        "virtual_users/edit.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            editing => current.display_name(),
            base => base,
            action => format!("{base}/{}", current.id),
            form => form_ctx(form),
            errors => errors,
        },
    )
}

async fn edit(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.virtual_user(page.tenant.id, &key.user).await?;
    let form = VirtualUserInput {
        first_name: current.first_name.as_str().to_owned(),
        last_name: current.last_name.as_str().to_owned(),
        number: current.external.to_string(),
        extension: current.extension.clone(),
    };
    Ok(render_edit(&view, &page, &current, &form, BTreeMap::new()).await)
}

async fn save(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.virtual_user(page.tenant.id, &key.user).await?;
    let input = input_of(&form.fields);
    match admin
        .virtual_user_replace(page.tenant.id, &current, &input)
        .await
    {
        Ok(_) => Ok(redirect_with(&list_url(&page), "virtual_users.saved")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "extension")?;
            let response = render_edit(&view, &page, &current, &input, errors).await;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn ask(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.virtual_user(page.tenant.id, &key.user).await?;
    let base = list_url(&page);
    let action = format!("{base}/{}/delete", current.id);
    let name = current.display_name();
    Ok(forms::confirm(
        &view,
        &page,
        "virtual_users",
        &name,
        &action,
        &base,
    ))
}

async fn delete(
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.virtual_user(page.tenant.id, &key.user).await?;
    admin.virtual_user_delete(page.tenant.id, &current).await?;
    Ok(redirect_with(&list_url(&page), "virtual_users.deleted"))
}
