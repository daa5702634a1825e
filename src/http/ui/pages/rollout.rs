//! The installer's rollout dashboard (004): per site, how many phones are expected, have made
//! first contact and have fetched their file (the rollout-status operation), and the phones
//! not arrived yet beside the ones that have, with when. Without JavaScript the page asks the
//! browser to load it again every `REFRESH` seconds (`Refresh` header) and has a link for it.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::super::{TenantPage, UiError, View};
use super::handsets::{state_key, when};
use super::ADMINS;
use crate::admin::STALE_DAYS;
use crate::app::App;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "rollout/rollout.html",
    include_str!("../templates/rollout/rollout.html"),
)];

/// Seconds between the page's reloads.
const REFRESH: u32 = 15;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/t/{tenant}/rollout", get(dashboard))
}

async fn dashboard(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let tenant = page.tenant.id;
    let sites = admin.site_list(tenant).await?;
    let mut summaries = Vec::new();
    for site in &sites {
        let r = admin
            .rollout(tenant, Some(&site.id.0.to_string()), None)
            .await?;
        summaries.push(minijinja::context! {
            site => site.name,
            expected => r.expected,
            arrived => r.arrived,
            provisioned => r.provisioned,
            failing => r.failing,
            stale => r.stale,
            done => r.expected > 0 && r.all_arrived(),
        });
    }
    let total = admin.rollout(tenant, None, None).await?;
    let views = admin.device_views(tenant, None, STALE_DAYS).await?;
    let site_name = |id: crate::model::SiteId| {
        sites
            .iter()
            .find(|s| s.id == id)
            .map_or(String::new(), |s| s.name.clone())
    };
    let mut waiting = Vec::new();
    let mut arrived = Vec::new();
    for v in &views {
        let row = minijinja::context! {
            href => format!("/t/{}/handsets/{}", tenant.0, v.device.phone_id),
            mac => v.device.mac.to_string(),
            phone_id => v.device.phone_id,
            model => v.device.model,
            site => site_name(v.device.site_id),
            state => state_key(v.state),
            failing => v.failing,
            failure => v.last_failure.as_ref().map(|f| f.reason.clone()),
            at => v.last_seen.as_ref().map(|s| s.at)
                .or(v.last_failure.as_ref().map(|f| f.at)).map(when),
        };
        if v.arrived() {
            arrived.push(row);
        } else {
            waiting.push(row);
        }
    }
    let mut response = view.render(
        Some(&page.session.0),
        "rollout/rollout.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => format!("/t/{}/rollout", tenant.0),
            sites => summaries,
            total => minijinja::context! {
                expected => total.expected,
                arrived => total.arrived,
                provisioned => total.provisioned,
                failing => total.failing,
                stale => total.stale,
            },
            waiting => waiting,
            arrived => arrived,
            refresh => REFRESH,
            now => when(jiff::Timestamp::now().as_second()),
        },
    );
    response
        .headers_mut()
        .insert(header::REFRESH, HeaderValue::from(REFRESH));
    Ok(response)
}
