//! "My profile" (000, 002) for a user's own account: own details (names and e-mail, the
//! self-service change `UserUpdate::allowed_for` permits), own number's call features (the
//! self-service operation, whose CLI may only be the own or the site's main number), own PIN
//! (set, never shown), own monitor list (only colleagues an admin granted) and own speed dials.
//! Every action is on the session's own user; there is no user in the path.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use crate::admin::{NumberQuery, UserUpdate};
use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{ListQuery, Number, Role, User, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "profile/profile.html",
    include_str!("../templates/profile/profile.html"),
)];

/// Empty speed-dial rows the form offers after the stored ones.
const SPARE_DIALS: usize = 3;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/me", get(show))
        .route("/t/{tenant}/me/details", post(details))
        .route("/t/{tenant}/me/features", post(features))
        .route("/t/{tenant}/me/pin", post(pin))
        .route("/t/{tenant}/me/monitors", post(monitor_add))
        .route("/t/{tenant}/me/monitors/remove", post(monitor_remove))
        .route("/t/{tenant}/me/speed-dials", post(speed_dials))
}

type Pairs = Vec<(String, String)>;

fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[derive(Deserialize)]
struct PinForm {
    #[serde(default)]
    pin: String,
    #[serde(default)]
    confirm: String,
}

fn me_url(page: &TenantPage) -> String {
    format!("/t/{}/me", page.tenant.id.0)
}

/// The session's own user (a user's session only).
async fn me(page: &TenantPage) -> std::result::Result<User, UiError> {
    page.session.require(&[Role::User])?;
    let caller = page.session.caller();
    let id = caller.principal.user.ok_or(UiError::Forbidden)?;
    Ok(caller.admin.user(page.tenant.id, &id.0.to_string()).await?)
}

async fn own_number(page: &TenantPage, user: &User) -> Result<Option<Number>> {
    match user.number_id {
        Some(id) => Ok(Some(
            page.session
                .caller()
                .admin
                .number(page.tenant.id, &id.0.to_string())
                .await?,
        )),
        None => Ok(None),
    }
}

async fn show(view: View, page: TenantPage) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    render(&view, &page, &user, BTreeMap::new(), StatusCode::OK).await
}

