//! Who is asking, as far as the connection tells: the peer's address, put in
//! the request's extensions for what limits clients one by one (the public
//! check of paper letters). Behind a reverse proxy every request comes from
//! the proxy, and such limits then hold for all clients together.

use app::api::check::ssr::ClientAddress;
use axum::{
    extract::{ConnectInfo, Request},
    middleware::Next,
    response::Response,
};
use std::net::SocketAddr;

pub async fn note_client_address(mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        request.extensions_mut().insert(ClientAddress(peer.ip()));
    }
    next.run(request).await
}
