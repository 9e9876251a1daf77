//! `serve`, `migrate` and `demo`: running Postkasse itself.

use crate::{
    demo,
    settings::Settings,
    startup::{shutdown_signal, Application, Services},
};
use anyhow::Context;

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let services = Services::open_from(&settings).await?;
    serve_with(settings, services).await
}

async fn serve_with(settings: Settings, services: Services) -> anyhow::Result<()> {
    let application = Application::build_with(settings, services).await?;
    println!("Postkasse is listening on http://{}", application.address());
    application
        .run_until_stopped(shutdown_signal())
        .await
        .context("the server stopped with an error")
}

/// Opening the services applies the migrations.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    Services::open_from(settings).await?;
    println!("the database schema is up to date");
    Ok(())
}

/// Seeds the demo register and letters, then serves unless `seed_only`.
pub async fn demo(settings: Settings, seed_only: bool) -> anyhow::Result<()> {
    let services = Services::open_from(&settings).await?;
    // The register first: the broker routes the demo letters by it.
    if let Some(register) = demo::seed_register(
        services.krr_store().as_ref(),
        &services.own_provider.provider.org_nr,
        settings.synthetic_ids(),
        services.clock.now(),
    )
    .await?
    {
        println!(
            "demo register: {} persons imported (including the demo citizens)",
            register.written
        );
    }
    let agency_key = demo::demo_agency_key_file(&settings);
    let report = demo::seed(
        services.mailbox_store().as_ref(),
        services.agency_store().as_ref(),
        &services.command_line_broker(&settings)?,
        &agency_key,
    )
    .await?;
    println!(
        "demo data: {} letters added, {} already present",
        report.letters_added, report.letters_already_present
    );
    println!("synthetic citizens (log in as one of them):");
    for citizen in &demo::CITIZENS {
        println!("  {}  {}", demo::demo_fnr(citizen).as_str(), citizen.name);
    }
    if seed_only {
        return Ok(());
    }
    serve_with(settings, services).await
}
