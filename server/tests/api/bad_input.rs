//! Bad input is the client's mistake, never the server's: every route and
//! every server function is sent malformed ids, pages out of range (0, -1,
//! 10001, "abc"), bodies of the wrong kind and bodies over its limit. Each
//! must answer 4xx (HTTP routes with problem+json naming the field, server
//! functions with a validation error naming the argument), and the server
//! must log nothing at ERROR.

use crate::helpers::{
    citizen, on_both_backends, set_cookie_value, spawn_watched_app, Backend, TestApp,
};
use crate::operator::{printed_code, sign_in};
use postkasse::http::extract::MAX_SERVER_FUNCTION_BODY_BYTES;
use reqwest::{header, Method, StatusCode};
use serde_json::Value;

on_both_backends!(bad_input_is_a_4xx_and_never_an_error);

const NOT_AN_ID: &str = "not-a-uuid";
const BAD_PAGES: [&str; 4] = ["0", "-1", "10001", "abc"];
const SESSION_COOKIE: &str = "__Host-postkasse-session";
const OPERATOR_COOKIE: &str = "__Host-postkasse-drift";
/// Small limits, so a body over them is small.
const MAX_PACKAGE_BYTES: usize = 64 * 1024;
const MAX_UPLOAD_BYTES: usize = 64 * 1024;

/// Just over a route's limit. Not far over: a server may answer before
/// reading a body it refuses and close the connection, and the client must
/// have finished writing by then to read the answer.
fn over(limit: usize) -> Vec<u8> {
    vec![b'a'; limit + 1024]
}

/// What one request is, for the failure message, and what came back.
struct Answer {
    what: String,
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn assert_client_error(&self) {
        assert!(
            self.status.is_client_error(),
            "{}: {} {}",
            self.what,
            self.status,
            self.body
        );
    }

    /// A problem whose `invalid-params` (or body-level problem) names `field`.
    fn assert_problem_naming(&self, field: &str) {
        self.assert_client_error();
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}: {}",
            self.what, self.body
        );
        let problem: Value = serde_json::from_str(&self.body).unwrap();
        let names: Vec<&str> = problem["invalid-params"]
            .as_array()
            .map(|params| {
                params
                    .iter()
                    .filter_map(|param| param["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            names.contains(&field),
            "{}: expected {field} among {names:?}: {}",
            self.what,
            self.body
        );
    }

    /// A server function's validation error naming `field`.
    fn assert_invalid_argument(&self, field: &str) {
        self.assert_client_error();
        let error: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("{}: {}", self.what, self.body));
        assert_eq!(
            error["Invalid"]["field"], field,
            "{}: {}",
            self.what, self.body
        );
    }
}

struct Caller<'a> {
    app: &'a TestApp,
    cookies: String,
    bearer: Option<String>,
}

/// A connection per request: a server may answer an oversized body before
/// reading it all and close the connection, which must not fail the next request.
fn unpooled_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

impl Caller<'_> {
    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = unpooled_client()
            .request(method.clone(), self.app.url(path))
            .header(header::COOKIE, &self.cookies);
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let size = body.len();
        if !body.is_empty() {
            request = request.body(body);
        }
        let what = format!("{method} {path} ({size} bytes)");
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{what}: {error:?}"));
        Answer {
            what,
            status: response.status(),
            content_type: response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|value| value.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, vec![]).await
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish()
            .into_bytes();
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body,
        )
        .await
    }

    async fn post_oversized(&self, path: &str, content_type: &str, limit: usize) -> Answer {
        self.send(Method::POST, path, Some(content_type), over(limit))
            .await
    }
}

/// Server functions that take no arguments, and who may call them.
const CITIZEN_FUNCTIONS_WITHOUT_ARGUMENTS: [&str; 8] = [
    "current_viewer",
    "list_folders",
    "list_uploads",
    "load_contact_settings",
    "confirm_contact",
    "reserve",
    "withdraw_reservation",
    "list_inbox",
];

