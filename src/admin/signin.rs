//! Signing in and out at the handset itself (seed 002: "Telephony users use a PIN to … sign in
//! to their device handset"): the phone's XML-browser service asks for a number or extension
//! and its PIN. The PIN check is `number_verify_pin` (three wrong in a row lock it), the login
//! and logout are `number_login`/`number_logout` with their rules (one number per handset); this
//! file only finds the number in the handset's own tenant, so nothing of another tenant is ever
//! named.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Device, Number, E164};

use super::LoginTarget;

impl Admin {
    /// Logs the number or extension `key` in to `device` (whose tenant it must be of) once `pin`
    /// is its PIN; the number logged in.
    pub async fn handset_sign_in(&self, device: &Device, key: &str, pin: &str) -> Result<E164> {
        let number = self.signing_number(device, key).await?;
        self.number_verify_pin(&number, pin).await?;
        let target = LoginTarget {
            handset: device.mac.to_string(),
            additional_line: false,
        };
        self.number_login(device.tenant_id, &number, &target)
            .await?;
        Ok(number.e164)
    }

    /// Logs the number or extension `key` out of `device` once `pin` is its PIN; only a number
    /// logged in to this handset can be logged out here.
    pub async fn handset_sign_out(&self, device: &Device, key: &str, pin: &str) -> Result<E164> {
        let number = self.signing_number(device, key).await?;
        self.number_verify_pin(&number, pin).await?;
        let record = self.store.device_record(device.id).await?;
        if !record.lines.iter().any(|l| l.number_id == number.id) {
            return Err(Error::conflict(format!(
                "{} is not logged in to this handset",
                number.e164
            ))
            .coded(
                "number_not_on_this_handset",
                [("number", number.e164.to_string())],
            ));
        }
        self.number_logout(device.tenant_id, &number).await?;
        Ok(number.e164)
    }

    /// The number a handset's keypad named: a user's extension in the handset's tenant, else
    /// the number in E.164 form, typed with `+`, `00` or neither before the country code.
    async fn signing_number(&self, device: &Device, key: &str) -> Result<Number> {
        let key = key.trim();
        let unknown = || Error::not_found("number or extension", key);
        if key.is_empty() || key.len() > 20 {
            return Err(
                Error::invalid("number", "type the number or extension to sign in with")
                    .coded("signin_needs_number", []),
            );
        }
        if let Some(number) = self
            .store
            .number_by_extension(device.tenant_id, key)
            .await?
        {
            return Ok(number);
        }
        let digits = key
            .strip_prefix('+')
            .or_else(|| key.strip_prefix("00"))
            .unwrap_or(key);
        let Ok(e164) = format!("+{digits}").parse::<E164>() else {
            return Err(unknown());
        };
        match self.store.number_by_e164(device.tenant_id, &e164).await {
            Err(Error::NotFound { .. }) => Err(unknown()),
            found => found,
        }
    }
}
