//! The desk phone of a user's page: a handset of the number's site by Phone ID (or none), and
//! new login details — each answered with the line's login details on that one page, never
//! again (a later view of the user's page shows only the Phone ID).

use axum::extract::Path;
use axum::response::Response;

use super::super::super::{Form, TenantPage, UiError, View};
use super::{answer, find, user_url, value, Pairs, UserPath};
use crate::admin::{LoginDetails, LoginTarget};
use crate::error::{Error, Result};
use crate::model::User;

/// The login details page: shown in the answer to the action that made them, this once
/// (here, on adding a user with a desk phone, and on Telephony's handset login). `name` is
/// whose line it is, `back` where "Continue" goes.
pub(in crate::http::ui::pages) fn details_page(
    view: &View,
    page: &TenantPage,
    name: &str,
    back: &str,
    details: &LoginDetails,
) -> Response {
    view.render(
        Some(&page.session.0),
        "user/login_details.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            name => name,
            number => details.number.as_str(),
            phone_id => details.phone_id,
            mac => details.mac.to_string(),
            position => details.position,
            sip_user => details.sip_user,
            sip_password => details.sip_password,
            back => back,
        },
    )
}

/// `details_page` for `user`'s line, back to their page.
pub(in crate::http::ui::pages) fn user_details(
    view: &View,
    page: &TenantPage,
    user: &User,
    details: &LoginDetails,
) -> Response {
    details_page(
        view,
        page,
        &user.display_name(),
        &user_url(page, user),
        details,
    )
}

/// The desk phone: a handset of the number's site by Phone ID (the line's login details
/// shown once), or "no desk phone" (the number logged out).
pub(super) async fn desk_phone(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let Some(number_id) = user.number_id else {
        let result: Result<()> = Err(Error::conflict(format!(
            "{} has no number to log in to a desk phone",
            user.display_name()
        )));
        return answer(&view, &page, &user, result, "", "desk_phone", None).await;
    };
    let number = admin.number(tenant, &number_id.0.to_string()).await?;
    let handset = value(&form.fields, "handset").trim();
    if handset.is_empty() {
        let result = admin.number_logout(tenant, &number).await;
        return answer(
            &view,
            &page,
            &user,
            result,
            "user.no_desk_phone_saved",
            "desk_phone",
            None,
        )
        .await;
    }
    // One number per handset, as on Telephony: no additional line.
    let target = LoginTarget {
        handset: handset.to_owned(),
        additional_line: false,
    };
    match admin.number_login(tenant, &number, &target).await {
        Ok(details) => Ok(user_details(&view, &page, &user, &details)),
        Err(e) => answer::<()>(&view, &page, &user, Err(e), "", "desk_phone", None).await,
    }
}

/// New login details for the user's line, shown this once.
pub(super) async fn login_details(
    view: View,
    page: TenantPage,
    Path(path): Path<UserPath>,
    _form: Form<Pairs>,
) -> std::result::Result<Response, UiError> {
    let user = find(&page, &path.user).await?;
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let result = match user.number_id {
        Some(id) => {
            let number = admin.number(tenant, &id.0.to_string()).await?;
            admin.number_new_login_details(tenant, &number).await
        }
        None => Err(Error::conflict(format!(
            "{} has no number, so no login details",
            user.display_name()
        ))),
    };
    match result {
        Ok(details) => Ok(user_details(&view, &page, &user, &details)),
        Err(e) => answer::<()>(&view, &page, &user, Err(e), "", "desk_phone", None).await,
    }
}

/// The handsets at `site` no number is logged in to, for the add form's desk phone picker
/// (Phone ID with model and MAC): the handsets that can take a number of that site; whether
/// one does is still the rule's.
pub(in crate::http::ui::pages) async fn free_handsets(
    page: &TenantPage,
    site: crate::model::SiteId,
) -> Result<Vec<minijinja::Value>> {
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let taken: std::collections::HashSet<String> = admin
        .handset_lines(tenant)
        .await?
        .into_iter()
        .map(|l| l.phone_id)
        .collect();
    Ok(admin
        .device_list(tenant)
        .await?
        .into_iter()
        .filter(|d| d.site_id == site && !taken.contains(&d.phone_id))
        .map(handset)
        .collect())
}

/// A handset as the desk phone pickers show it.
pub(in crate::http::ui::pages) fn handset(d: crate::model::Device) -> minijinja::Value {
    minijinja::context! { phone_id => d.phone_id, model => d.model, mac => d.mac.to_string() }
}
