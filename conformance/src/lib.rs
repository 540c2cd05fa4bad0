//! The conformance suite. Its runner and checks are built by the "Conformance suite" issue; this crate is an empty placeholder until then.
