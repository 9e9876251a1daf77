//! The pages of the citizen web app, one module each; the routes in
//! [`crate::App`] lead to them. Pages are built from [`crate::components`]
//! and call [`crate::api`]; no page uses another.

pub mod activity;
pub mod check;
pub mod folders;
pub mod fullmakt;
pub mod inbox;
pub mod landing;
pub mod letter;
pub mod not_found;
pub mod operator;
pub mod print_console;
pub mod search;
pub mod settings;
pub mod signing;
pub mod uploads;
