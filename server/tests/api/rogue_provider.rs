//! A rogue OpenID provider for tests: a real HTTP server on 127.0.0.1 that
//! the relying party discovers like any other provider, but whose token
//! endpoint hands out whatever ID token (or OAuth error) the test configured.
//!
//! It publishes one RSA key (kid [`ROGUE_KID`]) in its JWKS and can mint
//! tokens that are properly signed with it, signed with a different key under
//! the same kid, HMAC-signed with the public key's PEM as the secret (the
//! key-confusion attack) or not signed at all (`alg: none`).

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    traits::PublicKeyParts,
    RsaPrivateKey,
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};
use tokio::{net::TcpListener, sync::oneshot};

/// The kid of the one key the rogue provider publishes.
pub const ROGUE_KID: &str = "rogue-key-1";

/// An RSA key pair ready for signing, with its public half as PEM and as a JWK.
struct RsaKey {
    encoding: EncodingKey,
    public_pem: String,
    jwk: Value,
}

impl RsaKey {
    fn generate() -> RsaKey {
        let private_key =
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("generate an RSA key");
        let private_pem = private_key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("private key as PEM");
        let public_key = private_key.to_public_key();
        let public_pem = public_key
            .to_public_key_pem(LineEnding::LF)
            .expect("public key as PEM");
        let n = URL_SAFE_NO_PAD.encode(public_key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public_key.e().to_bytes_be());
        RsaKey {
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("signing key"),
            public_pem,
            jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": ROGUE_KID, "n": n, "e": e }),
        }
    }
}

/// The key the JWKS publishes; one per test process, generating RSA keys is slow.
fn published_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(RsaKey::generate)
}

/// A second key, never published: tokens signed with it have a bad signature.
fn unpublished_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(RsaKey::generate)
}

/// What the token endpoint will answer, and what it was asked.
#[derive(Default)]
struct Behaviour {
    id_token: Option<String>,
    token_error: Option<(StatusCode, Value)>,
    token_requests: Vec<HashMap<String, String>>,
    discovery_requests: usize,
}

struct Shared {
    issuer: String,
    behaviour: Mutex<Behaviour>,
}

impl Shared {
    fn behaviour(&self) -> std::sync::MutexGuard<'_, Behaviour> {
        self.behaviour.lock().expect("rogue provider lock")
    }
}

/// A running rogue provider; it stops when dropped.
pub struct RogueProvider {
    shared: Arc<Shared>,
    _shutdown: oneshot::Sender<()>,
}

impl RogueProvider {
    /// Starts the provider on a free port of 127.0.0.1.
    pub async fn start() -> RogueProvider {
        // Generating keys is CPU work: keep it off the runtime's workers.
        tokio::task::spawn_blocking(|| {
            published_key();
            unpublished_key();
        })
        .await
        .expect("generate the rogue provider's keys");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the rogue provider");
        let port = listener
            .local_addr()
            .expect("rogue provider address")
            .port();
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{port}"),
            behaviour: Mutex::new(Behaviour::default()),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        RogueProvider {
            shared,
            _shutdown: shutdown,
        }
    }

    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The ID token the token endpoint hands out from now on.
    pub fn set_id_token(&self, id_token: String) {
        let mut behaviour = self.shared.behaviour();
        behaviour.id_token = Some(id_token);
        behaviour.token_error = None;
    }

    /// Makes the token endpoint answer with an OAuth error from now on.
    pub fn set_token_error(&self, status: u16, body: Value) {
        let status = StatusCode::from_u16(status).expect("an HTTP status");
        self.shared.behaviour().token_error = Some((status, body));
    }

    /// The last token request's form fields, plus its `authorization` header if any.
    pub fn last_token_request(&self) -> Option<HashMap<String, String>> {
        self.shared.behaviour().token_requests.last().cloned()
    }

    /// How many token requests arrived.
    pub fn token_requests(&self) -> usize {
        self.shared.behaviour().token_requests.len()
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_requests(&self) -> usize {
        self.shared.behaviour().discovery_requests
    }

    /// A JWT properly signed RS256 with the published key, under `kid`.
    pub fn sign_rs256(&self, claims: &Value, kid: &str) -> String {
        sign_rs256_with(published_key(), claims, kid)
    }

    /// A JWT signed RS256 with a key that is NOT published, under `kid`
    /// (pass [`ROGUE_KID`] for a bad signature under the published key's id).
    pub fn sign_with_other_key(&self, claims: &Value, kid: &str) -> String {
        sign_rs256_with(unpublished_key(), claims, kid)
    }

    /// A JWT signed HS256 with the published public key's PEM as the HMAC
    /// secret, naming the published key's kid: the key-confusion attack.
    pub fn sign_hs256_with_public_key(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(ROGUE_KID.to_owned());
        let secret = EncodingKey::from_secret(published_key().public_pem.as_bytes());
        jsonwebtoken::encode(&header, claims, &secret).expect("sign HS256")
    }

    /// An unsecured JWT: `{"alg":"none","typ":"JWT"}`, the claims, and an empty signature.
    pub fn unsigned_alg_none(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims as JSON"));
        format!("{header}.{payload}.")
    }
}

fn sign_rs256_with(key: &RsaKey, claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("sign RS256")
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.behaviour().discovery_requests += 1;
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/endsession"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [published_key().jwk] }))
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(mut form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(authorization) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        form.insert("authorization".to_owned(), authorization.to_owned());
    }
    let mut behaviour = shared.behaviour();
    behaviour.token_requests.push(form);
    let mut response = match (&behaviour.token_error, &behaviour.id_token) {
        (Some((status, body)), _) => (*status, Json(body.clone())).into_response(),
        (None, Some(id_token)) => Json(json!({
            "access_token": "x",
            "token_type": "Bearer",
            "expires_in": 120,
            "id_token": id_token,
        }))
        .into_response(),
        (None, None) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "error": "server_error",
                "error_description": "the test configured no id_token"
            })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