async fn bad_input_is_a_4xx_and_never_an_error(backend: Backend) {
    let Some((app, errors)) = spawn_watched_app(backend, |settings| {
        settings.broker.max_package_bytes = MAX_PACKAGE_BYTES;
        settings.mailbox.max_upload_bytes = MAX_UPLOAD_BYTES;
    })
    .await
    else {
        return;
    };
    let session = app.login_as(&citizen(1)).await;
    let citizen_caller = Caller {
        app: &app,
        cookies: format!("{SESSION_COOKIE}={session}"),
        bearer: None,
    };
    let code = printed_code(&app).await;
    let signed_in = sign_in(&app, &code).await;
    let operator_session = set_cookie_value(&signed_in, OPERATOR_COOKIE).expect("operator session");
    let operator_caller = Caller {
        app: &app,
        cookies: format!("{OPERATOR_COOKIE}={operator_session}"),
        bearer: None,
    };
    let token = app
        .issue_token(&[
            postkasse::agency::SEND_SCOPE,
            postkasse::krr::lookup::CONTACT_SCOPE,
        ])
        .await;
    let agency = Caller {
        app: &app,
        cookies: String::new(),
        bearer: Some(token),
    };
    let anonymous = Caller {
        app: &app,
        cookies: String::new(),
        bearer: None,
    };

    // --- The agency API. ---
    agency
        .get(&format!("/messages/out/{NOT_AN_ID}/statuses"))
        .await
        .assert_problem_naming("id");
    agency
        .send(
            Method::POST,
            &format!("/messages/in/{NOT_AN_ID}/read"),
            None,
            vec![],
        )
        .await
        .assert_problem_naming("id");
    for page in ["-1", "10001", "abc"] {
        agency
            .get(&format!("/messages/in?kanal=test&page={page}"))
            .await
            .assert_problem_naming("page");
    }
    for size in ["0", "-1", "1001", "abc"] {
        agency
            .get(&format!("/messages/in?kanal=test&page_size={size}"))
            .await
            .assert_problem_naming("page_size");
    }
    let oversized_send = agency
        .post_oversized(
            "/messages/out?kanal=test",
            "multipart/form-data; boundary=xyz",
            postkasse::broker::http::max_request_bytes(MAX_PACKAGE_BYTES),
        )
        .await;
    oversized_send.assert_client_error();
    agency
        .send(
            Method::POST,
            "/messages/out",
            Some("text/plain"),
            b"hello".to_vec(),
        )
        .await
        .assert_problem_naming("body");
    agency
        .post_oversized("/rest/v1/personer", "application/json", 256 * 1024)
        .await
        .assert_client_error();
    agency
        .send(
            Method::POST,
            "/rest/v1/personer",
            Some("application/json"),
            br#"{"personidentifikatorer": ["abc"]}"#.to_vec(),
        )
        .await
        .assert_problem_naming("personidentifikatorer[0]");
    agency
        .send(
            Method::POST,
            "/rest/v1/personer",
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await
        .assert_problem_naming("body");
    let oversized_token = anonymous
        .post_oversized(
            "/token",
            "application/x-www-form-urlencoded",
            postkasse::agency::http::MAX_BODY_BYTES,
        )
        .await;
    assert_eq!(
        oversized_token.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        oversized_token.body
    );
    oversized_token.assert_problem_naming("body");
    let garbage_token = anonymous
        .send(
            Method::POST,
            "/token",
            Some("application/json"),
            b"[]".to_vec(),
        )
        .await;
    garbage_token.assert_client_error();
    assert_eq!(garbage_token.content_type, "application/problem+json");

    // --- Logging in and out, the language, the operator console. ---
    anonymous
        .get("/auth/login?level=high&level=low")
        .await
        .assert_problem_naming("level");
    anonymous
        .get("/auth/callback?code=a&code=b&state=c")
        .await
        .assert_problem_naming("code");
    anonymous
        .get("/auth/frontchannel-logout?sid=a&sid=b")
        .await
        .assert_problem_naming("sid");
    anonymous
        .post_oversized(
            app::locale::SWITCH_PATH,
            "application/x-www-form-urlencoded",
            postkasse::http::language::MAX_FORM_BYTES,
        )
        .await
        .assert_problem_naming("body");
    anonymous
        .post_form(app::locale::SWITCH_PATH, &[("sprak", "xx")])
        .await
        .assert_problem_naming("sprak");
    anonymous
        .post_oversized(
            "/drift/logg-inn",
            "application/x-www-form-urlencoded",
            postkasse::operator::routes::MAX_FORM_BYTES,
        )
        .await
        .assert_problem_naming("body");
    anonymous
        .send(
            Method::POST,
            "/drift/logg-inn",
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await
        .assert_problem_naming("kode");
    anonymous
        .get("/testid/authorize?client_id=a&client_id=b")
        .await
        .assert_problem_naming("client_id");
    anonymous
        .post_oversized(
            "/testid/token",
            "application/x-www-form-urlencoded",
            postkasse::testid::routes::MAX_BODY_BYTES,
        )
        .await
        .assert_problem_naming("body");

    // --- The citizen's documents and uploads. ---
    citizen_caller
        .get(&format!("/dokumenter/{NOT_AN_ID}/0"))
        .await
        .assert_problem_naming("letter_id");
    for index in ["-1", "abc", "99999999999999999999999"] {
        citizen_caller
            .get(&format!("/dokumenter/{}/{index}", uuid::Uuid::new_v4()))
            .await
            .assert_problem_naming("index");
    }
    citizen_caller
        .get(&format!("/opplastinger/{NOT_AN_ID}"))
        .await
        .assert_problem_naming("id");
    citizen_caller
        .post_oversized(
            "/mine-dokumenter/last-opp",
            "multipart/form-data; boundary=xyz",
            MAX_UPLOAD_BYTES + 64 * 1024,
        )
        .await
        .assert_client_error();
    citizen_caller
        .send(
            Method::POST,
            "/mine-dokumenter/last-opp",
            Some("text/plain"),
            b"hello".to_vec(),
        )
        .await
        .assert_problem_naming("fil");

    // --- Server functions. ---
    for page in BAD_PAGES {
        citizen_caller
            .post_form("/api/list_inbox", &[("side", page)])
            .await
            .assert_invalid_argument("side");
        citizen_caller
            .get(&format!("/api/search_archive?q=brev&side={page}"))
            .await
            .assert_invalid_argument("side");
    }
    citizen_caller
        .get("/api/search_archive?prefiks=kanskje")
        .await
        .assert_invalid_argument("prefiks");
    citizen_caller
        .get("/api/search_archive?fra=tjue")
        .await
        .assert_invalid_argument("fra");
    for (function, extra) in [
        ("open_letter", None),
        ("accept_opening_receipt", None),
        ("rename_folder", Some(("navn", "Skatt"))),
        ("delete_folder", None),
        ("mark_letter", Some(("ulest", "true"))),
        ("move_letter", Some(("til", "arkiv"))),
        ("delete_upload", None),
    ] {
        let path = format!("/api/{function}");
        let mut form = vec![("id", NOT_AN_ID)];
        form.extend(extra);
        citizen_caller
            .post_form(&path, &form)
            .await
            .assert_invalid_argument("id");
        // Without the id at all.
        citizen_caller
            .post_form(&path, extra.as_slice())
            .await
            .assert_invalid_argument("id");
    }
    let letter = uuid::Uuid::new_v4().to_string();
    citizen_caller
        .post_form("/api/mark_letter", &[("id", &letter), ("ulest", "kanskje")])
        .await
        .assert_invalid_argument("ulest");
    citizen_caller
        .post_form("/api/move_letter", &[("id", &letter), ("til", "månen")])
        .await
        .assert_invalid_argument("til");
    citizen_caller
        .post_form("/api/create_folder", &[])
        .await
        .assert_invalid_argument("navn");
    for (function, field) in [
        ("change_email", "email"),
        ("change_mobile", "mobile"),
        ("prove_email", "code"),
        ("prove_mobile", "code"),
        ("choose_mailbox", "provider"),
        ("choose_language", "language"),
    ] {
        let path = format!("/api/{function}");
        citizen_caller
            .post_form(&path, &[(field, "\u{7}???")])
            .await
            .assert_client_error();
        citizen_caller
            .post_form(&path, &[])
            .await
            .assert_invalid_argument(field);
    }
    for function in CITIZEN_FUNCTIONS_WITHOUT_ARGUMENTS.iter().chain(&[
        "open_letter",
        "accept_opening_receipt",
        "create_folder",
        "rename_folder",
        "delete_folder",
        "mark_letter",
        "move_letter",
        "delete_upload",
        "change_email",
        "change_mobile",
        "prove_email",
        "prove_mobile",
        "choose_mailbox",
        "choose_language",
        "choose_notices",
    ]) {
        let answer = citizen_caller
            .post_oversized(
                &format!("/api/{function}"),
                "application/x-www-form-urlencoded",
                MAX_SERVER_FUNCTION_BODY_BYTES,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.what
        );
        answer.assert_problem_naming("body");
    }
    let answer = operator_caller
        .post_oversized(
            "/api/sink_notices",
            "application/x-www-form-urlencoded",
            MAX_SERVER_FUNCTION_BODY_BYTES,
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.what
    );
    citizen_caller
        .post_form("/api/no_such_function", &[])
        .await
        .assert_client_error();

    // --- Pages with bad addresses render, or answer 404; never 5xx. ---
    for path in [
        format!("/brev/{NOT_AN_ID}"),
        "/innboks?side=abc".to_owned(),
        "/innboks?side=-1".to_owned(),
        "/innboks?mappe=m%C3%A5nen".to_owned(),
        "/sok?side=10001&fra=tjue".to_owned(),
    ] {
        let answer = citizen_caller.get(&path).await;
        assert!(
            !answer.status.is_server_error(),
            "{}: {}",
            answer.what,
            answer.status
        );
    }

    let logged = errors.events();
    assert!(
        logged.is_empty(),
        "bad input was logged at ERROR:\n{}",
        logged.join("\n")
    );
}
