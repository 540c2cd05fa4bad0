//! Auto-submitting HTML forms, as a browser with JavaScript would post them.
//!
//! Two messages reach the other side this way: an SP's AuthnRequest sent by
//! the HTTP-POST binding (Spring Security does so when the IdP's metadata
//! lists POST first, as Okta's does), and an OIDC provider's answer with
//! `response_mode=form_post` (ASP.NET Core's default). The suite's browser
//! has no JavaScript, so it reads the form and posts it itself. Pages are
//! written by many frameworks, so the reader takes attributes in any order,
//! with either quote, and decodes character references; it never needs more
//! than the first form's action and its inputs.

/// The first form of a page: where it posts and the fields it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AutoPostForm {
    pub(crate) action: String,
    pub(crate) fields: Vec<(String, String)>,
}

impl AutoPostForm {
    /// The value of the field `name`, if the form has it.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
    }

    /// The fields as the browser's form poster takes them.
    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        self.fields.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect()
    }
}

/// The page's first form whose method is POST, with an action, and the
/// named inputs inside it. `None` when there is no such form.
pub(crate) fn parse(html: &str) -> Option<AutoPostForm> {
    let lower = html.to_ascii_lowercase();
    let mut cursor = 0;
    while let Some(start) = lower[cursor..].find("<form").map(|i| i + cursor) {
        let (attributes, body_start) = tag_attributes(html, start)?;
        let end = lower[body_start..].find("</form").map_or(html.len(), |i| i + body_start);
        cursor = body_start;
        let method = attribute(&attributes, "method").unwrap_or_default();
        let Some(action) = attribute(&attributes, "action") else { continue };
        if !method.eq_ignore_ascii_case("post") {
            continue;
        }
        return Some(AutoPostForm { action, fields: inputs(html, &lower, body_start, end) });
    }
    None
}

/// The named `<input>` fields between `start` and `end`, in page order.
fn inputs(html: &str, lower: &str, start: usize, end: usize) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut cursor = start;
    while let Some(at) = lower[cursor..end].find("<input").map(|i| i + cursor) {
        let Some((attributes, after)) = tag_attributes(html, at) else { break };
        cursor = after;
        let kind = attribute(&attributes, "type").unwrap_or_default().to_ascii_lowercase();
        // A submit button sends its value only when clicked, and the
        // auto-submit script never clicks it.
        if kind == "submit" || kind == "button" || kind == "image" {
            continue;
        }
        if let Some(name) = attribute(&attributes, "name") {
            fields.push((name, attribute(&attributes, "value").unwrap_or_default()));
        }
    }
    fields
}

/// The attributes of the tag that opens at `start` (lower-cased names,
/// decoded values) and the offset just after its `>`.
fn tag_attributes(html: &str, start: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = html.as_bytes();
    // Skip the tag name.
    let mut i = start + 1;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/' {
        i += 1;
    }
    let mut attributes = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] == b'>' {
            return Some((attributes, i + 1));
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = match bytes.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let value_start = i + 1;
                    let value_end = html[value_start..].find(quote as char)? + value_start;
                    i = value_end + 1;
                    &html[value_start..value_end]
                }
                _ => {
                    let value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    &html[value_start..i]
                }
            };
            attributes.push((name, decode_references(value)));
        } else if !name.is_empty() {
            attributes.push((name, String::new()));
        }
    }
}

fn attribute(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric
/// character references; anything else is kept as written.
fn decode_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(semicolon) = rest.find(';').filter(|&end| end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semicolon];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => {
                out.push(character);
                rest = &rest[semicolon + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_security_post_binding_form_is_read() {
        // The shape Spring Security's Saml2WebSsoAuthenticationRequestFilter writes.
        let html = r#"<!DOCTYPE html><html><head><meta charset="utf-8" /></head>
<body onload="document.forms[0].submit()"><noscript><p><strong>Note:</strong> Since your browser does not support JavaScript, you must press the Continue button once to proceed.</p></noscript>
<form action="http://127.0.0.1:7000/app/x/0oa1/sso/saml" method="post"><div>
<input type="hidden" name="SAMLRequest" value="PHNhbWxwOkF1dGhuUmVxdWVzdA=="/>
<input type="hidden" name="RelayState" value="a&amp;b&#x3d;c"/>
</div><noscript><div><input type="submit" value="Continue"/></div></noscript></form></body></html>"#;
        let form = parse(html).unwrap();
        assert_eq!(form.action, "http://127.0.0.1:7000/app/x/0oa1/sso/saml");
        assert_eq!(form.field("SAMLRequest"), Some("PHNhbWxwOkF1dGhuUmVxdWVzdA=="));
        assert_eq!(form.field("RelayState"), Some("a&b=c"));
        assert_eq!(form.fields.len(), 2, "the submit button is not a field");
    }

    #[test]
    fn form_post_answer_with_single_quotes_and_attributes_in_any_order_is_read() {
        let html = "<html><body onload='document.forms[0].submit()'>\
            <FORM METHOD='POST' ACTION='https://rp.test/signin-oidc'>\
            <INPUT value='c0de' name='code' type='hidden'>\
            <input name=state type=hidden value=s&#46;1>\
            </FORM></body></html>";
        let form = parse(html).unwrap();
        assert_eq!(form.action, "https://rp.test/signin-oidc");
        assert_eq!(form.pairs(), vec![("code", "c0de"), ("state", "s.1")]);
    }

    #[test]
    fn a_get_form_or_a_page_without_a_form_is_not_an_auto_post_form() {
        assert_eq!(parse("<form action='/search' method='get'><input name='q' value='x'></form>"), None);
        assert_eq!(parse("<p>Signed in</p>"), None);
        assert_eq!(parse("<form action='/x' method='post'"), None);
    }

    proptest::proptest! {
        /// Any page, however broken, gives a form or none, never a panic
        /// (the reader slices by byte offsets, so this guards its bounds).
        #[test]
        fn prop_any_page_is_read_without_panicking(page in "(<form|<input| action=| method='?post'?|name=\"|value=|&#x?[0-9a-f]{0,4};?|&amp;|[ -~]|\\PC){0,60}") {
            if let Some(form) = parse(&page) {
                proptest::prop_assert!(page.to_ascii_lowercase().contains("<form"), "{form:?}");
            }
        }
    }

    #[test]
    fn unknown_or_broken_references_are_kept_as_written() {
        assert_eq!(decode_references("a &copy; b & c &#xZZ; &#65;"), "a &copy; b & c &#xZZ; A");
    }
}
