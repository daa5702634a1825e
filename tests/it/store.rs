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
        fax: None,
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
        assert!(matches!(dup, Error::Conflict { .. }), "{backend}: {dup}");
        let dup = store
            .device_login(&d, n.id, "x", &password, false, |_| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict { .. }), "{backend}: {dup}");
        let dup = store.tenant_create("Acme").await.unwrap_err();
        assert!(matches!(dup, Error::Conflict { .. }), "{backend}: {dup}");
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
            .user_licences_set(t.id, ada.id, &[LicenceKind::App], None, |_| Ok(()))
            .await
            .unwrap();
        let e = store
            .user_licences_set(t.id, bob.id, &[LicenceKind::App], None, |_| Ok(()))
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
        assert!(matches!(e, Error::Conflict { .. }), "{backend}: {e}");
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
pub(crate) fn admin_of(store: &Store) -> autoprov::admin::Admin {
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
        matches!(lost, Error::Conflict { .. }) && lost.to_string().contains(answer),
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

#[tokio::test]
async fn resync_finds_the_seen_devices_a_write_touched() {
    for (backend, db) in backends("resync").await {
        let store = Store::connect(&db.url).await.unwrap();
        let a = store.tenant_create("A").await.unwrap();
        let b = store.tenant_create("B").await.unwrap();
        let sa = store.site_create(&site(a.id, "HQ")).await.unwrap();
        let sb = store.site_create(&site(b.id, "HQ")).await.unwrap();
        let device = |tenant, site_id, mac: &str, phone_id: &str| NewDevice {
            tenant_id: tenant,
            site_id,
            mac: mac.parse().unwrap(),
            family: "yealink".into(),
            model: "T54W".into(),
            phone_id: phone_id.into(),
            admin_password: Secret::new("pw".into()),
            first_contact_until: None,
        };
        let seen = store
            .device_create(&device(a.id, sa.id, "001565000001", "AAA001"))
            .await
            .unwrap()
            .unwrap();
        let unseen = store
            .device_create(&device(a.id, sa.id, "001565000002", "AAA002"))
            .await
            .unwrap()
            .unwrap();
        let other = store
            .device_create(&device(b.id, sb.id, "001565000003", "BBB001"))
            .await
            .unwrap()
            .unwrap();
        let sighting = ("10.0.0.7".to_owned(), "http", None, false);
        store
            .devices_seen(&[(seen.id, sighting.clone()), (other.id, sighting)])
            .await
            .unwrap();
        let since = store.revisions().global();
        assert!(
            store.devices_changed_since(since).await.unwrap().is_empty(),
            "{backend}: nothing since"
        );
        store.site_create(&site(a.id, "Branch")).await.unwrap();
        let changed = store.devices_changed_since(since).await.unwrap();
        let macs: Vec<String> = changed.iter().map(|c| c.device.mac.to_string()).collect();
        assert_eq!(
            macs,
            ["001565000001"],
            "{backend}: A's seen device only, not {unseen:?}"
        );
        assert_eq!(changed[0].addr.as_deref(), Some("10.0.0.7"), "{backend}");
        let (revision, addr) = store.device_resync_facts(&other).await.unwrap();
        assert_eq!(
            (revision >= 0, addr.as_deref()),
            (true, Some("10.0.0.7")),
            "{backend}"
        );
        store.close().await;
    }
}

/// Issue 12 part B on both backends: pickup and park groups, their slots in the extension
/// plan, schedules and night service round-trip; a deleted user leaves every group by the
/// tables' ON DELETE CASCADE, inside the delete; the database itself keeps a user in one
/// pickup group even when no rule is checked; of two admins racing for one user, one wins.
#[tokio::test]
async fn pickup_park_groups_and_schedules_in_the_database() {
    use autoprov::admin::PickupGroupInput;
    use autoprov::model::{NightMode, NightTarget, ScheduleKind, WeeklyHours};
    use autoprov::store::{GroupWrite, NightWrite, ScheduleWrite};

    for (backend, db) in backends("pickpark").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("PP").await.unwrap();
        let s = store.site_create(&site(t.id, "HQ")).await.unwrap();
        let mut users = Vec::new();
        for (first, ext) in [("Ann", "100"), ("Ben", "101"), ("Cy", "102")] {
            let u = NewUser {
                extension: Some(ext.into()),
                ..new_user(t.id, first, "Member")
            };
            users.push(store.user_create(&u, |_| Ok(())).await.unwrap());
        }
        let ids: Vec<_> = users.iter().map(|u| u.id).collect();
        let pickup = store
            .pickup_group_write(
                t.id,
                None,
                &GroupWrite {
                    name: "Front",
                    members: &ids[..2],
                    slots: &[],
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert_eq!(pickup.members.len(), 2, "{backend}");
        // The database keeps a user in one pickup group, whatever the rule said.
        let twice = store
            .pickup_group_write(
                t.id,
                None,
                &GroupWrite {
                    name: "Back",
                    members: &ids[1..],
                    slots: &[],
                },
                |_| Ok(()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(twice, Error::Conflict { .. }),
            "{backend}: {twice}"
        );
        let slots = vec!["800".to_owned(), "801".to_owned()];
        let park = store
            .park_group_write(
                t.id,
                None,
                &GroupWrite {
                    name: "Lot",
                    members: &ids,
                    slots: &slots,
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        assert_eq!(park.slots, slots, "{backend}");
        let owner = store.extension_owner(t.id, "801").await.unwrap().unwrap();
        assert_eq!(
            (owner.kind.as_str(), owner.id, owner.name.as_str()),
            ("park-slot", park.id, "Lot"),
            "{backend}"
        );
        assert_eq!(
            store.park_groups_of(t.id, ids[2]).await.unwrap().len(),
            1,
            "{backend}"
        );
        // Ben is deleted: he is in neither group afterwards.
        store
            .user_delete(t.id, ids[1], "482913", |_| Ok(()))
            .await
            .unwrap();
        let front = store.pickup_group_get(t.id, pickup.id).await.unwrap();
        let lot = store.park_group_get(t.id, park.id).await.unwrap();
        let names = |m: &[autoprov::model::Member]| -> Vec<String> {
            m.iter().map(|m| m.name.clone()).collect()
        };
        assert_eq!(names(&front.members), ["Ann Member"], "{backend}");
        assert_eq!(
            names(&lot.members),
            ["Ann Member", "Cy Member"],
            "{backend}"
        );
        assert!(store.pickup_group_of(t.id, ids[1]).await.unwrap().is_none());

        let hours = WeeklyHours {
            monday: vec!["08:00-12:00".into()],
            ..Default::default()
        };
        let office = store
            .schedule_write(
                t.id,
                None,
                &ScheduleWrite {
                    name: "Office",
                    kind: ScheduleKind::OpeningHours,
                    hours: Some(&hours),
                    holidays: &[],
                },
            )
            .await
            .unwrap();
        assert_eq!(
            store.schedule_get(t.id, office.id).await.unwrap().hours,
            Some(hours),
            "{backend}"
        );
        for site in [None, Some(s.id)] {
            let night = NightWrite {
                site,
                mode: NightMode::Automatic,
                hours: Some(office.id),
                holidays: None,
                target: NightTarget::AutoAttendant,
                destination: Some("100".into()),
            };
            // The rule sees the auto-attendant's extension as the write reads it.
            let seen = |fresh: &Option<autoprov::store::ExtensionUse>| {
                assert_eq!(fresh.as_ref().map(|f| f.extension.as_str()), Some("100"));
                Ok(())
            };
            store.night_service_set(t.id, &night, seen).await.unwrap();
            // Set twice: one row per scope.
            store.night_service_set(t.id, &night, seen).await.unwrap();
        }
        let own = store
            .night_service(t.id, Some(s.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(own.service.site.as_deref(), Some("HQ"), "{backend}");
        assert_eq!(own.service.hours.as_deref(), Some("Office"), "{backend}");
        let used = store.schedule_delete(t.id, office.id).await.unwrap_err();
        assert!(
            used.to_string().contains("night service"),
            "{backend}: {used}"
        );

        // Two admins adding Ann to two pickup groups at once: one wins.
        let admin = admin_of(&store);
        let input = |name: &str| PickupGroupInput {
            name: name.into(),
            members: vec!["Cy Member".into()],
        };
        let (a, b) = (input("Race A"), input("Race B"));
        one_wins(
            backend,
            tokio::join!(
                admin.pickup_group_add(t.id, &a),
                admin.pickup_group_add(t.id, &b)
            ),
            "already in pickup group",
        );
        store.close().await;
        db.drop_db().await;
    }
}

/// The life cycle on both backends: a site or tenant that holds things is not removed, a
/// removed device frees its MAC, a replaced one loses its sightings, the rollout records
/// round-trip (a fetch clears a refusal), and a removed tenant's trail is kept.
#[tokio::test]
async fn issue_13_the_life_cycle_holds_in_the_database() {
    use autoprov::admin::{DeviceInput, NumberInput, SiteInput};
    for (backend, db) in backends("lifecycle").await {
        let store = Store::connect(&db.url).await.unwrap();
        let admin = admin_of(&store);
        let t = admin.tenant_add("Acme").await.unwrap();
        let hq = SiteInput {
            name: "HQ".into(),
            ..Default::default()
        };
        admin.site_add(t.id, &hq).await.unwrap();
        let add = |mac: &str| DeviceInput {
            mac: mac.into(),
            model: "T54W".into(),
            site: None,
        };
        let d = admin.device_add(t.id, &add("001565000b01")).await.unwrap();
        let n = admin
            .number_add(
                t.id,
                &NumberInput {
                    number: "+4930555901".into(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let e = admin.site_remove(t.id, "HQ").await.unwrap_err();
        assert!(
            e.to_string().contains("1 number and 1 device"),
            "{backend}: {e}"
        );
        // Where it was seen, that it proved itself, then a refusal; a fetch clears the refusal.
        let sighting = (
            "192.0.2.7".to_owned(),
            "https",
            Some("96.86.0.100".to_owned()),
            true,
        );
        store
            .devices_seen(&[(d.id, sighting.clone())])
            .await
            .unwrap();
        store
            .devices_failed(&[(d.id, ("192.0.2.8".to_owned(), "wrong-credentials"))])
            .await
            .unwrap();
        let a = store.device_activity(d.id).await.unwrap();
        assert!(a.proven_at.is_some() && a.last_seen.is_some(), "{backend}");
        assert_eq!(a.failure.unwrap().reason, "wrong-credentials", "{backend}");
        store.devices_seen(&[(d.id, sighting)]).await.unwrap();
        let listed = store.device_activities(t.id, None).await.unwrap();
        assert!(listed[0].1.failure.is_none(), "{backend}");
        // Replaced: new MAC, no credentials, no sightings, a window open.
        let replaced = admin
            .device_replace(t.id, "001565000b01", "001565000b02")
            .await
            .unwrap();
        assert_eq!(replaced.id, d.id, "{backend}");
        assert!(replaced.access.first_contact_until.is_some(), "{backend}");
        assert_eq!(
            store.device_activity(d.id).await.unwrap(),
            Default::default(),
            "{backend}"
        );
        admin.device_add(t.id, &add("001565000b01")).await.unwrap();
        // The number goes back; the two devices go, then the site and the tenant.
        admin.number_release(t.id, &n).await.unwrap();
        admin.device_remove(t.id, "001565000b01").await.unwrap();
        admin.device_remove(t.id, "001565000b02").await.unwrap();
        let e = admin.tenant_remove("Acme").await.unwrap_err();
        assert!(e.to_string().contains("still has 1 site"), "{backend}: {e}");
        admin.site_remove(t.id, "HQ").await.unwrap();
        admin.tenant_remove("Acme").await.unwrap();
        let (kept, _) = store
            .audit(
                None,
                &autoprov::store::AuditFilter {
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<(&str, &str)> = kept
            .iter()
            .map(|e| (e.entity.as_str(), e.action.as_str()))
            .collect();
        for done in [
            ("tenant", "delete"),
            ("site", "delete"),
            ("device", "delete"),
            ("device", "replace"),
            ("number", "release"),
            ("device", "create"),
        ] {
            assert!(
                actions.contains(&done),
                "{backend}: {done:?} not in {actions:?}"
            );
        }
        store.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn directory_entries_and_the_directory_revision() {
    use autoprov::model::{DirectoryEntryId, LicenceKind, ListQuery};
    use autoprov::store::NewDirectoryEntry;
    for (backend, db) in backends("directory").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("A").await.unwrap();
        let hq = store.site_create(&site(t.id, "HQ")).await.unwrap();
        let entry = |name: &str, number: &str, site| NewDirectoryEntry {
            site_id: site,
            first_name: None,
            last_name: None,
            company: Some(name.into()),
            name: name.into(),
            number: number.into(),
        };
        let revisions = store.revisions().clone();
        let (rev, dir) = (revisions.tenant(t.id), revisions.directory(t.id));
        assert_eq!(rev, dir, "{backend}: a new site moves both");

        // A device or a licence pool: the tenant's revision moves (or only the device's), the
        // directory's does not.
        store
            .device_create(&NewDevice {
                tenant_id: t.id,
                site_id: hq.id,
                mac: "001565000001".parse().unwrap(),
                family: "yealink".into(),
                model: "T54W".into(),
                phone_id: "P00001".into(),
                admin_password: Secret::generate(),
                first_contact_until: None,
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            revisions.tenant(t.id),
            rev,
            "{backend}: a device stamps itself"
        );
        store
            .licence_pool_set(t.id, LicenceKind::App, 5)
            .await
            .unwrap();
        assert!(revisions.tenant(t.id) > rev, "{backend}");
        assert_eq!(
            revisions.directory(t.id),
            dir,
            "{backend}: no directory change"
        );

        // An entry moves both; another process sees it.
        let pizza = store
            .directory_entry_create(t.id, &entry("Pizza", "+4930555111", None))
            .await
            .unwrap();
        assert!(revisions.directory(t.id) > dir, "{backend}");
        assert_eq!(
            revisions.directory(t.id),
            revisions.tenant(t.id),
            "{backend}"
        );
        let other = Store::connect(&db.url).await.unwrap();
        assert_eq!(
            other.revisions().directory(t.id),
            revisions.directory(t.id),
            "{backend}: read at start"
        );

        // The same name and number once per scope; a site's list may have it again.
        let again = store
            .directory_entry_create(t.id, &entry("Pizza", "+4930555111", None))
            .await;
        assert!(
            matches!(again, Err(Error::Conflict { .. })),
            "{backend}: {again:?}"
        );
        store
            .directory_entry_create(t.id, &entry("Pizza", "+4930555111", Some(hq.id)))
            .await
            .unwrap();
        let edited = store
            .directory_entry_update(t.id, pizza.id, &entry("Pizza Roma", "100", None))
            .await
            .unwrap();
        assert_eq!(
            store.directory_entry_get(t.id, pizza.id).await.unwrap(),
            edited
        );
        let q = ListQuery {
            q: Some("ROMA".into()),
            ..Default::default()
        };
        let found = store.directory_entry_page(t.id, None, &q).await.unwrap();
        assert_eq!((found.total, found.items[0].id), (1, pizza.id), "{backend}");

        // An import is one transaction: a collision takes the whole batch back.
        let mut tx = store.import_begin(t.id).await.unwrap();
        let failed = tx
            .directory_insert(&[
                entry("Taxi", "+4930202020", None),
                entry("Pizza Roma", "100", None),
            ])
            .await;
        assert!(failed.is_err(), "{backend}");
        drop(tx);
        assert_eq!(
            store.directory_entries(t.id).await.unwrap().len(),
            2,
            "{backend}"
        );
        let dir = revisions.directory(t.id);
        let mut tx = store.import_begin(t.id).await.unwrap();
        let keys = tx.directory_keys().await.unwrap();
        assert!(
            keys.contains(&(None, "Pizza Roma".to_owned(), "100".to_owned())),
            "{backend}"
        );
        tx.directory_insert(&[entry("Taxi", "+4930202020", None)])
            .await
            .unwrap();
        tx.commit("directory", 1).await.unwrap();
        assert_eq!(
            store.directory_entries(t.id).await.unwrap().len(),
            3,
            "{backend}"
        );
        assert!(
            revisions.directory(t.id) > dir,
            "{backend}: an import moves it"
        );
        store.directory_entry_delete(t.id, pizza.id).await.unwrap();
        let gone = store.directory_entry_get(t.id, pizza.id).await;
        assert!(matches!(gone, Err(Error::NotFound { .. })), "{backend}");
        let missing = store
            .directory_entry_delete(t.id, DirectoryEntryId(999_999))
            .await;
        assert!(matches!(missing, Err(Error::NotFound { .. })), "{backend}");
        store.close().await;
        other.close().await;
        db.drop_db().await;
    }
}

/// The tables of issue 12 on each backend: the extension plan across kinds, number owners,
/// groups with ordered members (gone with their user), virtual users, bridges, the shared
/// directory read, and the audit trail of each.
#[tokio::test]
async fn groups_and_shared_resources_in_the_database() {
    use autoprov::model::{ForwardTo, HuntPolicy, OwnerKind};
    use autoprov::store::{AuditFilter, NewBridge, NewGroup, NewVirtualUser};
    for (backend, db) in backends("groups").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "Berlin")).await.unwrap();
        let mut numbers = Vec::new();
        for i in 0..3 {
            let n = NewNumber {
                tenant_id: t.id,
                site_id: s.id,
                e164: format!("+493012346{i}").parse().unwrap(),
                status: NumberStatus::Active,
                is_main: false,
                default_pin: "482913".into(),
            };
            numbers.push(store.number_create(&n).await.unwrap());
        }
        let ada = NewUser {
            extension: Some("3456".into()),
            ..new_user(t.id, "Ada", "Lovelace")
        };
        let ada = store.user_create(&ada, |_| Ok(())).await.unwrap();
        let bob = store
            .user_create(&new_user(t.id, "Bob", "Example"), |_| Ok(()))
            .await
            .unwrap();
        let group = NewGroup {
            tenant_id: t.id,
            kind: OwnerKind::HuntGroup,
            name: "Sales".into(),
            number_id: Some(numbers[0].id),
            extension: Some("500".into()),
            policy: HuntPolicy::Weighted,
            skip_after_rings: 4,
            forward_to: Some(ForwardTo::External {
                number: "+4940123456".parse().unwrap(),
            }),
            voicemail: true,
            voicemail_email: Some("sales@example.com".into()),
            queue: None,
            agents: vec![(bob.id, Some(30)), (ada.id, Some(70))],
            supervisors: Vec::new(),
        };
        let g = store.group_create(&group, |_| Ok(())).await.unwrap();
        let names: Vec<&str> = g.agents.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Bob Example", "Ada Lovelace"], "{backend}");
        assert_eq!(g.agents[1].weight, Some(70), "{backend}");
        assert_eq!(g.forward_to, group.forward_to, "{backend}");
        // The rule sees what the write claims, read inside it.
        let e = store
            .group_create(
                &NewGroup {
                    name: "Two".into(),
                    ..group.clone()
                },
                |claim| {
                    let owner = claim.extension.as_ref().and_then(|e| e.owner.clone());
                    assert_eq!(owner.map(|o| o.name), Some("Sales".into()));
                    assert!(claim.number.as_ref().unwrap().owner.is_some());
                    assert_eq!(claim.members.len(), 2);
                    Err(Error::conflict("refused"))
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict { .. }), "{backend}: {e}");
        let v = NewVirtualUser {
            tenant_id: t.id,
            first_name: FirstName::parse("Key").unwrap(),
            last_name: LastName::parse("Supplier").unwrap(),
            external: "+4940123456".parse().unwrap(),
            extension: "77".into(),
        };
        let v = store.virtual_user_create(&v, |_| Ok(())).await.unwrap();
        let b = NewBridge {
            tenant_id: t.id,
            name: "Sales Bridge".into(),
            number_id: numbers[1].id,
            extension: None,
        };
        store.bridge_create(&b, |_| Ok(())).await.unwrap();
        // One plan across kinds, by extension; number owners; available numbers.
        let plan: Vec<(String, OwnerKind)> =
            (store.extension_plan(t.id).await.unwrap().into_iter())
                .map(|(e, o)| (e, o.kind))
                .collect();
        assert_eq!(
            plan,
            [
                ("3456".to_owned(), OwnerKind::User),
                ("500".to_owned(), OwnerKind::HuntGroup),
                ("77".to_owned(), OwnerKind::VirtualUser)
            ],
            "{backend}"
        );
        let owner = store.extension_owner(t.id, "77").await.unwrap().unwrap();
        assert_eq!((owner.id, owner.name.as_str()), (v.id, "Key Supplier"));
        let owners = store.number_owners(t.id).await.unwrap();
        assert_eq!(owners.len(), 2, "{backend}");
        let free = store.available_numbers(t.id).await.unwrap();
        assert_eq!(
            free.iter().map(|n| n.id).collect::<Vec<_>>(),
            [numbers[2].id]
        );
        let shared = store.shared_directory(t.id).await.unwrap();
        let listed: Vec<(&str, Option<&str>)> = shared
            .iter()
            .map(|e| (e.name.as_str(), e.extension.as_deref()))
            .collect();
        assert_eq!(
            listed,
            [
                ("Key Supplier", Some("77")),
                ("Sales", Some("500")),
                ("Sales Bridge", None)
            ],
            "{backend}"
        );
        // A member goes with their user; the group's memberships are read back in order.
        assert_eq!(store.memberships(t.id, ada.id).await.unwrap().len(), 1);
        store
            .user_set_state(t.id, ada.id, UserState::Active, |_| Ok(()))
            .await
            .unwrap();
        store
            .user_delete(t.id, ada.id, "111111", |_| Ok(()))
            .await
            .unwrap();
        let g = store
            .group_by_key(t.id, OwnerKind::HuntGroup, "Sales")
            .await
            .unwrap();
        assert_eq!(g.agents.len(), 1, "{backend}");
        assert!(store.extension_owner(t.id, "3456").await.unwrap().is_none());
        store
            .group_delete(t.id, OwnerKind::HuntGroup, g.id)
            .await
            .unwrap();
        assert_eq!(store.available_numbers(t.id).await.unwrap().len(), 2);
        let filter = AuditFilter {
            entity: Some("hunt-group".into()),
            limit: 10,
            ..Default::default()
        };
        let (trail, _) = store.audit(Some(t.id), &filter).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["delete", "create"], "{backend}");
        assert_eq!(trail[1].after.as_ref().unwrap()["name"], "Sales");
        db.drop_db().await;
    }
}

/// A users import past the point where PostgreSQL's statistics are refreshed inside its
/// transaction (1,000 rows) still finds the store's owners and its own earlier rows, and
/// dropped, leaves nothing behind.
#[tokio::test]
async fn a_big_users_import_sees_every_owner_and_rolls_back_whole() {
    for (backend, db) in backends("bigimport").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "HQ")).await.unwrap();
        let e164 = |i: usize| format!("+49301{i:07}");
        let mut tx = store.import_begin(t.id).await.unwrap();
        let numbers: Vec<NewNumber> = (0..1500)
            .map(|i| NewNumber {
                tenant_id: t.id,
                site_id: s.id,
                e164: e164(i).parse().unwrap(),
                status: NumberStatus::Active,
                is_main: false,
                default_pin: "482913".into(),
            })
            .collect();
        tx.numbers_insert(&numbers).await.unwrap();
        tx.commit("numbers", 1500).await.unwrap();
        let mut tx = store.import_begin(t.id).await.unwrap();
        let all: Vec<String> = (0..1500).map(e164).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let uses = tx.number_uses(&all[..2]).await.unwrap();
        let ids: Vec<_> = (0..2).map(|i| uses[all[i]].number.id).collect();
        let users: Vec<NewUser> = (0..1200)
            .map(|i| NewUser {
                number_id: (i < 2).then(|| ids[i]),
                extension: Some(format!("{}", 1000 + i)),
                ..new_user(t.id, "User", &format!("N{i}"))
            })
            .collect();
        for batch in users.chunks(250) {
            tx.users_insert(batch).await.unwrap();
        }
        let taken = tx
            .extensions_taken(&["1000", "2199", "9999"])
            .await
            .unwrap();
        assert_eq!(taken, vec!["1000", "2199"], "{backend}");
        let uses = tx.number_uses(&all[..3]).await.unwrap();
        let holder = |i: usize| uses[all[i]].holder.as_ref().map(|u| u.last_name.as_str());
        assert_eq!(
            (holder(0), holder(1), holder(2)),
            (Some("N0"), Some("N1"), None)
        );
        assert!(uses.values().all(|u| u.owner.is_none()), "{backend}");
        drop(tx);
        assert!(store.user_list(t.id).await.unwrap().is_empty(), "{backend}");
        store.close().await;
        db.drop_db().await;
    }
}

/// A device added while its site is removed (issue 13): the add read the site before the
/// removal committed, so its insert met a missing site — a foreign-key failure, a 500. The
/// write now looks for the site inside its transaction: whichever commits first wins, and the
/// other gets a conflict that says why, on both backends.
#[tokio::test]
async fn issue_13_device_add_racing_site_remove_is_a_conflict() {
    use autoprov::admin::{DeviceInput, SiteInput};
    for (backend, db) in backends("siterace").await {
        let store = Store::connect(&db.url).await.unwrap();
        let admin = admin_of(&store);
        let t = admin.tenant_add("Acme").await.unwrap();
        // The race's second half, made certain: the site read, then removed, then the insert.
        let gone = store.site_create(&site(t.id, "Gone")).await.unwrap();
        admin.site_remove(t.id, "Gone").await.unwrap();
        let late = store
            .device_create(&NewDevice {
                tenant_id: t.id,
                site_id: gone.id,
                mac: "001565000099".parse().unwrap(),
                family: "yealink".into(),
                model: "T54W".into(),
                phone_id: "AC3DEG".into(),
                admin_password: Secret::generate(),
                first_contact_until: Some(2_000_000_000),
            })
            .await;
        assert!(
            matches!(late, Err(Error::NotFound { what: "site", .. })),
            "{backend}: {late:?}"
        );
        // Both at once through the rules, several rounds: one wins, the other is a conflict
        // naming the site (whichever order the writes take) — or, when the removal is over
        // before the add reads the site, the add's "site not found" —, never a store error.
        for round in 0..6 {
            let name = format!("Annex{round}");
            let annex = SiteInput {
                name: name.clone(),
                ..Default::default()
            };
            admin.site_add(t.id, &annex).await.unwrap();
            let input = DeviceInput {
                mac: format!("0015650001{round:02}"),
                model: "T54W".into(),
                site: Some(name.clone()),
            };
            let (added, removed) = tokio::join!(
                admin.device_add(t.id, &input),
                admin.site_remove(t.id, &name)
            );
            let lost = match (added, removed) {
                (Ok(_), Err(e)) => e,
                (Err(e), Ok(())) => e,
                (a, b) => panic!("{backend}: expected one to win, got {a:?} and {b:?}"),
            };
            let named = lost.to_string().contains(&name);
            assert!(
                named
                    && matches!(
                        lost,
                        Error::Conflict { .. } | Error::NotFound { what: "site", .. }
                    ),
                "{backend}: {lost}"
            );
        }
        store.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn issue_14_handsets_filter_by_firmware_and_lines_name_their_user() {
    use autoprov::model::ListQuery;
    for (backend, db) in backends("firmware").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "Berlin")).await.unwrap();
        let mut devices = Vec::new();
        for (i, firmware) in [Some("96.86.0.100"), Some("96.86.0.200"), None]
            .into_iter()
            .enumerate()
        {
            let d = store
                .device_create(&NewDevice {
                    tenant_id: t.id,
                    site_id: s.id,
                    mac: format!("001565a1b2c{i}").parse().unwrap(),
                    family: "yealink".into(),
                    model: "T54W".into(),
                    phone_id: format!("AC3DE{i}"),
                    admin_password: Secret::generate(),
                    first_contact_until: None,
                })
                .await
                .unwrap()
                .unwrap();
            let seen = (
                "127.0.0.1".to_owned(),
                "http",
                firmware.map(str::to_owned),
                false,
            );
            store.devices_seen(&[(d.id, seen)]).await.unwrap();
            devices.push(d);
        }
        assert_eq!(
            store.device_firmwares(t.id).await.unwrap(),
            ["96.86.0.100", "96.86.0.200"],
            "{backend}"
        );
        let all = ListQuery::default();
        let page = |q: Option<&str>| ListQuery {
            q: q.map(str::to_owned),
            ..all.clone()
        };
        let macs = |listed: autoprov::model::Listed<_>| -> (Vec<String>, u64) {
            let items: &Vec<(autoprov::model::Device, _)> = &listed.items;
            (
                items.iter().map(|(d, _)| d.mac.to_string()).collect(),
                listed.total,
            )
        };
        let got = store
            .device_activity_page(t.id, &all, Some("96.86.0.200"))
            .await
            .unwrap();
        assert_eq!(macs(got), (vec!["001565a1b2c1".to_owned()], 1), "{backend}");
        let got = store.device_activity_page(t.id, &all, None).await.unwrap();
        assert_eq!(macs(got).1, 3, "{backend}");
        // With a search: both hold.
        let got = store
            .device_activity_page(t.id, &page(Some("b2c0")), Some("96.86.0.200"))
            .await
            .unwrap();
        assert_eq!(macs(got), (vec![], 0), "{backend}");
        let got = store
            .device_activity_page(t.id, &page(Some("AC3DE")), Some("96.86.0.100"))
            .await
            .unwrap();
        assert_eq!(macs(got), (vec!["001565a1b2c0".to_owned()], 1), "{backend}");
        // A line names the user whose number it is.
        let n = store
            .number_create(&NewNumber {
                tenant_id: t.id,
                site_id: s.id,
                e164: "+4930777".parse().unwrap(),
                status: NumberStatus::Active,
                is_main: false,
                default_pin: "482913".into(),
            })
            .await
            .unwrap();
        let ada = store
            .user_create(
                &NewUser {
                    number_id: Some(n.id),
                    ..new_user(t.id, "Ada", "Lovelace")
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        store
            .device_login(
                &devices[0],
                n.id,
                "4930777",
                &Secret::generate(),
                true,
                |_| Ok(()),
            )
            .await
            .unwrap();
        let lines = store.line_logins(t.id).await.unwrap();
        assert_eq!(
            lines[0].user,
            Some((ada.id, "Ada Lovelace".to_owned())),
            "{backend}"
        );
        db.drop_db().await;
    }
}

/// Issue 15: the records of many devices read in one batch (what a tenant-wide change's cold
/// renders share) are those read one by one, on both backends: each device's own lines in
/// account order, the first line user's monitor list, speed dials, pickup group and park
/// groups with their slots; a device of another tenant in the same batch keeps its own tenant;
/// a device asked for twice is there once, and a deleted one is not there.
#[tokio::test]
async fn issue_15_device_records_in_one_batch_are_those_read_one_by_one() {
    use autoprov::model::DeviceId;
    use autoprov::store::GroupWrite;

    for (backend, db) in backends("records").await {
        let store = Store::connect(&db.url).await.unwrap();
        let t = store.tenant_create("Acme").await.unwrap();
        let s = store.site_create(&site(t.id, "Berlin")).await.unwrap();
        let other = store.tenant_create("Other").await.unwrap();
        let other_site = store.site_create(&site(other.id, "Rome")).await.unwrap();
        let mut numbers = Vec::new();
        for (tenant, site_id, e164) in [
            (t.id, s.id, "+4930100"),
            (t.id, s.id, "+4930101"),
            (t.id, s.id, "+4930102"),
            (t.id, s.id, "+4930103"),
            (other.id, other_site.id, "+3906100"),
        ] {
            let n = store
                .number_create(&NewNumber {
                    tenant_id: tenant,
                    site_id,
                    e164: e164.parse().unwrap(),
                    status: NumberStatus::Active,
                    is_main: false,
                    default_pin: "482913".into(),
                })
                .await
                .unwrap();
            numbers.push(n);
        }
        let mut users = Vec::new();
        for (i, (tenant, first)) in [
            (t.id, "Ann"),
            (t.id, "Ben"),
            (t.id, "Cy"),
            (other.id, "Dan"),
        ]
        .into_iter()
        .enumerate()
        {
            let n = &numbers[if i == 3 { 4 } else { i }];
            let u = NewUser {
                number_id: Some(n.id),
                extension: Some(format!("10{i}")),
                ..new_user(tenant, first, "Caller")
            };
            users.push(store.user_create(&u, |_| Ok(())).await.unwrap());
        }
        let (ann, ben, cy) = (users[0].id, users[1].id, users[2].id);
        store.blf_grant(t.id, ben, None).await.unwrap();
        store.blf_grant(t.id, cy, None).await.unwrap();
        store.monitor_add(t.id, ann, cy).await.unwrap();
        store.monitor_add(t.id, ann, ben).await.unwrap();
        store
            .speed_dials_set(t.id, ann, &[("Desk".into(), "+4930999".into())])
            .await
            .unwrap();
        store
            .pickup_group_write(
                t.id,
                None,
                &GroupWrite {
                    name: "Front",
                    members: &[ann, ben],
                    slots: &[],
                },
                |_| Ok(()),
            )
            .await
            .unwrap();
        for (name, slots) in [("Lot", vec!["800", "801"]), ("Annex", vec!["900"])] {
            let slots: Vec<String> = slots.into_iter().map(str::to_owned).collect();
            store
                .park_group_write(
                    t.id,
                    None,
                    &GroupWrite {
                        name,
                        members: &[ann, cy],
                        slots: &slots,
                    },
                    |_| Ok(()),
                )
                .await
                .unwrap();
        }
        let mut devices = Vec::new();
        for (i, (tenant, site_id)) in [
            (t.id, s.id),
            (t.id, s.id),
            (t.id, s.id),
            (other.id, other_site.id),
        ]
        .into_iter()
        .enumerate()
        {
            let d = store
                .device_create(&NewDevice {
                    tenant_id: tenant,
                    site_id,
                    mac: format!("0015650000{i:02}").parse().unwrap(),
                    family: "yealink".into(),
                    model: "T54W".into(),
                    phone_id: format!("PH{i:04}"),
                    admin_password: Secret::generate(),
                    first_contact_until: None,
                })
                .await
                .unwrap()
                .unwrap();
            devices.push(d);
        }
        // Ann's phone has her number and then an unassigned one; Ben's has his; the third has
        // no line; the other tenant's has Dan's.
        for (device, number) in [(0, 0), (0, 3), (1, 1), (3, 4)] {
            let sip_user = numbers[number]
                .e164
                .as_str()
                .trim_start_matches('+')
                .to_owned();
            store
                .device_login(
                    &devices[device],
                    numbers[number].id,
                    &sip_user,
                    &Secret::generate(),
                    false,
                    |_| Ok(()),
                )
                .await
                .unwrap();
        }
        let deleted = DeviceId(999_999);
        let mut ids: Vec<DeviceId> = devices.iter().map(|d| d.id).collect();
        ids.extend([devices[0].id, deleted]);
        let batch = store.device_records(&ids).await.unwrap();
        assert_eq!(
            batch.len(),
            4,
            "{backend}: each device once, the deleted one not"
        );
        for d in &devices {
            let one = store.device_record(d.id).await.unwrap();
            assert_eq!(
                format!("{:?}", batch[&d.id]),
                format!("{one:?}"),
                "{backend}: device {}",
                d.mac
            );
        }
        let ann_phone = &batch[&devices[0].id];
        let lines: Vec<(u16, &str)> = ann_phone
            .lines
            .iter()
            .map(|l| (l.position, l.number.as_str()))
            .collect();
        assert_eq!(lines, [(1, "+4930100"), (2, "+4930103")], "{backend}");
        let monitors: Vec<&str> = ann_phone
            .monitors
            .iter()
            .map(|u| u.first_name.as_str())
            .collect();
        assert_eq!(monitors, ["Cy", "Ben"], "{backend}: in key order");
        assert_eq!(
            ann_phone.speed_dials,
            [("Desk".to_owned(), "+4930999".to_owned())]
        );
        assert_eq!(
            ann_phone.pickup_group.as_ref().map(|g| g.name.as_str()),
            Some("Front"),
            "{backend}"
        );
        let parks: Vec<(&str, Vec<&str>)> = ann_phone
            .park_groups
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.slots.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            parks,
            [("Annex", vec!["900"]), ("Lot", vec!["800", "801"])],
            "{backend}: by name, slots in order"
        );
        let ben_phone = &batch[&devices[1].id];
        assert!(ben_phone.monitors.is_empty() && ben_phone.park_groups.is_empty());
        assert_eq!(
            ben_phone.pickup_group.as_ref().map(|g| g.name.as_str()),
            Some("Front")
        );
        assert!(batch[&devices[2].id].lines.is_empty(), "{backend}");
        let foreign = &batch[&devices[3].id];
        assert_eq!(
            (foreign.tenant.name.as_str(), foreign.site.name.as_str()),
            ("Other", "Rome"),
            "{backend}"
        );
        assert!(matches!(
            store.device_record(deleted).await,
            Err(Error::NotFound { .. })
        ));
        store.close().await;
        db.drop_db().await;
    }
}