async fn render(
    view: &View,
    page: &TenantPage,
    user: &User,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> std::result::Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let number = own_number(page, user).await?;
    // The CLI a user may choose: their own number or their site's main number.
    let mut cli_numbers = Vec::new();
    if let Some(n) = &number {
        cli_numbers.push(n.e164.as_str().to_owned());
        let at_site = admin
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
        for main in at_site.items.iter().filter(|v| v.number.is_main) {
            cli_numbers.push(main.number.e164.as_str().to_owned());
        }
    }
    let features = number.as_ref().map(|n| {
        let f = &n.features;
        let s = |v: &Option<crate::model::E164>| v.as_ref().map(|e| e.as_str().to_owned());
        minijinja::context! {
            forward_always => s(&f.forward_always),
            busy => if f.call_waiting { "wait" } else if f.forward_busy.is_some() { "forward" } else { "none" },
            forward_busy => s(&f.forward_busy),
            forward_no_answer => s(&f.forward_no_answer),
            voicemail => f.voicemail,
            voicemail_email => f.voicemail_email,
            hide_caller_id => f.hide_caller_id,
            do_not_disturb => f.do_not_disturb,
            cli_enabled => f.cli_enabled,
            cli_number => s(&f.cli_number),
        }
    });
    let monitors: Vec<_> = admin
        .monitor_list(tenant, user)
        .await?
        .into_iter()
        .map(|u| minijinja::context! { id => u.id.0, name => u.shown_name(), extension => u.extension })
        .collect();
    let colleagues: Vec<_> = admin
        .monitor_choices(tenant, user)
        .await?
        .into_iter()
        .map(|u| minijinja::context! { id => u.id.0, name => u.shown_name() })
        .collect();
    let mut dials: Vec<_> = admin
        .speed_dials(tenant, user)
        .await?
        .into_iter()
        .map(|(label, target)| minijinja::context! { label => label, target => target })
        .collect();
    for _ in 0..SPARE_DIALS {
        dials.push(minijinja::context! { label => "", target => "" });
    }
    let mut response = view.render(
        Some(&page.session.0),
        "profile/profile.html",
        minijinja::context! {
            url => me_url(page),
            first_name => user.first_name.as_str(),
            last_name => user.last_name.as_str(),
            email => user.email,
            number => user.number.as_ref().map(|n| n.as_str()),
            extension => user.extension,
            state => user.state.as_str(),
            has_number => number.is_some(),
            pin_locked => number.as_ref().is_some_and(|n| n.pin_locked),
            features => features,
            cli_numbers => cli_numbers,
            monitors => monitors,
            colleagues => colleagues,
            dials => dials,
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

/// Back to the profile with `flash`, or the profile again with the error by its field (a
/// `Conflict` or `Locked` under `section`).
async fn answer<T>(
    view: &View,
    page: &TenantPage,
    result: Result<T>,
    flash: &str,
    section: &str,
) -> std::result::Result<Response, UiError> {
    let result = result.map_err(|e| crate::http::ui::templates::in_lang(view.lang, e));
    let (field, message, status) = match result {
        Ok(_) => return Ok(redirect_with(&me_url(page), flash)),
        Err(Error::Invalid(f)) => (
            f.field.into_owned(),
            f.message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Error::Conflict { message: m, .. }) => (section.to_owned(), m, StatusCode::CONFLICT),
        Err(Error::Locked { message: m, .. }) => (section.to_owned(), m, StatusCode::LOCKED),
        Err(Error::NotFound { .. }) if section == "monitors" => (
            section.to_owned(),
            "no such colleague".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    let field = match field.as_str() {
        "body" | "form" | "watched" | "speed_dials" => section.to_owned(),
        _ => field,
    };
    let errors = BTreeMap::from([(field, message)]);
    let fresh = me(page).await?;
    render(view, page, &fresh, errors, status).await
}

async fn details(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let f = &form.fields;
    let changed = |name: &str, current: Option<&str>| {
        let new = value(f, name).trim();
        (new != current.unwrap_or("")).then(|| new.to_owned())
    };
    let input = UserUpdate {
        first_name: changed("first_name", Some(user.first_name.as_str())),
        last_name: changed("last_name", Some(user.last_name.as_str())),
        email: changed("email", user.email.as_deref()),
        ..Default::default()
    };
    let caller = page.session.caller();
    if !input.allowed_for(&caller.principal, &user) {
        return Err(UiError::Forbidden);
    }
    let result = caller
        .admin
        .user_update(page.tenant.id, &user, &input)
        .await;
    answer(&view, &page, result, "profile.saved", "details").await
}

/// The own number, or the conflict that there is none.
async fn needs_number(page: &TenantPage, user: &User) -> std::result::Result<Number, Error> {
    match own_number(page, user).await? {
        Some(n) => Ok(n),
        None => Err(Error::conflict(format!(
            "{} has no number",
            user.display_name()
        ))),
    }
}

async fn features(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let f = &form.fields;
    let target = |name: &str| match value(f, name).trim() {
        "" => serde_json::Value::Null,
        s => json!(s),
    };
    let busy = value(f, "busy");
    let changes = json!({
        "forward_always": target("forward_always"),
        "forward_busy": if busy == "forward" { target("forward_busy") } else { serde_json::Value::Null },
        "call_waiting": busy == "wait",
        "forward_no_answer": target("forward_no_answer"),
        "voicemail": !value(f, "voicemail").is_empty(),
        "voicemail_email": target("voicemail_email"),
        "hide_caller_id": !value(f, "hide_caller_id").is_empty(),
        "do_not_disturb": !value(f, "do_not_disturb").is_empty(),
        "cli_enabled": !value(f, "cli_enabled").is_empty(),
        "cli_number": target("cli_number"),
    });
    let result = match needs_number(&page, &user).await {
        Ok(n) => {
            page.session
                .caller()
                .admin
                .number_features_by_user(page.tenant.id, user.id, &n, &changes)
                .await
        }
        Err(e) => Err(e),
    };
    answer(&view, &page, result, "profile.features_saved", "features").await
}

async fn pin(
    view: View,
    page: TenantPage,
    form: Form<PinForm>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let f = &form.fields;
    let result = match needs_number(&page, &user).await {
        Ok(_) if f.pin.trim() != f.confirm.trim() => {
            Err(Error::invalid("confirm", "the two PINs differ"))
        }
        Ok(n) => {
            page.session
                .caller()
                .admin
                .number_set_pin(page.tenant.id, &n, &f.pin)
                .await
        }
        Err(e) => Err(e),
    };
    answer(&view, &page, result, "profile.pin_saved", "pin").await
}

async fn monitor_add(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let admin = &page.session.caller().admin;
    let key = value(&form.fields, "colleague").trim();
    let result = match key {
        "" => Err(Error::invalid("colleague", "choose a colleague")),
        key => match admin.user(page.tenant.id, key).await {
            Ok(target) => admin.monitor_add(page.tenant.id, &user, &target).await,
            Err(e) => Err(e),
        },
    };
    answer(&view, &page, result, "profile.monitor_added", "monitors").await
}

async fn monitor_remove(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let admin = &page.session.caller().admin;
    let result = match admin
        .user(page.tenant.id, value(&form.fields, "colleague"))
        .await
    {
        Ok(target) => {
            admin
                .monitor_remove(page.tenant.id, user.id, target.id)
                .await
        }
        Err(e) => Err(e),
    };
    answer(&view, &page, result, "profile.monitor_removed", "monitors").await
}

async fn speed_dials(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = me(&page).await?;
    let labels = form.fields.iter().filter(|(k, _)| k == "label");
    let targets = form.fields.iter().filter(|(k, _)| k == "target");
    // A row with both parts empty is no speed dial.
    let dials: Vec<(String, String)> = labels
        .zip(targets)
        .map(|((_, l), (_, t))| (l.clone(), t.clone()))
        .filter(|(l, t)| !(l.trim().is_empty() && t.trim().is_empty()))
        .collect();
    let admin = &page.session.caller().admin;
    let result = admin.speed_dials_set(page.tenant.id, &user, &dials).await;
    answer(&view, &page, result, "profile.dials_saved", "dials").await
}
