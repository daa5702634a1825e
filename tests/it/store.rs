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
struct TestDb {
    url: String,
    /// For PostgreSQL: (admin URL, database name) to drop afterwards.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn drop_db(self) {
        if let Some((admin_url, name)) = self.pg {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

async fn backends(test: &str) -> Vec<(&'static str, TestDb)> {
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
        Err(_) => {
            eprintln!("store suite {test}: PostgreSQL skipped (AUTOPROV_TEST_PG_URL is not set)")
        }
    }
    list
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
            })
            .await
            .unwrap();
        let u = store
            .user_create(&NewUser {
                tenant_id: t.id,
                first_name: FirstName::parse("Ada").unwrap(),
                last_name: LastName::parse("Lovelace").unwrap(),
                email: None,
                number_id: Some(n.id),
                extension: Some("3456".into()),
            })
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
            )
            .await
            .unwrap();
        assert_eq!(u.email.as_deref(), Some("ada@example.com"));
        let u = store
            .user_set_state(t.id, u.id, UserState::Active)
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
                admin_password: Secret::generate(),
                first_contact_until: Some(2_000_000_000),
            })
            .await
            .unwrap();
        let password = Secret::generate();
        let position = store
            .device_login(&d, n.id, "4930123456", &password)
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

        // Uniqueness is enforced by the database too, as a conflict.
        let dup = store
            .device_create(&NewDevice {
                tenant_id: t.id,
                site_id: s.id,
                mac,
                family: "yealink".into(),
                model: "T54W".into(),
                admin_password: Secret::generate(),
                first_contact_until: Some(2_000_000_000),
            })
            .await
            .unwrap_err();
        assert!(matches!(dup, Error::Conflict(_)), "{backend}: {dup}");
        let dup = store
            .device_login(&d, n.id, "x", &password)
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
