//! Admin rules through the same code the CLI and API use: clear errors, nothing written.

use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput};
use autoprov::Error;

use crate::support::{walkthrough, TestServer, NUMBER};

#[tokio::test]
async fn invalid_input_writes_nothing() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let before = server.app.store.revisions().global();

    for mac in ["00:15:65:a1:b2", "0015:65a1:b2c3", "zz1565a1b2c3", ""] {
        let e = admin
            .device_add(
                tenant.id,
                &DeviceInput {
                    mac: mac.into(),
                    model: "T54W".into(),
                    site: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Invalid(ref f) if f.field == "mac"),
            "{e}"
        );
        assert!(e.to_string().contains(&format!("{mac:?}")), "{e}");
    }
    let e = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Maximilianus-Alexandrius".into(),
                last_name: "X".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("first_name"), "{e}");
    let e = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Ann".into(),
                last_name: "L".repeat(31),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("last_name"), "{e}");
    for bad in ["4930123456", "+49 30 1234", "+0301234", "+4930123456789012"] {
        let e = admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: bad.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Invalid(ref f) if f.field == "number"),
            "{e}"
        );
    }
    assert_eq!(
        server.app.store.revisions().global(),
        before,
        "nothing was written"
    );
    assert_eq!(admin.user_list(tenant.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn state_rules() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();

    // A number already assigned, a duplicate extension, a duplicate MAC, an active user.
    let e = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "B".into(),
                number: Some(NUMBER.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("already assigned to Ada Lovelace"),
        "{e}"
    );
    let e = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "B".into(),
                extension: Some("3456".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }) && e.to_string().contains("extension 3456"),
        "{e}"
    );
    let e = admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: "001565A1B2C3".into(),
                model: "T46S".into(),
                site: None,
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already registered"), "{e}");
    let ada = admin.user(tenant.id, "Ada Lovelace").await.unwrap();
    assert!(matches!(
        admin.user_activate(tenant.id, &ada).await,
        Err(Error::Conflict { .. })
    ));

    // A reserved number cannot be assigned; a site has one main number.
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930999".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "B".into(),
                number: Some("+4930999".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("+4930999 is reserved"), "{e}");
    let main = NumberInput {
        number: "+4930000".into(),
        status: Some("active".into()),
        main: true,
        ..Default::default()
    };
    admin.number_add(tenant.id, &main).await.unwrap();
    let e = admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930001".into(),
                ..main.clone()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already has a main number"), "{e}");

    // A pending user's number cannot be logged in to a handset.
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930777".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "B".into(),
                number: Some("+4930777".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = admin
        .device_login(tenant.id, "001565a1b2c3", "+4930777")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("pending"), "{e}");
    // The same number twice.
    let e = admin
        .device_login(tenant.id, "001565a1b2c3", NUMBER)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already logged in"), "{e}");
}

