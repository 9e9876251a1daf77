//! Integration tests: the real server on port 0, a fresh database per test,
//! each test run on SQLite and on PostgreSQL.

mod helpers;

mod activity;
mod addresses;
mod archive;
mod bad_input;
mod cluster;
mod contact_proof;
mod crash;
mod demo;
mod disk_faults;
mod dpi_network;
mod fullmakt;
mod health;
mod krr;
mod language;
mod limits;
mod mailbox;
mod messages;
mod moving;
mod notify;
mod object_storage;
mod openapi;
mod operator;
mod print_chain;
mod provider_network;
mod reader;
mod replies;
mod schema;
mod search;
mod signing;
mod storage;
mod token;

mod id_tokens;
mod login;
mod rogue_provider;
