//! The phone service on the phones' HTTPS listener: `GET /x/<token>/<mac>/login` and
//! `…/logout` show the family's screen asking for a number (or extension) and its PIN; the form
//! comes back to the same URL with `?number=…&pin=…`, which signs in or out (`admin`), tells the
//! phone to fetch its files again (`sip::resync::device`) and shows what happened. A family
//! whose screens take one input each gets `?number=…` first and shows the screen again asking
//! for that number's PIN (`ScreenContext::number`). Whose device
//! it is, is `provision::Provisioner::service_device`'s; every refused request gets the uniform
//! 404. Nothing here logs the query (it holds the PIN) or the token.

use std::collections::HashMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};

use super::{not_found, Conn};
use crate::app::App;
use crate::error::Error;
use crate::model::Device;
use crate::provision::{FileRequest, Protocol, ScreenContext};
use crate::render::Screen;

/// What the phone gets after a sign-in or sign-out attempt, for people at the phone.
struct Said {
    title: &'static str,
    text: String,
}

pub(super) async fn phone_service(
    State(app): State<App>,
    Extension(conn): Extension<Conn>,
    method: Method,
    path: Result<Path<(String, String, String)>, PathRejection>,
    form: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    // A path or query that does not decode is nobody's: the same 404 as every refusal.
    let (Ok(Path((token, mac, action))), Ok(Query(form))) = (path, form) else {
        return not_found();
    };
    let screen = match action.as_str() {
        "login" => Screen::Login,
        "logout" => Screen::Logout,
        _ => return not_found(),
    };
    if method != Method::GET || !conn.tls {
        return not_found();
    }
    let path = format!("/x/{token}/{mac}/{action}");
    let mut request = FileRequest::plain(&path, Protocol::Https, Some(conn.peer.ip()));
    request.client_mac = conn.client_mac;
    let device = match app.provisioner.service_device(&token, &mac, &request).await {
        Ok(Some(device)) => device,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::warn!(error = %e, "phone service: cannot look the device up");
            return not_found();
        }
    };
    let base = format!(
        "{}x/{token}/{mac}/",
        app.settings.https_url.as_deref().unwrap_or("/")
    );
    let urls = (format!("{base}login"), format!("{base}logout"));
    let (shown, said) = match (form.get("number"), form.get("pin")) {
        (Some(number), Some(pin)) => (
            Screen::Message,
            sign(&app, &device, screen, number, pin).await,
        ),
        // A number without a PIN: the screen again, now asking for the PIN of that number
        // (families whose screens take one input each).
        (Some(_), None) => (
            screen,
            Said {
                title: "PIN",
                text: String::new(),
            },
        ),
        _ => (
            screen,
            Said {
                title: if screen == Screen::Login {
                    "Sign in"
                } else {
                    "Sign out"
                },
                text: String::new(),
            },
        ),
    };
    let own = if screen == Screen::Login {
        &urls.0
    } else {
        &urls.1
    };
    let context = ScreenContext {
        url: own,
        login_url: &urls.0,
        logout_url: &urls.1,
        title: said.title,
        text: &said.text,
        number: match shown {
            Screen::Message => None,
            Screen::Login | Screen::Logout => form.get("number").map(String::as_str),
        },
    };
    match app.provisioner.service_screen(&device, shown, &context) {
        Some(Ok(screen)) => {
            ([(header::CONTENT_TYPE, screen.content_type)], screen.body).into_response()
        }
        Some(Err(e)) => {
            tracing::warn!(mac = %device.mac, error = %e, "phone service: cannot render a screen");
            not_found()
        }
        None => not_found(),
    }
}

/// Signs in or out, then tells the phone to fetch its files again.
async fn sign(app: &App, device: &Device, screen: Screen, number: &str, pin: &str) -> Said {
    let admin = app.admin.acting(&format!("phone:{}", device.mac));
    let done = if screen == Screen::Login {
        admin.handset_sign_in(device, number, pin).await
    } else {
        admin.handset_sign_out(device, number, pin).await
    };
    let (title, text) = match done {
        Ok(e164) if screen == Screen::Login => (
            "Signed in",
            format!("{e164} is signed in to this phone; it updates now"),
        ),
        Ok(e164) => (
            "Signed out",
            format!("{e164} is signed out of this phone; it updates now"),
        ),
        Err(e) => return refused(device, e),
    };
    tracing::info!(mac = %device.mac, action = title, "phone service");
    let app = app.clone();
    let device = device.clone();
    // The answer does not wait for the phone's answer to the NOTIFY (it is busy showing this).
    tokio::spawn(async move {
        if let Err(e) = crate::sip::resync::device(&app, &device).await {
            tracing::warn!(mac = %device.mac, error = %e, "phone service: cannot tell the phone to resync");
        }
    });
    Said { title, text }
}

/// The refusal shown on the phone: a rule's own message (it names only what the handset's
/// tenant holds), never an internal error's text.
fn refused(device: &Device, error: Error) -> Said {
    let text = match &error {
        Error::Invalid(field) => field.message.clone(),
        Error::NotFound { what, key } => format!("unknown {what}: {key}"),
        Error::Conflict { message, .. } | Error::Locked { message, .. } => message.clone(),
        Error::Template { .. }
        | Error::Config(_)
        | Error::Store { .. }
        | Error::Hashing { .. }
        | Error::Csv(_)
        | Error::Rows(_)
        | Error::Json { .. }
        | Error::Io(_) => {
            tracing::warn!(mac = %device.mac, error = %error, "phone service failed");
            return Said {
                title: "Not available",
                text: "the service is not available now; try again later".to_owned(),
            };
        }
    };
    tracing::info!(mac = %device.mac, reason = %text, "phone service refused");
    Said {
        title: "Not done",
        text,
    }
}