#[tokio::test]
async fn another_tenants_objects_are_not_found() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let other = admin.tenant_add("Other").await.unwrap();
    admin
        .site_add(
            other.id,
            &SiteInput {
                name: "Paris".into(),
                sip_domain: Some("sip.other.example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        admin.device(other.id, "001565a1b2c3").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        admin.user(other.id, NUMBER).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        admin.device_login(other.id, "001565a1b2c3", NUMBER).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        admin.site(other.id, Some("Berlin")).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn handsets_have_as_many_accounts_as_their_model() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: "001565000009".into(),
                model: "T19P_E2".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    for n in ["+4930500", "+4930501"] {
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: n.into(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    admin
        .device_login(tenant.id, "001565000009", "+4930500")
        .await
        .unwrap();
    let further = autoprov::admin::LoginTarget {
        handset: "001565000009".into(),
        additional_line: true,
    };
    let number = admin.number(tenant.id, "+4930501").await.unwrap();
    let e = admin
        .number_login(tenant.id, &number, &further)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("all 1 accounts of this T19P_E2 are in use"),
        "{e}"
    );
}

#[tokio::test]
async fn main_numbers_stay_off_handsets_and_names_can_be_ambiguous() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930000".into(),
                status: Some("active".into()),
                main: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = admin
        .device_login(tenant.id, "001565a1b2c3", "+4930000")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("main number"), "{e}");

    for email in ["a1@example.com", "a2@example.com"] {
        admin
            .user_add(
                tenant.id,
                &UserInput {
                    first_name: "Sam".into(),
                    last_name: "Smith".into(),
                    email: Some(email.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let e = admin.user(tenant.id, "Sam Smith").await.unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }) && e.to_string().contains("2 users match"),
        "{e}"
    );
    let sam = admin.user(tenant.id, "a2@example.com").await.unwrap();
    let cleared = admin
        .user_update(
            tenant.id,
            &sam,
            &autoprov::admin::UserUpdate {
                email: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.email, None);
    assert_eq!(cleared.first_name.as_str(), "Sam", "other fields kept");
}

#[tokio::test]
async fn the_user_life_cycle() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let ada = admin.user(tenant.id, NUMBER).await.unwrap();
    let bob = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "B".into(),
                extension: Some("22".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Pending: cannot be deleted; the operator can fail it, and a failed user still cannot go.
    let e = admin.user_delete(tenant.id, &bob).await.unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }) && e.to_string().contains("pending"),
        "{e}"
    );
    let bob = admin.user_fail(tenant.id, &bob).await.unwrap();
    assert_eq!(bob.state.as_str(), "failed");
    assert!(admin.user_delete(tenant.id, &bob).await.is_err());
    let bob = admin.user_activate(tenant.id, &bob).await.unwrap();
    assert_eq!(bob.state.as_str(), "active");
    admin.blf_grant(tenant.id, &ada, Some(&bob)).await.unwrap();
    admin.monitor_add(tenant.id, &bob, &ada).await.unwrap();

    // Deactivation: only from active, with a valid transfer number and mode.
    let e = admin
        .user_deactivate(tenant.id, &ada, Some("Gone"), Some("0301234"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref f) if f.field == "number"),
        "{e}"
    );
    let e = admin
        .user_deactivate(tenant.id, &ada, None, None, Some("shout"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("announced, key-press"), "{e}");
    let ada = admin
        .user_deactivate(
            tenant.id,
            &ada,
            Some("Ada has left"),
            Some("+4930999"),
            Some("key-press"),
        )
        .await
        .unwrap();
    assert_eq!(ada.state.as_str(), "deactivated");
    assert!(admin
        .user_deactivate(tenant.id, &ada, None, None, None)
        .await
        .is_err());
    // Deactivation keeps the monitor lists.
    assert_eq!(admin.monitor_list(tenant.id, &bob).await.unwrap().len(), 1);

    // Deleting frees the number at once, logs it out of the handset, and empties monitor lists.
    admin.user_delete(tenant.id, &ada).await.unwrap();
    assert!(admin
        .monitor_list(tenant.id, &bob)
        .await
        .unwrap()
        .is_empty());
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", None).await;
    assert!(body.lines().any(|l| l == "account.1.enable = 0"), "{body}");
    let again = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Carol".into(),
                last_name: "C".into(),
                number: Some(NUMBER.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(again.number.unwrap().as_str(), NUMBER);
}

/// A new user's number refused (someone's, the site's main number, not active) names the
/// input field `number`, which the portal places the message by (not by its text).
#[tokio::test]
async fn user_add_number_conflicts_name_the_number_field() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    for (number, status, main) in [
        ("+4930123470", "active", true),
        ("+4930123471", "reserved", false),
    ] {
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: number.into(),
                    status: Some(status.into()),
                    main,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    for number in [NUMBER, "+4930123470", "+4930123471"] {
        let e = admin
            .user_add(
                tenant.id,
                &UserInput {
                    first_name: "Bob".into(),
                    last_name: "B".into(),
                    number: Some(number.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Conflict { field: Some(ref f), .. } if f == "number"),
            "{number}: {e:?}"
        );
    }
}

/// A new user's desk phone is logged in by the add's own write: a handset someone took after
/// the admin's check (here: taken already, the write given it as the check would have) makes
/// the write refuse it by the handset field, and nobody is added, nothing written.
#[tokio::test]
async fn user_add_with_a_handset_taken_before_the_write_adds_nobody() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let store = &server.app.store;
    let tenant = admin.tenant("Acme").await.unwrap();
    let device = admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: "001565a1b2c9".into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    let free = admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930123480".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The other login wins the handset.
    let taker = admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930123481".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let secret = autoprov::model::Secret::generate();
    store
        .device_login(&device, taker.id, "4930123481", &secret, true, |_| Ok(()))
        .await
        .unwrap();
    let users = admin.user_list(tenant.id).await.unwrap().len();
    let before = store.revisions().global();
    let grace = autoprov::store::NewUser {
        tenant_id: tenant.id,
        first_name: autoprov::model::FirstName::parse("Grace").unwrap(),
        last_name: autoprov::model::LastName::parse("Hopper").unwrap(),
        email: None,
        number_id: Some(free.id),
        extension: Some("3480".into()),
        mobile: None,
        contract_number: None,
        trunk_id: None,
        licences: Vec::new(),
        fax: None,
    };
    let line = autoprov::store::FirstLine {
        device: &device,
        sip_user: "4930123480",
        sip_password: &secret,
        rule: |_| Ok(()),
    };
    let e = store
        .user_create_with_line(&grace, |_| Ok(()), Some(line))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict { field: Some(ref f), .. } if f == "handset"),
        "{e:?}"
    );
    assert_eq!(admin.user_list(tenant.id).await.unwrap().len(), users);
    assert_eq!(store.revisions().global(), before, "nothing was written");
}
