//! HTTP plumbing shared by every route: the error shape, health checks and
//! security headers. Routes that belong to a domain live in that domain's module.

pub mod csrf;
pub mod health;
pub mod problem;
pub mod security_headers;

pub use problem::{ApiError, FieldError};
