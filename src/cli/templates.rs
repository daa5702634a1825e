//! `autoprov check-templates` and `autoprov render`: the templates, without a phone.

use autoprov::config::Settings;
use autoprov::App;
use clap::Args;

use super::{write_stdout, Output};

#[derive(Args, Debug)]
pub(super) struct RenderArgs {
    /// The phone's MAC
    mac: String,
    /// A file name; the device's main file when left out
    file: Option<String>,
    /// Show passwords instead of ********
    #[arg(long)]
    show_secrets: bool,
}

/// Checks the shipped templates and, separately, the operator's overrides; fails if either is
/// broken (the server would fall back to the shipped files for a broken override).
pub(super) fn check(settings: &Settings, out: &Output) -> anyhow::Result<()> {
    use autoprov::provision::check;
    use autoprov::render::Catalog;
    let provision = App::provision_settings(settings);
    let mut problems = Vec::new();
    let mut families = 0;
    for overrides in std::iter::once(None).chain(settings.templates_override.as_deref().map(Some)) {
        match Catalog::load_layers(&settings.templates_dir, overrides, &[]) {
            Ok(catalog) => {
                families = catalog.families().len();
                problems.extend(check::check(&catalog, &provision));
            }
            Err(e) => problems.push(check::Problem {
                family: "(load)".into(),
                file: overrides
                    .unwrap_or(&settings.templates_dir)
                    .display()
                    .to_string(),
                message: e.to_string(),
            }),
        }
    }
    problems.dedup();
    let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    if problems.is_empty() {
        out.one(
            &serde_json::json!({ "families": families, "problems": list }),
            format!("{families} families: every file renders and parses"),
        );
        Ok(())
    } else {
        out.list(&list, |p| p.clone());
        anyhow::bail!("{} template problem(s)", problems.len())
    }
}

/// Prints what a phone would receive.
pub(super) async fn render(app: &App, out: &Output, args: RenderArgs) -> anyhow::Result<()> {
    let RenderArgs {
        mac,
        file,
        show_secrets,
    } = args;
    let mac = mac.parse()?;
    let preview = app
        .provisioner
        .preview(mac, file.as_deref(), show_secrets)
        .await?;
    if out.json {
        out.one(&preview, String::new());
    } else {
        write_stdout(preview.body.as_bytes());
    }
    Ok(())
}
