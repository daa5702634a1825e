//! Voicemail PINs (002): the default PIN, the user's own, and the lock after wrong tries.

use serde_json::{json, Value};

use super::{Ada, Admin, Portal, ADA};

fn pin(p: &str) -> Value {
    json!({ "pin": p })
}

const VERIFY: &str = "numbers/+4930123456/verify-pin";
const SET: &str = "numbers/+4930123456/pin";

/// Ada's number's default PIN, which she may read.
async fn default_pin(p: &Portal) -> String {
    let n = p.get(Ada, &format!("numbers/{ADA}")).await;
    assert_eq!(n.is(200)["custom_pin"], false);
    n.body["default_pin"].as_str().unwrap().to_owned()
}

/// The default PIN works until the user sets their own.
#[tokio::test]
async fn the_default_pin_verifies() {
    let p = Portal::new().await;
    let default = default_pin(&p).await;
    p.post(Ada, VERIFY, pin(&default)).await.is(204);
}

/// The custom PIN is the user's: an admin cannot set it, trivial PINs are refused, it is never
/// shown, and the default stops working.
#[tokio::test]
async fn the_custom_pin_is_the_users_and_not_trivial() {
    let p = Portal::new().await;
    let default = default_pin(&p).await;
    p.put(Admin, SET, pin("4711")).await.is(403);
    for bad in ["1234", "0000", "12", &default] {
        p.put(Ada, SET, pin(bad)).await.invalid("pin");
    }
    let n = p.put(Ada, SET, pin("4711")).await;
    assert_eq!(n.is(200)["custom_pin"], true);
    assert!(
        !n.body.to_string().contains("4711"),
        "the custom PIN is never shown"
    );
    let old = p.post(Ada, VERIFY, pin(&default)).await;
    assert_eq!(old.status, 422, "the default no longer works");
    p.post(Ada, VERIFY, pin("4711")).await.is(204);
}

/// Three wrong in a row lock it, the right one too, until the admin's reset (not the user's,
/// and not a new PIN).
#[tokio::test]
async fn three_wrong_pins_lock_until_the_admin_resets() {
    let p = Portal::new().await;
    let default = default_pin(&p).await;
    p.put(Ada, SET, pin("4711")).await.is(200);
    let mut last = Value::Null;
    for _ in 0..3 {
        last = p.post(Ada, VERIFY, pin("9999")).await.body;
    }
    assert_eq!(last["status"], 423, "{last}");
    p.post(Ada, VERIFY, pin("4711")).await.is(423);
    let again = p.put(Ada, SET, pin("8642")).await;
    assert_eq!(
        again.status, 423,
        "a new PIN does not open the lock: the admin's reset does"
    );
    let reset = format!("numbers/{ADA}/reset-pin");
    let own = p.act(Ada, &reset).await;
    assert_eq!(own.status, 403, "resetting is the admin's");
    let n = p.act(Admin, &reset).await;
    assert_eq!(
        (
            n.is(200)["pin_locked"].as_bool(),
            n.body["custom_pin"].as_bool()
        ),
        (Some(false), Some(false))
    );
    p.post(Ada, VERIFY, pin(&default)).await.is(204);
}
