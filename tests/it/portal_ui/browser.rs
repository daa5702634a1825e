//! The portal in headless Chromium over WebDriver (fantoccini). One `chromedriver` per test
//! run on a free port, shared by the tests; each test opens its own browser session against
//! its own in-process server, accepting the local CA's certificate. Without `chromium` and
//! `chromedriver` installed (`.ci/run` installs them) each test says so and passes.
//!
//! Helpers for the pages' tests: `Browser::open` (or `None`: skip), `login_as` (first login
//! and password change included), `go`, `assert_no_console_errors`, `screenshots` (1280 and
//! 390 px wide into `target/portal-screenshots/<page>-<width>.png`), `nav_labels`.

use std::path::PathBuf;
use std::sync::OnceLock;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::*;

/// The shared chromedriver's port, or why there is none.
fn driver() -> Result<u16, String> {
    static DRIVER: OnceLock<Result<u16, String>> = OnceLock::new();
    DRIVER
        .get_or_init(|| {
            let chromium = ["chromium", "chromium-browser"]
                .iter()
                .any(|b| which(b).is_some());
            let Some(driver) = which("chromedriver") else {
                return Err("chromedriver is not installed".into());
            };
            if !chromium {
                return Err("chromium is not installed".into());
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            // chromedriver lives as long as this test binary: a watchdog ends it when we end.
            let script = format!(
                "{} --port={port} >/dev/null 2>&1 & d=$!; \
                 while kill -0 {} 2>/dev/null; do sleep 1; done; kill $d",
                driver.display(),
                std::process::id()
            );
            std::process::Command::new("sh")
                .args(["-c", &script])
                .stdin(std::process::Stdio::null())
                .spawn()
                .map_err(|e| e.to_string())?;
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(port);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err("chromedriver did not start".into())
        })
        .clone()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

/// A browser session on a `Portal`.
pub struct Browser {
    pub client: Client,
    pub portal: Portal,
}

impl Browser {
    /// A headless Chromium on a fresh `Portal`; `None` (the test skips, saying why) when
    /// Chromium or its driver is missing.
    pub async fn open(test: &str) -> Option<Browser> {
        // fantoccini's connector wants a process-wide rustls provider; ours is ring. A second
        // call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = match driver() {
            Ok(port) => port,
            Err(why) => {
                crate::support::say(&format!("SKIPPED browser test {test}: {why}"));
                return None;
            }
        };
        let portal = Portal::start().await;
        let caps = json!({
            "acceptInsecureCerts": true,
            // A find waits (10 s at most) for its element: after a click that sends a form,
            // the next page's flash or error may not be there yet.
            "timeouts": { "implicit": 10000 },
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let client = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Some(Browser { client, portal })
    }

    /// Opens `path` of the portal.
    pub async fn go(&self, path: &str) {
        self.client.goto(&self.portal.url(path)).await.unwrap();
    }

    /// Logs in through the form as `login` with `password`.
    pub async fn login_form(&self, login: &str, password: &str) {
        self.go("/login").await;
        self.type_into("login", login).await;
        self.type_into("password", password).await;
        self.click("form button[type=submit]").await;
    }

    /// Clicks the element that the CSS selector `css` finds (waiting for it, as every find).
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Types `text` into the field whose id is `id`.
    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Logs in as a fixture account and changes its first password: on its home page after.
    pub async fn login_as(&self, login: &str) {
        self.login_form(login, FIRST).await;
        self.wait_for_path(|p| p.ends_with("/password"), "the password page")
            .await;
        self.type_into("current", FIRST).await;
        self.type_into("password", CHANGED).await;
        self.type_into("confirm", CHANGED).await;
        self.click("main form button[type=submit]").await;
        self.wait_for_path(|p| !p.ends_with("/password"), "past the password page")
            .await;
    }

    /// Waits (10 s at most) until the browser's path is `want`: a click's navigation may not
    /// be over when the click returns, above all with several browsers on a busy machine.
    pub async fn wait_for_path(&self, want: impl Fn(&str) -> bool, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let url = self.client.current_url().await.unwrap();
            if want(url.path()) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "not at {what}: {url}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Waits (10 s at most) until the page's main text contains `needle`: a submit's click
    /// may return before the next page is there, so what is read right after it may be the
    /// page before.
    pub async fn wait_for_text(&self, needle: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let text = match self.client.find(Locator::Css("main")).await {
                Ok(main) => main.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} not in {text}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The main heading's text.
    pub async fn heading(&self) -> String {
        self.client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The nav's link texts.
    pub async fn nav_labels(&self) -> Vec<String> {
        let mut out = Vec::new();
        for a in self
            .client
            .find_all(Locator::Css("header nav a"))
            .await
            .unwrap()
        {
            out.push(a.text().await.unwrap());
        }
        out
    }

    /// No console message of level SEVERE (script errors, CSP violations, failed loads)
    /// since the last call.
    pub async fn assert_no_console_errors(&self) {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap();
        let severe: Vec<_> = log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        assert!(severe.is_empty(), "console errors: {severe:?}");
    }

    /// Forgets the console since the last call: after a page that answers an error status on
    /// purpose (chromedriver logs the load as SEVERE).
    pub async fn forget_console(&self) {
        self.client.issue_cmd(BrowserLog).await.unwrap();
    }

    /// Screenshots of the whole current page (not only the viewport) at 1280 and 390 px wide,
    /// as `target/portal-screenshots/<page>-<width>.png`: per width the window is made as tall
    /// as the document (at most `FULL_PAGE_MAX` px) before the shot, then restored.
    pub async fn screenshots(&self, page: &str) {
        const FULL_PAGE_MAX: u64 = 16_384;
        // Every page shot is also checked for what a screen reader trips on: an id used
        // twice (a label then names another form's field), a label for no field.
        let broken = self
            .client
            .execute(
                "const ids = [...document.querySelectorAll('[id]')].map(e => e.id); \
                 const twice = ids.filter((id, i) => ids.indexOf(id) !== i); \
                 const lost = [...document.querySelectorAll('label[for]')] \
                   .map(l => l.htmlFor).filter(f => !document.getElementById(f)); \
                 return twice.map(id => 'id used twice: ' + id) \
                   .concat(lost.map(f => 'label for no field: ' + f));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(broken, json!([]), "{page}: {broken}");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target dir")
            .join("portal-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        for (width, height) in [(1280, 900), (390, 844)] {
            self.client.set_window_size(width, height).await.unwrap();
            // The document's height at this width, plus what the window has beyond its
            // viewport (none when headless), so the viewport holds the whole page.
            let tall = self
                .client
                .execute(
                    "return Math.max(document.documentElement.scrollHeight, \
                     document.body ? document.body.scrollHeight : 0) \
                     + (window.outerHeight - window.innerHeight)",
                    vec![],
                )
                .await
                .unwrap()
                .as_u64()
                .unwrap_or(u64::from(height))
                .clamp(u64::from(height), FULL_PAGE_MAX);
            let tall = u32::try_from(tall).unwrap_or(height);
            if tall > height {
                self.client.set_window_size(width, tall).await.unwrap();
            }
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{page}-{width}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    pub async fn close(self) {
        self.client.close().await.unwrap();
    }
}

/// chromedriver's browser log (`POST /session/{id}/se/log`), which W3C WebDriver lacks.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (::http::Method, Option<String>) {
        (
            ::http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// The height of a PNG (its IHDR chunk's, bytes 20..24).
fn png_height(png: &[u8]) -> u32 {
    u32::from_be_bytes(png[20..24].try_into().unwrap())
}

#[tokio::test]
async fn issue_14_browser_screenshots_hold_the_whole_page() {
    let Some(b) = Browser::open("full_page").await else {
        return;
    };
    b.go("/login").await;
    // A page three times the window's height.
    b.client
        .execute(
            "const d = document.createElement('div'); d.style.height = '2700px'; \
             document.body.appendChild(d)",
            vec![],
        )
        .await
        .unwrap();
    b.screenshots("full-page-check").await;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("portal-screenshots");
    for width in [1280, 390] {
        let png = std::fs::read(dir.join(format!("full-page-check-{width}.png"))).unwrap();
        assert!(png_height(&png) >= 2700, "{width}: {}", png_height(&png));
    }
    // The window is back to its usual size.
    let inner = b
        .client
        .execute("return window.innerHeight", vec![])
        .await
        .unwrap();
    assert!(inner.as_u64().unwrap() <= 900, "{inner}");
    b.close().await;
}

#[tokio::test]
async fn issue_14_browser_login_pages_and_screenshots() {
    let Some(b) = Browser::open("login_pages").await else {
        return;
    };
    b.go("/login").await;
    b.assert_no_console_errors().await;
    b.screenshots("login").await;
    b.login_as(ACME_ADMIN).await;
    assert_eq!(b.heading().await, "Home");
    b.assert_no_console_errors().await;
    b.screenshots("home").await;
    let users = format!("/t/{}/users", b.portal.acme.id.0);
    b.go(&users).await;
    assert!(b.heading().await.starts_with("Users"));
    let text = b
        .client
        .find(Locator::Css("tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Ada Lovelace"), "{text}");
    b.assert_no_console_errors().await;
    b.screenshots("users").await;
    // The add form, with the error by its field.
    let c = &b.client;
    b.type_into("new-first_name", &"A".repeat(24)).await;
    b.type_into("new-last_name", "Long").await;
    b.click("form[action$='#add'] button[type=submit]").await;
    let error = c
        .find(Locator::Id("first_name-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!error.is_empty());
    b.screenshots("users-error").await;
    b.close().await;
}

#[tokio::test]
async fn issue_14_browser_wrong_password_is_refused() {
    let Some(b) = Browser::open("wrong_password").await else {
        return;
    };
    b.login_form(OPERATOR, "not-the-password").await;
    let error = b
        .client
        .find(Locator::Id("login-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(error, "Wrong login or password.");
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/login"));
    b.close().await;
}

#[tokio::test]
async fn issue_14_browser_keyboard_only_login() {
    let Some(b) = Browser::open("keyboard_login").await else {
        return;
    };
    b.go("/login").await;
    // The login field has the focus; Tab reaches the password, Enter sends the form.
    let c = &b.client;
    let active = c.active_element().await.unwrap();
    assert_eq!(active.attr("id").await.unwrap().as_deref(), Some("login"));
    active
        .send_keys(&format!("{OPERATOR}\u{e004}{FIRST}\u{e007}"))
        .await
        .unwrap();
    b.wait_for_path(|p| p.ends_with("/password"), "the password page")
        .await;
    b.close().await;
}

#[tokio::test]
async fn issue_14_browser_csrf_refused_xss_inert_and_a_user_sees_only_my_profile() {
    let Some(b) = Browser::open("csrf_xss_user").await else {
        return;
    };
    let p = &b.portal;
    p.server
        .app
        .admin
        .user_add(
            p.acme.id,
            &UserInput {
                first_name: super::http::XSS_FIRST.into(),
                last_name: super::http::XSS_LAST.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    b.login_as(ACME_ADMIN).await;
    b.go(&format!("/t/{}/users", p.acme.id.0)).await;
    let c = &b.client;
    let text = c
        .find(Locator::Css("tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(super::http::XSS_FIRST) && text.contains(super::http::XSS_LAST),
        "{text}"
    );
    let imgs = c
        .execute(
            "return document.querySelectorAll('main img, main script').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(imgs, json!(0));
    b.assert_no_console_errors().await;
    b.screenshots("users-xss").await;
    // A form whose CSRF token was tampered with is refused with a clear page.
    c.execute(
        "document.querySelector('form[action$=\"#add\"] input[name=csrf]').value = 'forged'",
        vec![],
    )
    .await
    .unwrap();
    b.type_into("new-first_name", "Eve").await;
    b.type_into("new-last_name", "Forged").await;
    b.click("form[action$='#add'] button[type=submit]").await;
    assert_eq!(b.heading().await, "Form expired");
    // Another tenant's page.
    b.go(&format!("/t/{}/users", p.other.id.0)).await;
    assert_eq!(b.heading().await, "Not found");
    b.screenshots("not-found").await;
    b.forget_console().await;
    // A user: only "My profile". (The error page has no session bar: log out from home.)
    b.go("/").await;
    let form = c
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap();
    form.click().await.unwrap();
    b.login_as(ACME_USER).await;
    assert_eq!(b.nav_labels().await, ["My profile"]);
    assert_eq!(b.heading().await, "My profile");
    b.assert_no_console_errors().await;
    b.screenshots("profile").await;
    b.close().await;
}
