//! What an SP's metadata declares, read with libxml2 (the parser the mock
//! signs with, so the suite has one XML parser).

use libxml::parser::Parser;

const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// The `WantAssertionsSigned` of the metadata's `SPSSODescriptor` (false
/// when absent, as SAML Metadata 2.4.4 says).
pub(in crate::runner) fn wants_assertions_signed(xml: &str) -> Result<bool, String> {
    if xml.contains("<!DOCTYPE") {
        return Err("the metadata has a DOCTYPE, which the suite does not read".into());
    }
    let document = Parser::default().parse_string(xml).map_err(|e| format!("the metadata is not XML: {e:?}"))?;
    let root = document.get_root_element().ok_or("the metadata has no root element")?;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.get_name() == "SPSSODescriptor" && node.get_namespace().is_some_and(|ns| ns.get_href() == NS_METADATA) {
            return match node.get_attribute_no_ns("WantAssertionsSigned").as_deref().map(str::trim) {
                None | Some("false") | Some("0") => Ok(false),
                Some("true") | Some("1") => Ok(true),
                Some(other) => Err(format!("WantAssertionsSigned is '{other}', not a boolean")),
            };
        }
        stack.extend(node.get_child_elements());
    }
    Err("the metadata has no SPSSODescriptor".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(attribute: &str) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><md:SPSSODescriptor {attribute} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#
        )
    }

    #[test]
    fn want_assertions_signed_is_read_from_the_sp_descriptor() {
        assert_eq!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="true""#)), Ok(true));
        assert_eq!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="false""#)), Ok(false));
        assert_eq!(wants_assertions_signed(&metadata("")), Ok(false));
        assert!(wants_assertions_signed(&metadata(r#"WantAssertionsSigned="maybe""#)).is_err());
        assert!(
            wants_assertions_signed("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>")
                .is_err()
        );
        assert!(wants_assertions_signed("not xml").is_err());
    }
}
