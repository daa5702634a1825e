//! Seeding shared by the benchmark examples: one tenant "Bench" with its site "HQ", and N Yealink
//! T54W handsets, each with its own number logged in and a user holding that number and an
//! extension — three CSV files through the bulk import (`Admin::import`, what `autoprov import`
//! runs), so 100,000 phones seed in seconds rather than the hour of per-item admin calls. The
//! handsets' first-contact windows open when they are imported (the site's hours).

use autoprov::admin::import::{ImportOptions, KindName};
use autoprov::admin::SiteInput;
use autoprov::config::{self, Sources};
use autoprov::model::{Mac, TenantId};
use autoprov::App;

/// The app on the data folder `data`, with the settings of the environment (the scripts set
/// `AUTOPROV_*` for the examples and the server alike).
pub(crate) async fn open(data: String) -> anyhow::Result<App> {
    let (settings, _) = config::load(&Sources {
        config_file: None,
        read_env: true,
        flags: vec![("data", data)],
    })?;
    Ok(App::open(settings).await?)
}

/// The MAC of the `i`th seeded phone (up to 2^20 of them).
pub(crate) fn mac(i: u32) -> anyhow::Result<Mac> {
    Ok(format!("0015650{i:05x}").parse()?)
}

/// The number of the `i`th seeded phone's line.
pub(crate) fn number(i: u32) -> String {
    format!("+4930{i:08}")
}

/// Phones per import file: bounds the CSV text held in memory and each import's transaction.
const CHUNK: u32 = 100_000;

/// Adds the tenant and its site (`allowed` networks trusted without credentials), then `n`
/// phones by the bulk import, calling `each` with every phone's MAC. `users`: whether each
/// number also gets its user (the 1M-phone bench leaves them out to seed faster).
pub(crate) async fn seed(
    app: &App,
    n: u32,
    allowed: &[&str],
    mut each: impl FnMut(Mac),
) -> anyhow::Result<TenantId> {
    seed_with(app, n, allowed, true, &mut each).await
}

pub(crate) async fn seed_with(
    app: &App,
    n: u32,
    allowed: &[&str],
    users: bool,
    each: &mut dyn FnMut(Mac),
) -> anyhow::Result<TenantId> {
    let admin = &app.admin;
    let tenant = admin.tenant_add("Bench").await?;
    admin
        .site_add(
            tenant.id,
            &SiteInput {
                name: "HQ".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                allowed_networks: allowed.iter().map(|n| (*n).to_owned()).collect(),
                ..Default::default()
            },
        )
        .await?;
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        let mut kinds = vec![
            (
                KindName::Numbers,
                csv("number,site,status", start..end, |i| {
                    format!("{},HQ,active", number(i))
                }),
            ),
            (
                KindName::Devices,
                csv("mac,model,site,numbers", start..end, |i| {
                    format!(
                        "{},T54W,HQ,{}",
                        mac(i).map(|m| m.to_string()).unwrap_or_default(),
                        number(i)
                    )
                }),
            ),
        ];
        if users {
            kinds.push((
                KindName::Users,
                csv(
                    "first_name,last_name,email,number,extension",
                    start..end,
                    |i| {
                        format!(
                            "User{i},Bench,u{i}@example.com,{},{}",
                            number(i),
                            10_000_000 + i
                        )
                    },
                ),
            ));
        }
        for (kind, file) in &kinds {
            admin
                .import(
                    *kind,
                    tenant.id,
                    file.as_bytes(),
                    ImportOptions::default(),
                    &|_| {},
                )
                .await?;
        }
        for i in start..end {
            each(mac(i)?);
        }
        start = end;
    }
    Ok(tenant.id)
}

fn csv(header: &str, rows: std::ops::Range<u32>, row: impl Fn(u32) -> String) -> String {
    let mut text = format!("{header}\n");
    for i in rows {
        text.push_str(&row(i));
        text.push('\n');
    }
    text
}
