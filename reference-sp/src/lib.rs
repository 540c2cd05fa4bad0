//! The reference service provider. Its SAML sign-in, storage and flaws are built by the "Reference SP" issue; this crate is an empty placeholder until then.
