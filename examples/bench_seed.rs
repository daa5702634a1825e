//! Seeds a data dir for `benches/http.sh`: one tenant and site, and N Yealink T54W handsets, each
//! with its own active user and number logged in, written through the same admin code as the
//! CLI, on a site whose LAN (loopback here) is an allowed network. Also writes each phone's
//! `<mac>.cfg` as autoprov renders it into a folder, so nginx can serve the very same bytes, and
//! a Lua table of the MACs for wrk.
//!
//! `cargo run --release --example bench_seed -- DATA_DIR STATIC_DIR N`

#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use anyhow::Context as _;
use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput};
use autoprov::config::{self, Sources};
use autoprov::model::Mac;
use autoprov::provision::{FileRequest, Protocol};
use autoprov::App;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(out), Some(n)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: bench_seed DATA_DIR STATIC_DIR N");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let (settings, _) = config::load(&Sources {
        config_file: None,
        // The script sets AUTOPROV_PROVISIONING__PUBLIC_URL for this and for the server alike.
        read_env: true,
        flags: vec![("data", data)],
    })?;
    let app = App::open(settings).await?;
    let admin = &app.admin;
    let tenant = admin.tenant_add("Bench").await?;
    admin
        .site_add(
            tenant.id,
            &SiteInput {
                name: "HQ".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                // Phones on a LAN that the site trusts: no credentials needed to fetch.
                allowed_networks: vec!["127.0.0.0/8".into()],
                ..Default::default()
            },
        )
        .await?;
    let mut lua = String::from("macs = {\n");
    for i in 0..n {
        let number = format!("+4930100{i:05}");
        let mac: Mac = format!("0015650{i:05x}").parse()?;
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
        lua.push_str(&format!("  {{\"{mac}\", \"{}\"}},\n", mac.colon()));
    }
    lua.push_str("}\n");
    for i in 0..n {
        let mac: Mac = format!("0015650{i:05x}").parse()?;
        // The phone's first contact (its window opened when it was added), as the server would
        // see it, so the stored file carries the credentials it got then.
        let name = format!("{mac}.cfg");
        let request = FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()));
        app.provisioner.serve(&request).await;
        let file = app.provisioner.preview(mac, None, true).await?;
        std::fs::write(out.join(format!("{mac}.cfg")), &file.body)?;
    }
    std::fs::write(out.join("macs.lua"), lua)?;
    app.store.close().await;
    println!("seeded {n} devices");
    Ok(())
}
