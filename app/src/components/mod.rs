//! Widgets more than one page uses: the header and footer around every
//! page, the language switch, error notices, the pager, loaded lists and the
//! pieces of forms.
//!
//! Components may use [`crate::api`] and [`crate::domain`], never a page.

pub mod error_notice;
pub mod footer;
pub mod forms;
pub mod header;
pub mod language_switch;
pub mod listed;
pub mod operator_sign_in;
pub mod pager;
pub mod signing;
