//! Seeds a data dir for `benches/http.sh`: one tenant and site, and N Yealink T54W handsets, each
//! with its own active user and number logged in, written through the same admin code as the
//! CLI, on a site whose LAN (loopback here) is an allowed network. Also writes each phone's
//! `<mac>.cfg` as autoprov renders it into a folder, so nginx can serve the very same bytes, and
//! a Lua table of the MACs for wrk; and the rest of each phone's boot sequence (`<mac>.boot`,
//! and the shared `y000000000000.boot` and `y000000000096.cfg`) for `benches/boot.lua`.
//!
//! With `big` after N, the tenant is issue 12's big one too (`seed::big_tenant`: 5,000 more
//! users, 2,000 directory entries, 200 groups — the phones' users in its pickup and park
//! groups, so their files carry those keys —, virtual users and bridges), so the phones' files
//! are rendered in a big tenant.
//!
//! `cargo run --release --example bench_seed -- DATA_DIR STATIC_DIR N [big]`

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
mod seed;

use std::path::PathBuf;

use anyhow::Context as _;
use autoprov::provision::{FileRequest, Outcome, Protocol};

/// The files of a T54W's boot sequence that are the same for every phone.
const BOOT_SHARED: &[&str] = &["y000000000000.boot", "y000000000096.cfg"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(out), Some(n)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: bench_seed DATA_DIR STATIC_DIR N");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let big = match args.next().as_deref() {
        None => false,
        Some("big") => true,
        Some(other) => anyhow::bail!("{other:?}: the fourth argument can only be `big`"),
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let app = seed::open(data).await?;
    let mut lua = String::from("macs = {\n");
    // Phones on a LAN that the site trusts: no credentials needed to fetch.
    seed::seed(&app, n, &["127.0.0.0/8"], |mac| {
        lua.push_str(&format!("  {{\"{mac}\", \"{}\"}},\n", mac.colon()));
    })
    .await?;
    lua.push_str("}\n");
    if big {
        let tenant = app.admin.tenant("Bench").await?;
        let site = app.admin.site(tenant.id, None).await?;
        // The phones' users, by number (as `seed::seed` gave them out).
        let members: Vec<String> = (0..n).map(seed::number).collect();
        let data = app.settings.data_dir.display().to_string();
        let took = seed::big_tenant(&app, &data, tenant.id, site.id.0, 9, &members).await?;
        println!("big tenant: {} (groups written in {took:.1?})", seed::BIG);
    }
    for i in 0..n {
        let mac = seed::mac(i)?;
        // The phone's first contact (its window opened when it was added), as the server would
        // see it, so the stored file carries the credentials it got then.
        let name = format!("{mac}.cfg");
        let request = FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()));
        app.provisioner.serve(&request).await;
        let file = app.provisioner.preview(mac, None, true).await?;
        std::fs::write(out.join(format!("{mac}.cfg")), &file.body)?;
        // The rest of its boot sequence (`benches/boot.lua`): its own `<mac>.boot`, and once
        // the files every T54W shares, as the server serves them.
        let ua = format!("Yealink SIP-T54W 96.86.0.100 {}", mac.colon());
        let mut names = vec![format!("{mac}.boot")];
        if i == 0 {
            names.extend(BOOT_SHARED.iter().map(|n| (*n).to_owned()));
        }
        for name in names {
            let request = FileRequest {
                user_agent: Some(&ua),
                ..FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()))
            };
            match app.provisioner.serve(&request).await.outcome {
                Outcome::Found(file) => std::fs::write(out.join(&name), &file.body)?,
                other => anyhow::bail!("{name} is not served: {other:?}"),
            }
        }
    }
    std::fs::write(out.join("macs.lua"), lua)?;
    app.store.close().await;
    println!("seeded {n} devices");
    Ok(())
}
