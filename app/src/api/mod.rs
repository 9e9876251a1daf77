//! What the pages ask the server: the server functions and the types that
//! cross the wire, one module per domain. Each module's `ssr` part (server
//! only) holds the service trait the server implements and its functions
//! call; [`session`] finds who is making the request, and [`input`] parses
//! the arguments that come as text (ids, pages, flags).
//!
//! Nothing here renders anything: pages and components use this module,
//! never the other way round.

pub mod activity;
pub mod archive;
pub mod check;
pub mod contact;
pub mod fullmakt;
#[cfg(feature = "ssr")]
pub mod input;
pub mod mailbox;
pub mod moving;
pub mod operator;
pub mod print_console;
pub mod replies;
pub mod search;
#[cfg(feature = "ssr")]
pub mod session;
pub mod signing;
