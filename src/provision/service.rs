//! The phone service (signing in and out at the handset, `/x/<token>/<mac>/…`): which device
//! asks, and its screens. A device is proven here by one thing only: its service token
//! (`trust::service_token`, a keyed hash of its HTTP password) over HTTPS. Anything else — plain
//! HTTP, an unknown MAC, a family without the service, a wrong or another device's token — is
//! `None` (the transport's uniform 404), counted by the failure throttle like a refused file.

use serde::Serialize;

use super::trust::{self, Gate};
use super::{classify, FileRequest, Protocol, Provisioner};
use crate::error::Result;
use crate::model::{Device, Mac};
use crate::render::Screen;

/// A screen as the family's phone service renders it.
#[derive(Clone, Debug)]
pub struct ServiceScreen {
    pub body: String,
    pub content_type: String,
}

/// What every screen template sees: where its form goes and what to show.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ScreenContext<'a> {
    /// This screen's own URL (a form submits to it).
    pub url: &'a str,
    /// The service's sign-in and sign-out screens.
    pub login_url: &'a str,
    pub logout_url: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    /// The number or extension already typed, on a screen that asks for the PIN alone (a
    /// family whose screens take one input each, as Snom's: the number first, then its PIN).
    /// It is the caller's own input, shown back to it.
    pub number: Option<&'a str>,
}

impl Provisioner {
    /// The device behind a phone-service request for `mac` with `token`, if the token is its.
    pub async fn service_device(
        &self,
        token: &str,
        mac: &str,
        request: &FileRequest<'_>,
    ) -> Result<Option<Device>> {
        if request.protocol != Protocol::Https {
            return Ok(None);
        }
        let gate = self.gate(request).await?;
        match gate {
            Gate::Open => {}
            Gate::Slow => tokio::time::sleep(self.settings.throttle.slow).await,
            Gate::Refused => return Ok(None),
        }
        let known = match mac.parse::<Mac>() {
            Ok(mac) => self.lookup(mac).await?.filter(|k| {
                self.catalog
                    .family(k.family)
                    .manifest
                    .phone_service
                    .is_some()
            }),
            Err(_) => None,
        };
        // An unknown MAC is checked against a stand-in password: the same work either way.
        let passwords = classify::passwords(known.as_deref(), jiff::Timestamp::now().as_second());
        let proven = trust::verify_service_token(token, &passwords.list()) && passwords.real;
        match known {
            Some(known) if proven => Ok(Some(known.device.clone())),
            _ => {
                self.count_failure(request, gate, None).await;
                Ok(None)
            }
        }
    }

    /// `screen` of `device`'s family, rendered with `context`; `None` when the family has no
    /// phone service.
    pub fn service_screen(
        &self,
        device: &Device,
        screen: Screen,
        context: &ScreenContext<'_>,
    ) -> Option<Result<ServiceScreen>> {
        let family = self.catalog.family_by_name(&device.family)?;
        let service = self
            .catalog
            .family(family)
            .manifest
            .phone_service
            .as_ref()?;
        let content_type = service.content_type.clone();
        Some(
            self.catalog
                .render_screen(family, screen, context)?
                .map(|body| ServiceScreen { body, content_type }),
        )
    }
}
