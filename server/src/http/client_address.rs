//! Who is asking, as far as the connection tells: the peer's address, put in
//! the request's extensions for what limits clients one by one (the rate
//! limits at the edge, the public check of paper letters).
//!
//! Behind a reverse proxy every connection comes from the proxy. When the
//! peer is one of `application.trusted_proxies`, the client is the address
//! that proxy appended to `X-Forwarded-For` (the last one not itself a
//! trusted proxy); anything further left was written by the client and is
//! not believed. From any other peer the header is ignored.

use app::api::check::ssr::ClientAddress;
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use std::{net::IpAddr, net::SocketAddr, sync::Arc};

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

impl TrustedProxies {
    /// The client behind `peer`, given the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.0.contains(&peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) if self.0.contains(&address) => client = address,
                Ok(address) => return address,
                // A hop that is no address: stop at the last one believed.
                Err(_) => return client,
            }
        }
        client
    }
}

pub async fn note_client_address(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed_and_only_for_the_hop_it_added() {
        let proxies = TrustedProxies(Arc::new(vec![ip("10.0.0.1"), ip("10.0.0.2")]));
        // Straight from a client: its own header means nothing.
        assert_eq!(
            proxies.client(ip("192.0.2.7"), &headers(&["198.51.100.1"])),
            ip("192.0.2.7")
        );
        // Through the proxy: the hop it appended.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &headers(&["203.0.113.9, 198.51.100.1"])),
            ip("198.51.100.1")
        );
        // Through two trusted proxies, over two headers.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &headers(&["198.51.100.1", "10.0.0.2"])),
            ip("198.51.100.1")
        );
        // A proxy that added nothing: the proxy itself.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &headers(&[])),
            ip("10.0.0.1")
        );
        // Garbage stops the walk at the last address believed.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &headers(&["198.51.100.1, nonsense"])),
            ip("10.0.0.1")
        );
    }
}
