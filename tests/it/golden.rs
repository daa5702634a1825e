//! Golden files: every file of every family, rendered for the sample device (two lines, three BLF
//! keys, a directory of five, a name with XML's special characters, daylight saving, TLS and a
//! proxy, HTTP credentials issued), compared with `tests/it/snapshots/`. A change to a template
//! shows up here as a diff to review; accept it with `INSTA_UPDATE=always cargo test golden`.

use autoprov::config::{self, Sources};
use autoprov::provision::check::{sample_directory, sample_record};
use autoprov::provision::FileContext;
use autoprov::render::Catalog;
use autoprov::App;

#[test]
fn every_family_file() {
    let (settings, _) = config::load(&Sources {
        config_file: None,
        read_env: false,
        flags: vec![
            ("provisioning.public_url", "http://prov.example.com/".into()),
            (
                "provisioning.https_url",
                "https://prov.example.com:8443/".into(),
            ),
            ("firmware.index_dir", "/nonexistent".into()),
        ],
    })
    .unwrap();
    let provision = App::provision_settings(&settings);
    let catalog = Catalog::load(&settings.templates_dir).unwrap();
    for (index, family) in catalog.families().iter().enumerate() {
        let manifest = &family.manifest;
        // The model with the most keys, so BLF keys show.
        let model = manifest
            .models
            .iter()
            .max_by_key(|m| m.line_keys)
            .map(|m| m.name.clone())
            .unwrap();
        let record = sample_record(&model, &manifest.family).unwrap();
        let directory = sample_directory(&record).unwrap();
        let device = FileContext::for_device(family, &record, &directory, &provision).unwrap();
        let shared = FileContext::shared(family, Some(&model), &provision);
        // One list of a grouped directory: the first group's, People.
        let mut grouped = FileContext::for_device(family, &record, &directory, &provision).unwrap();
        grouped.directory_group = Some(1);
        for (file, spec) in manifest.files.iter().enumerate() {
            let context = if spec.pattern.contains("?P<group>") {
                &grouped
            } else if spec.pattern.contains("?P<mac>") {
                &device
            } else {
                &shared
            };
            let body = catalog.render(index, file, context).unwrap();
            let name = format!("{}__{}", manifest.family, spec.template.replace('.', "_"));
            insta::assert_snapshot!(name.clone(), body);
            if let Some(Ok(bootstrap)) = catalog.render_bootstrap(index, file, &shared) {
                insta::assert_snapshot!(format!("{name}__bootstrap"), bootstrap);
            }
        }
    }
}
