//! The store suite: the same checks on SQLite always, and on PostgreSQL when
//! `AUTOPROV_TEST_PG_URL` is set (each run in a database of its own, dropped afterwards).

use std::sync::atomic::{AtomicU32, Ordering};

use autoprov::model::{
    FirstName, LastName, NumberStatus, Secret, SipSettings, Transport, UserState,
};
use autoprov::store::{NewDevice, NewNumber, NewSite, NewUser, Store, UserPatch};
use autoprov::Error;
use sqlx::Connection;

/// A database for one test, on one backend.
pub(crate) struct TestDb {
    pub(crate) url: String,
    /// For PostgreSQL: (admin URL, database name) to drop afterwards.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub(crate) async fn drop_db(self) {
        if let Some((admin_url, name)) = self.pg {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

pub(crate) async fn backends(test: &str) -> Vec<(&'static str, TestDb)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDb {
        url: format!("sqlite://{}", dir.path().join("store.db").display()),
        pg: None,
        _dir: Some(dir),
    };
    let mut list = vec![("sqlite", sqlite)];
    match std::env::var("AUTOPROV_TEST_PG_URL") {
        Ok(admin_url) => {
            static N: AtomicU32 = AtomicU32::new(0);
            sqlx::any::install_default_drivers();
            let name = format!(
                "autoprov_it_{}_{}_{}",
                test,
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let mut conn = sqlx::AnyConnection::connect(&admin_url)
                .await
                .expect("AUTOPROV_TEST_PG_URL answers");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create a test database");
            let base = admin_url.split('?').next().unwrap_or(&admin_url);
            let (server, _) = base.rsplit_once('/').expect("URL has a database path");
            list.push((
                "postgres",
                TestDb {
                    url: format!("{server}/{name}"),
                    pg: Some((admin_url.clone(), name)),
                    _dir: None,
                },
            ));
        }
        Err(_) => crate::support::say(&format!(
            "store suite {test}: PostgreSQL skipped (AUTOPROV_TEST_PG_URL is not set)"
        )),
    }
    list
}

/// A user named `first last` with nothing else, to fill in with struct update syntax.
fn new_user(tenant: autoprov::model::TenantId, first: &str, last: &str) -> NewUser {
    NewUser {
        tenant_id: tenant,
        first_name: FirstName::parse(first).unwrap(),
        last_name: LastName::parse(last).unwrap(),
        email: None,
        number_id: None,
        extension: None,
        mobile: None,
        contract_number: None,
        trunk_id: None,
        licences: Vec::new(),
    }
}

fn site(tenant: autoprov::model::TenantId, name: &str) -> NewSite {
    NewSite {
        tenant_id: tenant,
        name: name.into(),
        time_zone: "Europe/Berlin".into(),
        ntp_server: "pool.ntp.org".into(),
        sip: SipSettings {
            domain: "sip.example.com".into(),
            proxy: Some("proxy.example.com".into()),
            port: 5061,
            transport: Transport::Tls,
        },
        allowed_networks: vec!["10.1.0.0/16".parse().unwrap()],
        first_contact_hours: 12,
    }
}

#[tokio::test]
async fn every_write_bumps_the_tenants_revision() {
    for (backend, db) in backends("revisions").await {
        let store = Store::connect(&db.url).await.unwrap();
        let r0 = store.revisions().global();
        let a = store.tenant_create("A").await.unwrap();
        let b = store.tenant_create("B").await.unwrap();
        assert!(b.revision > a.revision, "{backend}");
        let rev_b = store.revisions().tenant(b.id);
        let s = store.site_create(&site(a.id, "HQ")).await.unwrap();
        let after_site = store.revisions().tenant(a.id);
        assert!(after_site > a.revision, "{backend}");
        assert_eq!(
            store.revisions().tenant(b.id),
            rev_b,
            "{backend}: B untouched"
        );
        assert_eq!(
            store.tenant_get(a.id).await.unwrap().revision,
            after_site,
            "{backend}"
        );
        assert_eq!(store.revisions().global(), r0 + 3, "{backend}");

        // A second Store on the same database stands for another process: it learns of the
        // first one's writes only by refreshing.
        let other = Store::connect(&db.url).await.unwrap();
        assert_eq!(other.revisions().tenant(a.id), after_site, "{backend}");
        store
            .number_create(&NewNumber {
                tenant_id: a.id,
                site_id: s.id,
                e164: "+4930123456".parse().unwrap(),
                status: NumberStatus::Active,
                is_main: false,
                default_pin: "482913".into(),
            })
            .await
            .unwrap();
        let mut changes = other.revisions().subscribe();
        other.refresh_revisions().await.unwrap();
        assert!(other.revisions().tenant(a.id) > after_site, "{backend}");
        assert_eq!(
            *changes.borrow_and_update(),
            store.revisions().global(),
            "{backend}"
        );
        store.close().await;
        other.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn records_round_trip() {
    for (backend, db) in backends("records").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "Berlin")).await.unwrap();
        assert_eq!(store.site_list(t.id).await.unwrap().len(), 1);
        let got = store.site_by_name(t.id, "Berlin").await.unwrap().unwrap();
        assert_eq!(got.sip.port, 5061);
        assert_eq!(got.sip.transport, Transport::Tls);
        assert_eq!(got.sip.proxy.as_deref(), Some("proxy.example.com"));
        assert_eq!(
            got.allowed_networks,
            vec!["10.1.0.0/16".parse::<ipnet::IpNet>().unwrap()]
        );
        assert_eq!(got.first_contact_hours, 12);
        let n = store
            .number_create(&NewNumber {
                tenant_id: t.id,
                site_id: s.id,
                e164: "+4930123456".parse().unwrap(),
                status: NumberStatus::Active,
                is_main: false,
                default_pin: "482913".into(),
            })
            .await
            .unwrap();
        let u = store
            .user_create(
                &NewUser {
                    number_id: Some(n.id),
                    extension: Some("3456".into()),
                    ..new_user(t.id, "Ada", "Lovelace")
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert_eq!(u.state, UserState::Pending, "{backend}");
        assert_eq!(u.number.as_ref().map(|n| n.as_str()), Some("+4930123456"));
        let u = store
            .user_update(
                t.id,
                u.id,
                &UserPatch {
                    email: Some(Some("ada@example.com".into())),
                    ..Default::default()
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert_eq!(u.email.as_deref(), Some("ada@example.com"));
        let u = store
            .user_set_state(t.id, u.id, UserState::Active, |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(u.state, UserState::Active);
        assert_eq!(
            store.user_search(t.id, "Ada Lovelace").await.unwrap().len(),
            1
        );
        assert_eq!(
            store
                .user_search(t.id, "ada@example.com")
                .await
                .unwrap()
                .len(),
            1
        );

        let mac = "001565a1b2c3".parse().unwrap();
        let d = store
            .device_create(&NewDevice {
                tenant_id: t.id,
                site_id: s.id,
                mac,
                family: "yealink".into(),
                model: "T54W".into(),
                phone_id: "AC3DEF".into(),
                admin_password: Secret::generate(),
                first_contact_until: Some(2_000_000_000),
            })
            .await
            .unwrap()
            .unwrap();
        let password = Secret::generate();
        let position = store
            .device_login(&d, n.id, "4930123456", &password, false, |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(position, 1);
        let record = store.device_record(d.id).await.unwrap();
        assert_eq!(record.tenant.name, "Acme");
        assert_eq!(record.site.name, "Berlin");
        assert_eq!(record.lines.len(), 1);
        assert_eq!(record.lines[0].sip_password, password, "{backend}");
        assert_eq!(
            record.lines[0]
                .user
                .as_ref()
                .map(|u| u.display_name())
                .as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            store.device_by_mac(mac).await.unwrap().map(|d| d.id),
            Some(d.id)
        );

        // A taken MAC is found inside the write; a taken Phone ID is refused by the database.
        let dup = NewDevice {
            tenant_id: t.id,
            site_id: s.id,
            mac,
            family: "yealink".into(),
            model: "T54W".into(),
            phone_id: "AC3DEF".into(),
            admin_password: Secret::generate(),
            first_contact_until: Some(2_000_000_000),
        };
        assert!(
            store.device_create(&dup).await.unwrap().is_none(),
            "{backend}"
        );
        let dup = store
            .device_create(&NewDevice {
                mac: "001565a1b2c4".parse().unwrap(),
                ..dup
            })
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{backend}: {dup}");
        let dup = store
            .device_login(&d, n.id, "x", &password, false, |_| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{backend}: {dup}");
        let dup = store.tenant_create("Acme").await.unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{backend}: {dup}");
        store.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_failed_write_leaves_no_revision_behind() {
    for (backend, db) in backends("rollback").await {
        let store = Store::connect(&db.url).await.unwrap();
        store.tenant_create("Acme").await.unwrap();
        let before = store.revisions().global();
        assert!(store.tenant_create("Acme").await.is_err());
        let reopened = Store::connect(&db.url).await.unwrap();
        assert_eq!(reopened.revisions().global(), before, "{backend}");
        store.close().await;
        reopened.close().await;
        db.drop_db().await;
    }
}

/// The portal's tables on each backend: licence pools that cannot be overdrawn, PIN attempts
/// that lock, BLF grants that gate monitor lists (and take entries with them), the number list
/// view, and the audit trail with its actor and before/after records.
#[tokio::test]
async fn portal_rules_hold_in_the_database() {
    use autoprov::model::LicenceKind;
    use autoprov::store::{AuditFilter, NumberPatch, PinCheck};
    for (backend, db) in backends("portal").await {
        let base = Store::connect(&db.url).await.unwrap();
        let store = base.acting("token:7 tenant-admin");
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "Berlin")).await.unwrap();
        let mut users = Vec::new();
        for (i, name) in ["Ada", "Bob"].iter().enumerate() {
            let n = store
                .number_create(&NewNumber {
                    tenant_id: t.id,
                    site_id: s.id,
                    e164: format!("+493012345{i}").parse().unwrap(),
                    status: NumberStatus::Active,
                    is_main: false,
                    default_pin: "482913".into(),
                })
                .await
                .unwrap();
            let u = store
                .user_create(
                    &NewUser {
                        number_id: Some(n.id),
                        extension: Some(format!("345{i}")),
                        ..new_user(t.id, name, "Example")
                    },
                    |_| Ok(()),
                )
                .await
                .unwrap();
            users.push((u, n));
        }
        let (ada, ada_number) = &users[0];
        let (bob, _) = &users[1];

        // Licences: one in the pool; the second user's is refused; the pool cannot shrink
        // below what is assigned.
        store
            .licence_pool_set(t.id, LicenceKind::App, 1)
            .await
            .unwrap();
        store
            .user_licences_set(t.id, ada.id, &[LicenceKind::App], |_| Ok(()))
            .await
            .unwrap();
        let e = store
            .user_licences_set(t.id, bob.id, &[LicenceKind::App], |_| Ok(()))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("no app licence available"),
            "{backend}: {e}"
        );
        let e = store
            .licence_pool_set(t.id, LicenceKind::App, 0)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{backend}: {e}");
        let pools = store.licence_pools(t.id).await.unwrap();
        let app = pools.iter().find(|p| p.kind == LicenceKind::App).unwrap();
        assert_eq!(
            (app.total, app.assigned, app.available),
            (1, 1, 0),
            "{backend}"
        );

        // PINs: two wrong, then right, resets; three wrong lock, even a right one after.
        for _ in 0..2 {
            assert!(matches!(
                store
                    .number_pin_attempt(ada_number.id, false)
                    .await
                    .unwrap(),
                PinCheck::Wrong(_)
            ));
        }
        assert_eq!(
            store.number_pin_attempt(ada_number.id, true).await.unwrap(),
            PinCheck::Ok,
            "{backend}"
        );
        for expected in [PinCheck::Wrong(2), PinCheck::Wrong(1), PinCheck::Locked] {
            assert_eq!(
                store
                    .number_pin_attempt(ada_number.id, false)
                    .await
                    .unwrap(),
                expected,
                "{backend}"
            );
        }
        assert_eq!(
            store.number_pin_attempt(ada_number.id, true).await.unwrap(),
            PinCheck::Locked
        );
        let n = store
            .number_set_pin(
                t.id,
                ada_number.id,
                None,
                autoprov::model::AuditAction::ResetPin,
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert!(!n.pin_locked && !n.custom_pin, "{backend}");

        // BLF: no grant, no monitoring; a grant allows it; revoking takes the entry away.
        let e = store.monitor_add(t.id, bob.id, ada.id).await.unwrap_err();
        assert!(e.to_string().contains("grant"), "{backend}: {e}");
        let g = store.blf_grant(t.id, ada.id, Some(bob.id)).await.unwrap();
        assert!(store.blf_grant(t.id, ada.id, Some(bob.id)).await.is_err());
        store.monitor_add(t.id, bob.id, ada.id).await.unwrap();
        assert_eq!(store.monitor_list(t.id, bob.id).await.unwrap().len(), 1);
        store.blf_revoke(t.id, g.id).await.unwrap();
        assert!(store.monitor_list(t.id, bob.id).await.unwrap().is_empty());

        // The list view: a label overrides the user's name in "assigned to".
        store
            .number_update(
                t.id,
                ada_number.id,
                &NumberPatch {
                    label_first: Some(Some("Front".into())),
                    label_last: Some(Some("Desk".into())),
                    ..Default::default()
                },
                autoprov::model::AuditAction::Label,
                |_| Ok(()),
            )
            .await
            .unwrap();
        let views = store.number_views(t.id, Some(s.id)).await.unwrap();
        assert_eq!(
            views[0].assigned_to.as_deref(),
            Some("Front Desk"),
            "{backend}"
        );
        assert_eq!(views[1].assigned_to.as_deref(), Some("Bob Example"));
        assert_eq!(views[0].user_id, Some(ada.id));

        // Clearing integer and text columns (NULL of the column's type on PostgreSQL).
        let cleared = store
            .user_update(
                t.id,
                bob.id,
                &UserPatch {
                    number_id: Some(None),
                    trunk_id: Some(None),
                    mobile: Some(None),
                    extension: Some(None),
                    ..Default::default()
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert!(
            cleared.number.is_none() && cleared.extension.is_none(),
            "{backend}"
        );

        // Audit: who, what, before and after; the default PIN only as "(set)".
        let (labelled, _) = store
            .audit(
                Some(t.id),
                &AuditFilter {
                    entity: Some("number".into()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let after = labelled[0].after.as_ref().unwrap();
        assert_eq!(after["default_pin"], "(set)", "{backend}");
        // Tokens are audited without a revision bump.
        let revision = store.revisions().global();
        let token = store
            .token_create(
                autoprov::model::Role::TenantAdmin,
                Some(t.id),
                None,
                "0123456789abcdef",
                "hash",
            )
            .await
            .unwrap();
        let (_, found) = store
            .token_by_selector("0123456789abcdef")
            .await
            .unwrap()
            .expect("found by its selector");
        assert_eq!(found.token_id, token, "{backend}");
        assert!(
            store.token_legacy(token).await.unwrap().is_none(),
            "{backend}"
        );
        store.token_revoke(token).await.unwrap();
        assert!(store.token_revoke(token).await.is_err(), "{backend}");
        assert_eq!(store.revisions().global(), revision, "{backend}");
        let (tokens, _) = store
            .audit(
                Some(t.id),
                &AuditFilter {
                    entity: Some("token".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(tokens.len(), 2, "{backend}");
        // One line per handset when asked, decided inside the write.
        let d = store
            .device_create(&NewDevice {
                tenant_id: t.id,
                site_id: s.id,
                mac: "001565000321".parse().unwrap(),
                family: "yealink".into(),
                model: "T54W".into(),
                phone_id: "QQQQQQ".into(),
                admin_password: Secret::generate(),
                first_contact_until: None,
            })
            .await
            .unwrap()
            .unwrap();
        let only_line = |number, user| {
            let store = &store;
            let d = &d;
            async move {
                let password = Secret::generate();
                store
                    .device_login(d, number, user, &password, true, |_| Ok(()))
                    .await
            }
        };
        only_line(ada_number.id, "a").await.unwrap();
        let (_, bob_number) = &users[1];
        let e = only_line(bob_number.id, "b").await.unwrap_err();
        assert!(
            e.to_string().contains("someone is already logged in"),
            "{backend}: {e}"
        );
        let filter = AuditFilter {
            entity: Some("number".into()),
            action: Some("label".into()),
            limit: 10,
            ..Default::default()
        };
        let (entries, total) = store.audit(Some(t.id), &filter).await.unwrap();
        assert_eq!(total, 1, "{backend}");
        let e = &entries[0];
        assert_eq!(e.actor.as_deref(), Some("token:7 tenant-admin"));
        assert_eq!(
            e.before.as_ref().unwrap()["label_first"],
            serde_json::Value::Null
        );
        assert_eq!(e.after.as_ref().unwrap()["label_first"], "Front");
        base.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn reservations_and_tenant_moves_are_decided_inside_the_write() {
    use autoprov::store::MacHolder;
    for (backend, db) in backends("reservations").await {
        let store = Store::connect(&db.url).await.unwrap();
        let a = store.tenant_create("A").await.unwrap();
        let b = store.tenant_create("B").await.unwrap();
        let sa = store.site_create(&site(a.id, "HQ")).await.unwrap();
        let sb = store.site_create(&site(b.id, "HQ")).await.unwrap();
        let (m1, m2, m3) = (
            "001565000a01".parse().unwrap(),
            "001565000a02".parse().unwrap(),
            "001565000a03".parse().unwrap(),
        );
        let device = |tenant, site_id, mac, phone_id: &str| NewDevice {
            tenant_id: tenant,
            site_id,
            mac,
            family: "yealink".into(),
            model: "T54W".into(),
            phone_id: phone_id.into(),
            admin_password: Secret::generate(),
            first_contact_until: None,
        };
        store
            .reservations_add(a.id, &[m1, m2, m1])
            .await
            .unwrap()
            .unwrap();
        let list = store.reservations(a.id).await.unwrap();
        assert_eq!(
            list.iter().map(|r| r.mac).collect::<Vec<_>>(),
            vec![m1, m2],
            "{backend}"
        );
        assert_eq!(store.reservation_of(m1).await.unwrap(), Some(a.id));
        // B cannot register A's reserved MAC; A can.
        let taken = store
            .device_create(&device(b.id, sb.id, m1, "BBBBBB"))
            .await
            .unwrap();
        assert!(taken.is_none(), "{backend}");
        let d = store
            .device_create(&device(a.id, sa.id, m1, "AAAAAA"))
            .await
            .unwrap()
            .unwrap();
        // All or none: m3 is free, m1 registered in A, so B reserves neither.
        let refused = store.reservations_add(b.id, &[m3, m1]).await.unwrap();
        assert_eq!(refused, Err((m1, MacHolder::Registered(a.id))), "{backend}");
        let refused = store.reservations_add(b.id, &[m3, m2]).await.unwrap();
        assert_eq!(refused, Err((m2, MacHolder::Reserved(a.id))), "{backend}");
        assert!(store.reservations(b.id).await.unwrap().is_empty());
        assert!(store.reservation_release(a.id, m2).await.unwrap());
        assert!(!store.reservation_release(a.id, m2).await.unwrap());

        // A move to B: both revisions move, both trails have it.
        let (rev_a, rev_b) = (
            store.revisions().tenant(a.id),
            store.revisions().tenant(b.id),
        );
        let out = store.device_move_tenant(&d, b.id, sb.id).await.unwrap();
        assert!(out.is_empty(), "{backend}");
        let moved = store.device_by_mac(m1).await.unwrap().unwrap();
        assert_eq!((moved.tenant_id, moved.site_id), (b.id, sb.id), "{backend}");
        assert!(store.revisions().tenant(a.id) > rev_a, "{backend}");
        assert!(store.revisions().tenant(b.id) > rev_b, "{backend}");
        for tenant in [a.id, b.id] {
            let (entries, _) = store
                .audit(
                    Some(tenant),
                    &autoprov::store::AuditFilter {
                        action: Some("move-tenant".into()),
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(entries.len(), 1, "{backend}");
        }
        store.close().await;
    }
}

#[tokio::test]
async fn issue_12_server_facts_are_recorded_once_and_replaced_on_purpose() {
    for (backend, db) in backends("facts").await {
        let store = Store::connect(&db.url).await.unwrap();
        assert_eq!(
            store.fact("local_ca_sha256").await.unwrap(),
            None,
            "{backend}"
        );
        let first = store.record_fact("local_ca_sha256", "aa").await.unwrap();
        assert_eq!(first, "aa", "{backend}");
        // A second process recording its own value learns the first one's.
        let other = Store::connect(&db.url).await.unwrap();
        assert_eq!(
            other.record_fact("local_ca_sha256", "bb").await.unwrap(),
            "aa",
            "{backend}: the first record stays"
        );
        other.set_fact("local_ca_sha256", "cc").await.unwrap();
        assert_eq!(
            store.fact("local_ca_sha256").await.unwrap().as_deref(),
            Some("cc"),
            "{backend}: replaced on purpose"
        );
        store.close().await;
        other.close().await;
        db.drop_db().await;
    }
}

/// What the API's lists did in memory before they moved into SQL: a text matches when its
/// lower case contains the search's. The store's pages must agree with it on both backends.
fn reference<T: Clone>(all: &[T], q: &str, texts: impl Fn(&T) -> Vec<String>) -> Vec<T> {
    let q = q.trim().to_lowercase();
    all.iter()
        .filter(|x| q.is_empty() || texts(x).iter().any(|t| t.to_lowercase().contains(&q)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn lists_are_searched_and_paged_in_sql() {
    use autoprov::model::ListQuery;
    use autoprov::store::NumberPatch;
    for (backend, db) in backends("lists").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let other = store.tenant_create("acme Zwei").await.unwrap();
        for name in ["b", "Berlin", "Ärzte", "a_b", "Zoo"] {
            store.site_create(&site(t.id, name)).await.unwrap();
        }
        let s = store.site_list(t.id).await.unwrap()[0].clone();
        let people = [
            ("Ömer", "Özdemir", Some("OEZ@example.com")),
            ("Jürgen", "MÜLLER", None),
            ("Ada", "Lovelace", Some("ada%x@example.com")),
            ("Bob", "Example", Some("bob_x@example.com")),
            ("ÉMILE", "Zola", None),
        ];
        for (i, (first, last, email)) in people.iter().enumerate() {
            let n = store
                .number_create(&NewNumber {
                    tenant_id: t.id,
                    site_id: s.id,
                    e164: format!("+4930777{i}").parse().unwrap(),
                    status: NumberStatus::Active,
                    is_main: i == 4,
                    default_pin: "482913".into(),
                })
                .await
                .unwrap();
            if i == 2 {
                let label = NumberPatch {
                    label_first: Some(Some("Front".into())),
                    label_last: Some(None),
                    ..Default::default()
                };
                store
                    .number_update(
                        t.id,
                        n.id,
                        &label,
                        autoprov::model::AuditAction::Label,
                        |_| Ok(()),
                    )
                    .await
                    .unwrap();
            }
            store
                .user_create(
                    &NewUser {
                        email: email.map(str::to_owned),
                        number_id: (i != 4).then_some(n.id),
                        extension: Some(format!("7{i}")),
                        ..new_user(t.id, first, last)
                    },
                    |_| Ok(()),
                )
                .await
                .unwrap();
        }
        let users = store.user_list(t.id).await.unwrap();
        let views = store.number_views(t.id, None).await.unwrap();
        let sites = store.site_list(t.id).await.unwrap();
        let searches = [
            "",
            "  ",
            "özd",
            "ÖZD",
            "mül",
            "MüLLER",
            "é",
            "É",
            "%",
            "_",
            "a_b",
            "*",
            "[",
            "+4930",
            "7771",
            "front",
            "MAIN number",
            "ada lovelace",
            "ZZZ",
            "e",
        ];
        for q in searches {
            let query = |limit, offset| ListQuery {
                limit,
                offset,
                q: Some(q.to_owned()),
            };
            let want = reference(&users, q, |u| {
                vec![
                    u.display_name(),
                    u.email.clone().unwrap_or_default(),
                    u.number.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                    u.extension.clone().unwrap_or_default(),
                ]
            });
            let got = store.user_page(t.id, &query(None, None)).await.unwrap();
            let ids =
                |list: &[autoprov::model::User]| list.iter().map(|u| u.id).collect::<Vec<_>>();
            assert_eq!(ids(&got.items), ids(&want), "{backend}: users {q:?}");
            assert_eq!(got.total, want.len() as u64, "{backend}: users {q:?}");
            // A page of two from the second, and past the end: the total stays.
            let page = store
                .user_page(t.id, &query(Some(2), Some(1)))
                .await
                .unwrap();
            let want_page: Vec<_> = want.iter().skip(1).take(2).cloned().collect();
            assert_eq!(
                ids(&page.items),
                ids(&want_page),
                "{backend}: users {q:?} page"
            );
            assert_eq!(page.total, want.len() as u64, "{backend}: users {q:?} page");
            let past = store
                .user_page(t.id, &query(Some(5), Some(50)))
                .await
                .unwrap();
            assert!(past.items.is_empty(), "{backend}");
            assert_eq!(
                past.total,
                want.len() as u64,
                "{backend}: users {q:?} past the end"
            );

            let want = reference(&views, q, |v| {
                vec![
                    v.number.e164.to_string(),
                    v.assigned_to.clone().unwrap_or_default(),
                ]
            });
            let got = store
                .number_view_page(t.id, None, &query(None, None))
                .await
                .unwrap();
            let numbers = |list: &[autoprov::model::NumberView]| {
                list.iter().map(|v| v.number.id).collect::<Vec<_>>()
            };
            assert_eq!(
                numbers(&got.items),
                numbers(&want),
                "{backend}: numbers {q:?}"
            );
            assert_eq!(got.total, want.len() as u64, "{backend}: numbers {q:?}");

            let want = reference(&sites, q, |s| vec![s.name.clone()]);
            let got = store.site_page(t.id, &query(None, None)).await.unwrap();
            let names = |list: &[autoprov::model::Site]| {
                list.iter().map(|s| s.name.clone()).collect::<Vec<_>>()
            };
            assert_eq!(names(&got.items), names(&want), "{backend}: sites {q:?}");
        }
        // Tenants: all, or only one; by bytes, as `tenant_list` sorts them.
        let all = store
            .tenant_page(None, &ListQuery::default())
            .await
            .unwrap();
        let names: Vec<_> = all.items.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Acme", "acme Zwei"], "{backend}");
        let q = ListQuery {
            q: Some("ACME".into()),
            ..Default::default()
        };
        let one = store.tenant_page(Some(other.id), &q).await.unwrap();
        assert_eq!(one.total, 1, "{backend}");
        assert_eq!(one.items[0].id, other.id, "{backend}");
        // The limit is checked by the store: 1 to 1000.
        for limit in [0, 1001] {
            let q = ListQuery {
                limit: Some(limit),
                ..Default::default()
            };
            let e = store.user_page(t.id, &q).await.unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("limit: {limit} is not between 1 and 1000")
            );
        }
        store.close().await;
        db.drop_db().await;
    }
}

/// An admin over `store`, as the CLI and the API have one.
fn admin_of(store: &Store) -> autoprov::admin::Admin {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("device-templates");
    let catalog = autoprov::render::Catalog::load(&templates).unwrap();
    let defaults = autoprov::model::SiteDefaults {
        time_zone: "Europe/Berlin".into(),
        ntp_server: "pool.ntp.org".into(),
        sip_domain: Some("sip.example.com".into()),
        sip_transport: Transport::Tls,
    };
    autoprov::admin::Admin::new(store.clone(), std::sync::Arc::new(catalog), defaults)
}

/// Of two admin calls made at once, exactly one succeeds; the other gets the conflict the
/// rule gives (`answer`), as it would have one call later.
#[track_caller]
fn one_wins<T: std::fmt::Debug>(
    backend: &str,
    both: (autoprov::Result<T>, autoprov::Result<T>),
    answer: &str,
) {
    let lost = match both {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        (a, b) => panic!("{backend}: expected exactly one to win, got {a:?} and {b:?}"),
    };
    assert!(
        matches!(lost, Error::Conflict(_)) && lost.to_string().contains(answer),
        "{backend}: {lost}"
    );
}

/// The checks that guard a write run inside its transaction: two admins racing on one rule
/// cannot both pass it. Both calls read before either writes (they run interleaved on one
/// thread), so a check made on a read before the write let both through, every round.
#[tokio::test]
async fn guards_hold_when_two_admins_race() {
    use autoprov::admin::{NumberInput, SiteInput, UserInput};
    for (backend, db) in backends("races").await {
        let store = Store::connect(&db.url).await.unwrap();
        let admin = admin_of(&store);
        let t = admin.tenant_add("Acme").await.unwrap();
        let hq = SiteInput {
            name: "HQ".into(),
            ..Default::default()
        };
        admin.site_add(t.id, &hq).await.unwrap();
        for round in 0..5 {
            let number = |i: u32| NumberInput {
                number: format!("+4930555{round}{i}"),
                status: Some("active".into()),
                ..Default::default()
            };
            let user = |name: &str| UserInput {
                first_name: name.into(),
                last_name: format!("Round{round}"),
                ..Default::default()
            };
            let n1 = admin.number_add(t.id, &number(1)).await.unwrap();
            let n2 = admin.number_add(t.id, &number(2)).await.unwrap();
            let n3 = admin.number_add(t.id, &number(3)).await.unwrap();
            let ada = admin.user_add(t.id, &user("Ada")).await.unwrap();
            let bob = admin.user_add(t.id, &user("Bob")).await.unwrap();

            // A pending user activated twice at once: one activation, one "already active".
            let twice = tokio::join!(
                admin.user_activate(t.id, &ada),
                admin.user_activate(t.id, &ada)
            );
            one_wins(backend, twice, "is already active");
            admin.user_activate(t.id, &bob).await.unwrap();
            let ada = store.user_get(t.id, ada.id).await.unwrap();
            let bob = store.user_get(t.id, bob.id).await.unwrap();

            // One number to two users at once.
            let both = tokio::join!(
                admin.number_assign(t.id, &n1, &ada),
                admin.number_assign(t.id, &n1, &bob)
            );
            one_wins(backend, both, "is already assigned to");

            // Two numbers at once to the user still without one.
            let holder = store.user_by_number(n1.id).await.unwrap().unwrap();
            let free = if holder.id == ada.id { &bob } else { &ada };
            let two = tokio::join!(
                admin.number_assign(t.id, &n2, free),
                admin.number_assign(t.id, &n3, free)
            );
            one_wins(backend, two, "already has a number");
        }
        store.close().await;
        db.drop_db().await;
    }
}
