//! The demo, seeded by the real binary (`postkasse demo --seed-only`) on a
//! fresh database: its letters arrive, and none is queued for another
//! provider, so a first run's workers have nothing to retry (the demo's
//! other provider does not answer: it stands for one that is down).

use crate::crash::Environment;
use crate::helpers::{on_both_backends, Backend, TestDatabase};

async fn the_demo_seeds_its_letters_and_forwards_none(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let environment = Environment::in_scratch(&database.url, scratch.path());
    environment.cli(&["migrate"]).await;
    environment.cli(&["demo", "--seed-only"]).await;
    let count = |sql: &'static str| crate::helpers::count_in(&database.url, sql);
    assert!(
        count("SELECT COUNT(*) FROM letter").await >= 12,
        "the demo letters"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox").await,
        0,
        "nothing to forward or push"
    );
}

on_both_backends!(the_demo_seeds_its_letters_and_forwards_none);
