//! Seeding shared by the benchmark examples: one tenant "Bench" with its site, and N Yealink
//! T54W handsets, each with its own active user and number logged in, written through the same
//! admin code as the CLI. The handsets' first-contact windows open when they are added.

use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput};
use autoprov::config::{self, Sources};
use autoprov::model::Mac;
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

/// The MAC of the `i`th seeded phone.
pub(crate) fn mac(i: u32) -> anyhow::Result<Mac> {
    Ok(format!("0015650{i:05x}").parse()?)
}

/// Adds the tenant and its site (`allowed` networks trusted without credentials), then `n`
/// phones, calling `each` with every phone's MAC.
pub(crate) async fn seed(
    app: &App,
    n: u32,
    allowed: &[&str],
    mut each: impl FnMut(Mac),
) -> anyhow::Result<()> {
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
    for i in 0..n {
        let number = format!("+4930100{i:05}");
        let mac = mac(i)?;
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: number.clone(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await?;
        let user = admin
            .user_add(
                tenant.id,
                &UserInput {
                    first_name: format!("User{i}"),
                    last_name: "Bench".into(),
                    number: Some(number.clone()),
                    extension: Some(format!("{}", 10_000 + i)),
                    ..Default::default()
                },
            )
            .await?;
        admin.user_activate(tenant.id, &user).await?;
        admin
            .device_add(
                tenant.id,
                &DeviceInput {
                    mac: mac.to_string(),
                    model: "T54W".into(),
                    site: None,
                },
            )
            .await?;
        admin
            .device_login(tenant.id, &mac.to_string(), &number)
            .await?;
        each(mac);
    }
    Ok(())
}
