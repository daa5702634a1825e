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
                    std::io::Cursor::new(file.clone().into_bytes()),
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

/// What [`big_tenant`] adds, for the figures' captions.
pub(crate) const BIG: &str = "5,000 users, 2,000 directory entries, 200 groups (80 hunt groups, \
     40 call centres, 40 pickup and 40 park groups), 50 virtual users, 10 bridges";

/// Makes tenant `tenant` (with site `site`) the big tenant: 5,000 active users with a
/// number and an extension (straight into the database, as a bulk import would write them),
/// 2,000 directory entries (the CSV import), then 200 groups through the admin code — 80 hunt
/// groups and 40 call centres of ten agents each (call centres with two supervisors), 40
/// pickup and 40 park groups (five slots each) of ten members — plus 50 virtual users and 10
/// bridges. `members` are users (keys the admin code takes: id, number or name) who must be in
/// the pickup and park groups too (the measured phones' users, so their files show the keys):
/// the i-th joins pickup group i % 40 and, for the first 400, park group i % 40. `index` keeps
/// numbers apart between tenants of one database. Returns the time the groups took.
pub(crate) async fn big_tenant(
    app: &App,
    data: &str,
    tenant: autoprov::model::TenantId,
    site: i64,
    index: u32,
    members: &[String],
) -> anyhow::Result<std::time::Duration> {
    use autoprov::admin::{
        AgentInput, BridgeInput, GroupInput, NumberInput, ParkGroupInput, PickupGroupInput,
        QueueInput, SlotsInput, VirtualUserInput,
    };
    use autoprov::model::OwnerKind;
    let admin = &app.admin;
    bulk_users(data, tenant.0, site, index, 5_000).await?;
    let csv: String = (0..2_000)
        .map(|i| format!("Company {i:05}, +4940{index}{i:07}\n"))
        .collect();
    let options = autoprov::admin::import::ImportOptions::default();
    let kind = autoprov::admin::import::KindName::Directory;
    admin
        .import(
            kind,
            tenant,
            std::io::Cursor::new(csv.into_bytes()),
            options,
            &|_| {},
        )
        .await?;
    let start = std::time::Instant::now();
    // The bulk users by number: 0..1200 agents (ten per group), 1200..1280 supervisors,
    // 2000..2400 pickup members, 3000..3400 park members.
    let user = |i: u32| format!("+49302{index}{i:07}");
    for g in 0..120u32 {
        let kind = if g < 80 {
            OwnerKind::HuntGroup
        } else {
            OwnerKind::CallCentre
        };
        let centre = kind == OwnerKind::CallCentre;
        let input = GroupInput {
            name: format!("{} {g:03}", if centre { "Centre" } else { "Hunt" }),
            extension: Some(format!("{}", 7_000 + g)),
            policy: Some(if g % 2 == 0 { "circular" } else { "regular" }.into()),
            agents: (0..10)
                .map(|a| AgentInput {
                    user: user(g * 10 + a),
                    weight: None,
                })
                .collect(),
            // Nobody answers: on to the group before (that one exists already).
            forward_to: g.checked_sub(1).map(|before| format!("{}", 7_000 + before)),
            queue: centre.then(QueueInput::default),
            supervisors: if centre {
                vec![user(1_200 + (g - 80) * 2), user(1_201 + (g - 80) * 2)]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        admin.group_add(tenant, kind, &input).await?;
    }
    for g in 0..40u32 {
        let mine = |offset: usize| {
            members
                .iter()
                .enumerate()
                .filter(move |(i, _)| i % 40 == g as usize && *i < offset)
                .map(|(_, m)| m.clone())
        };
        let pickup = PickupGroupInput {
            name: format!("Pickup {g:02}"),
            members: (0..10)
                .map(|m| user(2_000 + g * 10 + m))
                .chain(mine(usize::MAX))
                .collect(),
        };
        admin.pickup_group_add(tenant, &pickup).await?;
        let park = ParkGroupInput {
            name: format!("Park {g:02}"),
            members: (0..10)
                .map(|m| user(3_000 + g * 10 + m))
                .chain(mine(400))
                .collect(),
            slots: SlotsInput::Range {
                from: format!("{}", 8_000 + g * 5),
                to: format!("{}", 8_004 + g * 5),
            },
        };
        admin.park_group_add(tenant, &park).await?;
    }
    for v in 0..50u32 {
        let input = VirtualUserInput {
            first_name: format!("Virtual{v}"),
            last_name: "Supplier".into(),
            number: format!("+4940{index}99{v:05}"),
            extension: format!("{}", 60_000 + v),
        };
        admin.virtual_user_add(tenant, &input).await?;
    }
    for b in 0..10u32 {
        let number = format!("+49303{index}99{b:05}");
        admin
            .number_add(
                tenant,
                &NumberInput {
                    number: number.clone(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await?;
        let input = BridgeInput {
            name: format!("Bridge {b}"),
            number,
            extension: Some(format!("{}", 7_500 + b)),
        };
        admin.bridge_add(tenant, &input).await?;
    }
    Ok(start.elapsed())
}

/// `n` active users with a number and an extension, in one transaction straight into the
/// database (numbers `+49302<index><i:07>`, extensions from 100000). Written before the
/// directory is first loaded (the entries' import moves the directory revision after them
/// anyway).
pub(crate) async fn bulk_users(
    data: &str,
    tenant: i64,
    site: i64,
    index: u32,
    n: u32,
) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{data}/autoprov.db")).await?;
    let mut tx = pool.begin().await?;
    for i in 0..n {
        let number_id: i64 = sqlx::query_scalar(
            "INSERT INTO numbers (tenant_id, site_id, e164, status, created_at) \
             VALUES ($1, $2, $3, 'active', 0) RETURNING id",
        )
        .bind(tenant)
        .bind(site)
        .bind(format!("+49302{index}{i:07}"))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO users (tenant_id, first_name, last_name, state, number_id, extension, \
             created_at) VALUES ($1, $2, 'Bench', 'active', $3, $4, 0)",
        )
        .bind(tenant)
        .bind(format!("User{i}"))
        .bind(number_id)
        .bind(format!("{}", 100_000 + i))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(())
}
