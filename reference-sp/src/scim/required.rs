//! A tenant's required User attributes (`scim.required_attributes`), as a
//! vendor that cannot provision a user without a first name, a last name or
//! an email (the Appenate guide) requires them.
//!
//! RFC 7643 2.2 lets a schema mark an attribute `required`; RFC 7644 3.3
//! and 3.12 refuse a create or replace that lacks one with 400
//! `invalidValue`. A required attribute counts as present only with a
//! non-empty value: Okta leaves an unset profile attribute out of its
//! request, and an empty string is no name either.

use serde_json::Value;

use super::filter::member;
use super::resource::USER_ATTRIBUTES;

/// The sub-attributes of `name`, as `/Schemas` declares them.
const NAME_PARTS: [&str; 6] =
    ["givenName", "familyName", "formatted", "middleName", "honorificPrefix", "honorificSuffix"];

/// Whether a tenant may require this attribute: a core User attribute this
/// server keeps (`displayName`, `emails`), or a part of `name`
/// (`name.givenName`). `userName` is always required and `active` always
/// has a value, so requiring them says nothing.
pub fn is_requirable_attribute(path: &str) -> bool {
    match path.split_once('.') {
        Some((parent, part)) => {
            parent.eq_ignore_ascii_case("name") && NAME_PARTS.iter().any(|p| p.eq_ignore_ascii_case(part))
        }
        None => {
            !["userName", "active"].iter().any(|a| a.eq_ignore_ascii_case(path))
                && USER_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(path))
        }
    }
}

/// Whether a value says something: a non-blank string, a boolean or number,
/// an object with a value in it, or a list with an entry that has one (for
/// `emails`, an entry whose `value` is non-blank).
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.trim().is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
        Value::Array(items) => items.iter().any(|item| match member(item, "value") {
            Some(inner) => has_value(inner),
            None => !item.is_object() && has_value(item),
        }),
        Value::Object(object) => object.values().any(has_value),
    }
}

/// The first required attribute the User lacks, as the tenant named it.
pub fn first_missing<'a>(user: &Value, required: &'a [String]) -> Option<&'a str> {
    required.iter().map(String::as_str).find(|path| {
        let found = match path.split_once('.') {
            Some((parent, part)) => member(user, parent).and_then(|p| member(p, part)),
            None => member(user, path),
        };
        !found.is_some_and(has_value)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn appenate() -> Vec<String> {
        ["name.givenName", "name.familyName", "emails"].map(str::to_owned).to_vec()
    }

    #[test]
    fn each_missing_or_blank_attribute_is_named() {
        let full = json!({
            "userName": "ada@acme.test",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@acme.test", "primary": true}],
        });
        assert_eq!(first_missing(&full, &appenate()), None);
        let mut no_given = full.clone();
        no_given["name"] = json!({"familyName": "Lovelace"});
        assert_eq!(first_missing(&no_given, &appenate()), Some("name.givenName"));
        let mut blank_family = full.clone();
        blank_family["name"]["familyName"] = json!("  ");
        assert_eq!(first_missing(&blank_family, &appenate()), Some("name.familyName"));
        let mut no_email = full.clone();
        no_email["emails"] = json!([{"value": ""}]);
        assert_eq!(first_missing(&no_email, &appenate()), Some("emails"));
        no_email.as_object_mut().unwrap().remove("emails");
        assert_eq!(first_missing(&no_email, &appenate()), Some("emails"));
        // Attribute names ignore case, as SCIM's do (RFC 7643 2.1).
        let shouted = json!({"NAME": {"GIVENNAME": "Ada", "familyname": "L"}, "Emails": [{"Value": "a@b.test"}]});
        assert_eq!(first_missing(&shouted, &appenate()), None);
    }

    #[test]
    fn only_kept_user_attributes_can_be_required() {
        for path in ["name.givenName", "name.familyName", "emails", "displayName", "phoneNumbers"] {
            assert!(is_requirable_attribute(path), "{path}");
        }
        for path in ["userName", "active", "name.nickName", "department", "emails.value", ""] {
            assert!(!is_requirable_attribute(path), "{path}");
        }
    }
}
