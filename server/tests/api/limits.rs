//! Rate limits at the edge: shared by every node of an installation, 429
//! with `Retry-After` and a problem body once used up, and only for the
//! client, agency, citizen or address that used them up.

use crate::helpers::{
    citizen, on_both_backends, sign_grant_with, spawn_app_with, unregistered_agency_key, Backend,
    TestApp,
};
use futures::StreamExt;
use postkasse::limits::{AgencyQuotas, Quota};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CONTACT: &str = "krr:global/kontaktinformasjon.read";
const BRREG: &str = "974760673";
const NAV: &str = "889640782";

/// `burst` requests, then none for an hour: nothing comes back during a test.
fn per_hour(burst: u32) -> Quota {
    Quota {
        burst,
        period_seconds: 3600,
    }
}

/// A 429's `Retry-After` in seconds, checking the rest of the refusal.
async fn refused(response: reqwest::Response, limit: &str) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "urn:postkasse:problem:too-many-requests");
    assert_eq!(body["status"], 429);
    assert!(body["detail"].as_str().unwrap().contains(limit), "{body}");
    retry_after
}

/// `POST /token` at the node at `address` with the grant.
async fn exchange_at(client: &reqwest::Client, address: &str, grant: &str) -> reqwest::Response {
    client
        .post(format!("{address}/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", grant),
        ])
        .send()
        .await
        .unwrap()
}

async fn bad_grants_over_three_nodes_allow_exactly_the_quota(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.limits.token = per_hour(10);
        // The shared count decides here, however busy the database.
        settings.limits.shared_timeout_milliseconds = 10_000;
    })
    .await
    else {
        return;
    };
    // The other nodes stop when dropped: kept to the end.
    let (second, third) = (app.another_node().await, app.another_node().await);
    let nodes = [
        app.address.clone(),
        second.address.clone(),
        third.address.clone(),
    ];
    let brreg = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let nav = app.register_agency(NAV, "NAV").await;

    // A hundred grants naming Brønnøysund's client, signed with a key that
    // is not its own, twenty at a time, spread over the three nodes.
    let statuses: Vec<(StatusCode, Option<String>, Value)> = futures::stream::iter(0..100)
        .map(|n| {
            let grant = sign_grant_with(
                &unregistered_agency_key().private_key_pem,
                Some(&brreg.client_id),
                &brreg.grant_claims(&app, &[CONTACT]),
            );
            let node = nodes[n % 3].clone();
            let client = app.client.clone();
            async move {
                let response = exchange_at(&client, &node, &grant).await;
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|value| value.to_str().unwrap().to_owned());
                (status, retry_after, response.json().await.unwrap())
            }
        })
        .buffer_unordered(20)
        .collect()
        .await;
    let processed = statuses
        .iter()
        .filter(|(status, _, body)| {
            *status == StatusCode::BAD_REQUEST && body["error"] == "invalid_grant"
        })
        .count();
    let limited = statuses
        .iter()
        .filter(|(status, retry_after, _)| {
            *status == StatusCode::TOO_MANY_REQUESTS && retry_after.is_some()
        })
        .count();
    println!("100 bad grants over three nodes: {processed} processed, {limited} refused with 429");
    assert_eq!((processed, limited), (10, 90), "{statuses:?}");

    // Refused on every node, with a wait no longer than the quota's refill.
    for node in &nodes {
        let grant = brreg.sign(&brreg.grant_claims(&app, &[CONTACT]));
        let response = exchange_at(&app.client, node, &grant).await;
        let wait = refused(response, "token").await;
        assert!(
            (1..=360).contains(&wait),
            "one grant's allowance comes back in 6 minutes, not {wait} s"
        );
    }
    // Another client is not affected, on any node. (Each node here is its
    // own audience: they have no public URL in common.)
    for node in &nodes {
        let mut claims = nav.grant_claims(&app, &[CONTACT]);
        claims["aud"] = json!(format!("{node}/"));
        let grant = nav.sign(&claims);
        let response = exchange_at(&app.client, node, &grant).await;
        let status = response.status();
        assert_eq!(status, StatusCode::OK, "{}", response.text().await.unwrap());
    }
}

async fn lookup(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/rest/v1/personer"))
        .bearer_auth(token)
        .json(&json!({ "personidentifikatorer": [citizen(1).as_str()] }))
        .send()
        .await
        .unwrap()
}

async fn each_agency_has_its_quota_and_one_may_have_its_own(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.limits.contact_lookup = per_hour(3);
        settings.limits.agencies.insert(
            BRREG.to_owned(),
            AgencyQuotas {
                contact_lookup: Some(per_hour(5)),
                send: None,
            },
        );
    })
    .await
    else {
        return;
    };
    let brreg = app.register_agency(BRREG, "Brønnøysundregistrene").await;
    let nav = app.register_agency(NAV, "NAV").await;
    let brreg_token = brreg.access_token(&app, &[CONTACT]).await;
    let nav_token = nav.access_token(&app, &[CONTACT]).await;

    // Requests without a valid token are the route's to refuse, and count for no one.
    for _ in 0..10 {
        assert_eq!(
            lookup(&app, "not-a-token").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..3 {
        assert_eq!(lookup(&app, &nav_token).await.status(), StatusCode::OK);
    }
    refused(lookup(&app, &nav_token).await, "contact_lookup").await;
    for _ in 0..5 {
        assert_eq!(lookup(&app, &brreg_token).await.status(), StatusCode::OK);
    }
    refused(lookup(&app, &brreg_token).await, "contact_lookup").await;
}

async fn a_citizen_who_searches_too_often_waits_and_another_does_not(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.limits.search = per_hour(3);
    })
    .await
    else {
        return;
    };
    let (kari, ola) = (citizen(1), citizen(2));
    let kari_session = app.login_as(&kari).await;
    let ola_session = app.login_as(&ola).await;
    // Opening the search page without a query is no search.
    for _ in 0..5 {
        assert_eq!(
            app.get_as("/sok", &kari_session).await.status(),
            StatusCode::OK
        );
    }
    for _ in 0..3 {
        assert_eq!(
            app.get_as("/sok?q=skatt", &kari_session).await.status(),
            StatusCode::OK
        );
    }
    // The page and the server function count alike.
    refused(
        app.get_as("/api/search_archive?q=skatt", &kari_session)
            .await,
        "search",
    )
    .await;
    refused(app.get_as("/sok?q=skatt", &kari_session).await, "search").await;
    assert_eq!(
        app.get_as("/sok?q=skatt", &ola_session).await.status(),
        StatusCode::OK
    );
}

async fn logins_from_one_address_are_limited(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.limits.login = per_hour(4);
    })
    .await
    else {
        return;
    };
    // Two logins are a start and a callback each.
    app.login_as(&citizen(1)).await;
    app.login_as(&citizen(2)).await;
    refused(
        app.client.get(app.url("/auth/login")).send().await.unwrap(),
        "login",
    )
    .await;
}

on_both_backends!(
    bad_grants_over_three_nodes_allow_exactly_the_quota,
    each_agency_has_its_quota_and_one_may_have_its_own,
    a_citizen_who_searches_too_often_waits_and_another_does_not,
    logins_from_one_address_are_limited,
);
