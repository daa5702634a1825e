//! The web portal (issue 14): sessions, CSRF, scoping and escaping over plain HTTPS with a
//! cookie (`http.rs`), and in headless Chromium (`browser.rs`, skipped with a message when
//! `chromium`/`chromedriver` are not installed). `Portal` is the fixture both use.

mod audit;
mod blf;
mod browser;
mod edit;
mod groups;
mod handsets;
mod http;
mod imports;
mod licences;
mod operator;
mod profile;
mod sessions;
mod shared;
mod sites;
mod telephony;
mod users_life;

use autoprov::admin::{NumberInput, UserInput};
use autoprov::model::{Number, Role, Secret, Tenant, User};
use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::StatusCode;

use crate::support::TestServer;

/// Every fixture account's first password, and what `session` changes it to.
pub const FIRST: &str = "first-password-1";
pub const CHANGED: &str = "changed-password-2";

/// The operator, an admin of each tenant and a user of Acme.
pub const OPERATOR: &str = "operator";
pub const ACME_ADMIN: &str = "admin@acme.test";
pub const OTHER_ADMIN: &str = "admin@other.test";
pub const ACME_USER: &str = "ada";

/// A server with two tenants (Acme, Other), a user Ada in Acme and the accounts above, and a
/// client that trusts its CA and follows no redirects (so a test sees each 303).
pub struct Portal {
    pub server: TestServer,
    pub http: reqwest::Client,
    pub acme: Tenant,
    pub other: Tenant,
    /// The user behind `ACME_USER`, for the pages' tests that act on her.
    #[allow(dead_code)]
    pub ada: User,
}

/// A logged-in session: its cookie (`name=value`) and CSRF token.
pub struct Sess {
    pub cookie: String,
    pub csrf: String,
}

impl Portal {
    pub async fn start() -> Portal {
        let server = TestServer::start().await;
        let admin = &server.app.admin;
        let acme = admin.tenant_add("Acme").await.unwrap();
        let other = admin.tenant_add("Other").await.unwrap();
        let ada = admin
            .user_add(
                acme.id,
                &UserInput {
                    first_name: "Ada".into(),
                    last_name: "Lovelace".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let accounts = [
            (OPERATOR, Role::PlatformAdmin, None, None),
            (ACME_ADMIN, Role::TenantAdmin, Some(acme.id), None),
            (OTHER_ADMIN, Role::TenantAdmin, Some(other.id), None),
            (ACME_USER, Role::User, Some(acme.id), Some(ada.id)),
        ];
        for (login, role, tenant, user) in accounts {
            admin
                .portal_account_add(login, role, tenant, user, Some(Secret::new(FIRST.into())))
                .await
                .unwrap();
        }
        let ca = std::fs::read(server.data_dir().join("certs/ca.pem")).unwrap();
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Portal {
            server,
            http,
            acme,
            other,
            ada,
        }
    }

    /// Adds `number` to Acme, active.
    pub async fn active_number(&self, number: &str) -> Number {
        self.server
            .app
            .admin
            .number_add(
                self.acme.id,
                &NumberInput {
                    number: number.into(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        self.server.admin_url(path)
    }

    /// GET `path` with the session's cookie, if any: status, headers, body.
    pub async fn get(&self, sess: Option<&Sess>, path: &str) -> (StatusCode, HeaderMap, String) {
        let mut req = self.http.get(self.url(path));
        if let Some(s) = sess {
            req = req.header(COOKIE, &s.cookie);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status(),
            resp.headers().clone(),
            resp.text().await.unwrap(),
        )
    }

    /// POST a form to `path` with the session's cookie, if any.
    /// `post` with the session's CSRF token, asking for German.
    pub async fn post_de(
        &self,
        sess: &Sess,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut form = form.to_vec();
        form.push(("csrf", sess.csrf.as_str()));
        let resp = self
            .http
            .post(self.url(path))
            .form(&form)
            .header(COOKIE, &sess.cookie)
            .header("accept-language", "de")
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    pub async fn post(
        &self,
        sess: Option<&Sess>,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some(s) = sess {
            req = req.header(COOKIE, &s.cookie);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status(),
            resp.headers().clone(),
            resp.text().await.unwrap(),
        )
    }

    /// Logs in as `login` with `password`: the session cookie, if the login worked.
    pub async fn login_with(&self, login: &str, password: &str) -> Option<String> {
        let (status, headers, _) = self
            .post(None, "/login", &[("login", login), ("password", password)])
            .await;
        if status != StatusCode::SEE_OTHER {
            return None;
        }
        session_cookie(&headers)
    }

    /// Logs in as `login` (first password) and changes the password as the first login asks:
    /// a session ready for every page.
    pub async fn session(&self, login: &str) -> Sess {
        let cookie = self
            .login_with(login, FIRST)
            .await
            .expect("first login works");
        let mut sess = Sess {
            cookie,
            csrf: String::new(),
        };
        let (status, _, body) = self.get(Some(&sess), "/password").await;
        assert_eq!(status, 200, "{body}");
        sess.csrf = csrf_of(&body);
        let (status, headers, body) = self
            .post(
                Some(&sess),
                "/password",
                &[
                    ("csrf", sess.csrf.as_str()),
                    ("current", FIRST),
                    ("password", CHANGED),
                    ("confirm", CHANGED),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers["location"], "/");
        sess
    }
}

/// The session cookie a `Set-Cookie` sets, as `name=value`.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(autoprov::http::ui::SESSION_COOKIE) && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The CSRF token in a page's forms.
pub fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF field")
        + 19;
    body[at..].split('"').next().unwrap().to_owned()
}
