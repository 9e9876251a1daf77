//! Health checks and the landing page.

use crate::helpers::{on_both_backends, spawn_app, Backend};
use reqwest::StatusCode;

async fn health_and_readiness_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

async fn the_landing_page_is_server_rendered_in_norwegian(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = crate::helpers::without_hydration_markers(&response.text().await.unwrap());
    assert!(html.contains(r#"<html lang="nb">"#));
    assert!(
        html.contains("<h1 id=\"forside-tittel\">Din digitale postkasse</h1>"),
        "{html}"
    );
    // The inline hydration script carries the nonce the policy allows.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("nonce in CSP");
    assert!(html.contains(&format!(r#"nonce="{nonce}""#)));
    assert!(!policy.contains("unsafe-inline"));
}

async fn pages_and_answers_are_never_cached(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let page = app.client.get(app.url("/innboks")).send().await.unwrap();
    let viewer = app
        .client
        .post(app.url("/api/current_viewer"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    for response in [page, viewer, ready] {
        assert_eq!(
            response.headers()["cache-control"],
            "no-store",
            "{}",
            response.url()
        );
    }
}

async fn unknown_pages_are_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/finnes-ikke"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Fant ikke siden"));
}

/// Every page response, the 404 page's too, carries a policy whose nonce is
/// on the page's inline scripts, also when many are served at once: without
/// it the page would not hydrate.
async fn every_page_carries_its_own_nonce_under_concurrency(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut loads = Vec::new();
    for index in 0..64 {
        let path = ["/", "/finnes-ikke", "/innboks", "/sok"][index % 4];
        let (client, url) = (app.client.clone(), app.url(path));
        loads.push(tokio::spawn(async move {
            let response = client.get(url).send().await.unwrap();
            let policy = response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            let html = response.text().await.unwrap();
            (path, policy, html)
        }));
    }
    for load in loads {
        let (path, policy, html) = load.await.unwrap();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"));
        assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "{path}");
    }
}

on_both_backends!(
    every_page_carries_its_own_nonce_under_concurrency,
    health_and_readiness_answer,
    the_landing_page_is_server_rendered_in_norwegian,
    pages_and_answers_are_never_cached,
    unknown_pages_are_404,
);
