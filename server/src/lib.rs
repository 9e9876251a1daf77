//! The Postkasse server as a library, so the binary and the tests start the
//! very same thing.
//!
//! - [`settings`], [`telemetry`], [`startup`]: bootstrap; [`cli`]: the command line.
//! - [`store`]: what every domain's store fails with; [`sql`]: those stores on
//!   SQLite or PostgreSQL; [`blobs`]: document bytes, content-addressed.
//! - [`broker`]: letters in from agencies (and from other providers);
//!   [`print`]: letters on paper; [`moving`]: letters out to a citizen's new
//!   provider.
//! - [`krr`]: the contact and reservation register; [`agency`]: agencies' API access.
//! - [`limits`]: rate limits at the edge, shared by every node.
//! - [`testid`]: the built-in test identity provider.
//! - [`seal`]: Postkasse's PAdES seal on the PDFs it makes.
//! - [`replies`]: the citizen answers a letter's reply form.
//! - [`json_fields`]: reading JSON field by field, collecting every problem.
//! - [`clock`]: time as a dependency; [`csv_import`]: operators' bulk imports.
//! - [`trust`]: which senders' enterprise certificates are trusted.
//! - [`demo`]: synthetic citizens and letters for trying Postkasse out.
//! - [`http`]: the error shape and routes that belong to no domain.
//! - [`validation`]: bad input by field, for every parser; [`errors`]: how
//!   failures become answers, and where internal causes are logged.
//! - [`operator`]: operators' sign-in and the development sink's page.

pub mod activity;
pub mod agency;
pub mod auth;
pub mod blobs;
pub mod broker;
pub mod cli;
pub mod clock;
pub mod csv_import;
pub mod demo;
pub mod errors;
pub mod fullmakt;
pub mod fuzz_seeds;
pub mod health;
pub mod http;
pub mod json_fields;
pub mod keys;
pub mod krr;
pub mod limits;
pub mod mailbox;
pub mod moving;
pub mod notify;
pub mod operator;
pub mod pages;
pub mod pdf;
pub mod print;
pub mod replies;
pub mod rounds;
pub mod seal;
pub mod search;
pub mod settings;
pub mod signing;
pub mod sql;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod testid;
pub mod timestamp;
pub mod tokens;
pub mod trust;
pub mod validation;
