//! The portal's pages, one file each, and the list that mounts them. Adding a page: its file
//! here (`pub(super) fn routes` and `pub(super) const TEMPLATES`), its templates under
//! `templates/<page>/`, its strings in `i18n/{en,de}/<page>.toml`, one `page!` line in
//! `PAGES` and, if the nav links it, one entry in `NAV`.

mod audit;
mod blf;
mod bridges;
mod forms;
mod groups;
mod handsets;
mod home;
mod imports;
mod licences;
mod login;
mod night;
mod operator;
mod password;
mod phonebook;
mod pickpark;
mod profile;
mod refusal;
mod rollout;
mod sites;
mod telephony;
mod user;
mod users;
mod virtual_users;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::admin::portal::PortalSession;
use crate::app::App;
use crate::model::{Principal, Role};

/// A page: its name (the catalogue's table, the templates' folder), routes, templates and
/// catalogue files (in `LANGS` order).
pub(super) struct Page {
    pub name: &'static str,
    pub routes: fn(Router<App>) -> Router<App>,
    pub templates: &'static [(&'static str, &'static str)],
    pub i18n: [&'static str; 2],
}

macro_rules! page {
    ($name:ident) => {
        Page {
            name: stringify!($name),
            routes: $name::routes,
            templates: $name::TEMPLATES,
            i18n: [
                include_str!(concat!("../i18n/en/", stringify!($name), ".toml")),
                include_str!(concat!("../i18n/de/", stringify!($name), ".toml")),
            ],
        }
    };
}

/// Every page, one line each.
pub(super) const PAGES: &[Page] = &[
    page!(login),
    page!(password),
    page!(home),
    page!(users),
    page!(user),
    page!(telephony),
    page!(profile),
    page!(handsets),
    page!(rollout),
    page!(imports),
    page!(sites),
    page!(operator),
    page!(licences),
    page!(audit),
    page!(blf),
    page!(groups),
    page!(phonebook),
    page!(pickpark),
    page!(virtual_users),
    page!(bridges),
    page!(night),
];

/// A nav entry: its label's catalogue key, its address (`{tenant}` is the session's tenant)
/// and the roles that see it. A tenant-scoped entry is shown only to sessions bound to a
/// tenant (the operator reaches tenants from the home page).
struct NavItem {
    label: &'static str,
    href: &'static str,
    roles: &'static [Role],
}

const ADMINS: &[Role] = &[Role::PlatformAdmin, Role::TenantAdmin];

const NAV: &[NavItem] = &[
    NavItem {
        label: "home.nav",
        href: "/",
        roles: ADMINS,
    },
    NavItem {
        label: "users.nav",
        href: "/t/{tenant}/users",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "telephony.nav",
        href: "/t/{tenant}/telephony",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "handsets.nav",
        href: "/t/{tenant}/handsets",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "rollout.nav",
        href: "/t/{tenant}/rollout",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "imports.nav",
        href: "/t/{tenant}/import",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "groups.nav",
        href: "/t/{tenant}/groups",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "sites.nav",
        href: "/t/{tenant}/sites",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "licences.nav",
        href: "/t/{tenant}/licences",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "audit.nav",
        href: "/t/{tenant}/audit",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "blf.nav",
        href: "/t/{tenant}/blf",
        roles: &[Role::TenantAdmin],
    },
    NavItem {
        label: "operator.nav",
        href: "/operator",
        roles: &[Role::PlatformAdmin],
    },
    NavItem {
        label: "profile.nav",
        href: "/t/{tenant}/me",
        roles: &[Role::User],
    },
];

/// The nav for a session: `[{href, label}]` with the label's key.
pub(super) fn nav(principal: &Principal, session: &PortalSession) -> minijinja::Value {
    if session.account.must_change {
        return minijinja::Value::from(Vec::<minijinja::Value>::new());
    }
    let items: Vec<minijinja::Value> = NAV
        .iter()
        .filter(|n| n.roles.contains(&principal.role))
        .filter_map(|n| {
            let href = if n.href.contains("{tenant}") {
                n.href.replace("{tenant}", &principal.tenant?.0.to_string())
            } else {
                n.href.to_owned()
            };
            let (page, key) = n.label.split_once('.')?;
            Some(minijinja::context! { href => href, page => page, key => key })
        })
        .collect();
    minijinja::Value::from(items)
}

/// Every page's routes, and the stylesheet and script.
pub(super) fn routes(router: Router<App>) -> Router<App> {
    let router = router
        .route("/static/portal.css", get(css))
        .route("/static/portal.js", get(js))
        .route("/favicon.ico", get(icon))
        .route("/static/favicon.svg", get(icon));
    PAGES.iter().fold(router, |r, p| (p.routes)(r))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/portal.css"),
    )
}

/// The tab's icon; browsers ask for `/favicon.ico` whatever the page says.
async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/portal.js"),
    )
}
