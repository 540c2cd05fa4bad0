//! The conformance suite: checks with stable ids that run the mock Okta IdP
//! against any SP described by a target file, and judge the SP by what its
//! session oracle sees, not by status codes.
//!
//! [`target`] reads the target file, [`catalogue`] lists the checks,
//! [`runner`] serves the mock IdP in-process and runs checks with canary
//! users, and [`report`] renders the results.

pub mod catalogue;
pub mod report;
pub mod runner;
pub mod target;
