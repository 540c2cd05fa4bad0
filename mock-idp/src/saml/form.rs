//! The auto-submitting POST page that delivers a response, in Okta's shape:
//! a form `appForm` with hidden `SAMLResponse` and `RelayState` inputs.

use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Which bytes [`okta_attribute_escape`] keeps as they are: ASCII letters,
/// digits and `,.-_`.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        plain[byte] = b.is_ascii_alphanumeric() || matches!(b, b',' | b'.' | b'-' | b'_');
        byte += 1;
    }
    plain
};

/// Encodes an attribute value the way Okta's pages do: letters, digits and
/// `,.-_` stay, everything else becomes a hex character reference
/// (`https&#x3a;&#x2f;&#x2f;…`, `&#x2b;`, `&#x3d;`).
pub fn okta_attribute_escape(value: &str) -> String {
    // The SAMLResponse field is kilobytes of base64, so runs of plain
    // characters are copied whole, and base64's own three symbols have
    // their references written out.
    let mut out = String::with_capacity(value.len() + value.len() / 4);
    let bytes = value.as_bytes();
    let mut plain_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        if PLAIN[usize::from(bytes[at])] {
            at += 1;
            continue;
        }
        // Only whole characters are skipped, so `at` is where one starts.
        let Some(c) = value.get(at..).and_then(|rest| rest.chars().next()) else { break };
        out.push_str(&value[plain_from..at]);
        match c {
            '+' => out.push_str("&#x2b;"),
            '/' => out.push_str("&#x2f;"),
            '=' => out.push_str("&#x3d;"),
            // Writing to a String cannot fail.
            c => {
                let _ = write!(out, "&#x{:x};", u32::from(c));
            }
        }
        at += c.len_utf8();
        plain_from = at;
    }
    out.push_str(&value[plain_from..]);
    out
}

/// [`okta_attribute_escape`] of base64 text, which holds only three
/// characters to escape: each is found with `str::find`, which searches a
/// word at a time, instead of testing every byte of a field that is
/// kilobytes long.
fn okta_attribute_escape_base64(encoded: &str) -> String {
    const SPECIAL: [(char, &str); 3] = [('+', "&#x2b;"), ('/', "&#x2f;"), ('=', "&#x3d;")];
    let find_from = |from: usize, c: char| encoded.get(from..).and_then(|rest| rest.find(c)).map(|at| from + at);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 4);
    let mut next = SPECIAL.map(|(c, _)| find_from(0, c));
    let mut copied = 0;
    while let Some((slot, at)) =
        next.iter().enumerate().filter_map(|(slot, at)| at.map(|at| (slot, at))).min_by_key(|(_, at)| *at)
    {
        out.push_str(&encoded[copied..at]);
        out.push_str(SPECIAL[slot].1);
        copied = at + 1;
        next[slot] = find_from(copied, SPECIAL[slot].0);
    }
    out.push_str(&encoded[copied..]);
    out
}

/// Undoes [`okta_attribute_escape`]: hex character references become the
/// characters they name. `None` for a malformed reference.
pub fn okta_attribute_unescape(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("&#x") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';')? + at;
        out.push(char::from_u32(u32::from_str_radix(&rest[at + 3..end], 16).ok()?)?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The fields of a page made by [`render`], with the attribute encoding undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedFields {
    /// Where the page posts: the ACS URL.
    pub action: String,
    /// The SAMLResponse field: the response in base64.
    pub saml_response: String,
    pub relay_state: String,
}

/// Reads an auto-submitting page, as a browser (or a test standing in for
/// one) would; `None` when the page is not one.
pub fn parse(html: &str) -> Option<PostedFields> {
    let field = |marker: &str| {
        let start = html.find(marker)? + marker.len();
        let end = html[start..].find('"')? + start;
        okta_attribute_unescape(&html[start..end])
    };
    Some(PostedFields {
        action: field("<form id=\"appForm\" action=\"")?,
        saml_response: field("name=\"SAMLResponse\" type=\"hidden\" value=\"")?,
        relay_state: field("name=\"RelayState\" type=\"hidden\" value=\"")?,
    })
}

/// The response as the SAMLResponse field carries it: base64 with no line breaks.
pub fn base64(response_xml: &str) -> String {
    BASE64.encode(response_xml.as_bytes())
}

/// The page that posts `response_xml` to `acs_url`.
pub fn render(acs_url: &str, response_xml: &str, relay_state: &str) -> String {
    let encoded = base64(response_xml);
    format!(
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n<head>\n<meta name=\"robots\" content=\"none\" />\n<title>mockta (mock Okta)</title>\n</head>\n<body onload=\"document.forms[0].submit()\">\n<noscript><p><strong>Note:</strong> Since your browser does not support JavaScript, you must press the Continue button once to proceed.</p></noscript>\n<form id=\"appForm\" action=\"{action}\" method=\"POST\">\n<div><input name=\"SAMLResponse\" type=\"hidden\" value=\"{response}\"/><input name=\"RelayState\" type=\"hidden\" value=\"{relay}\"/></div>\n<noscript><div><input type=\"submit\" value=\"Continue\"/></div></noscript>\n</form>\n</body>\n</html>\n",
        action = okta_attribute_escape(acs_url),
        response = okta_attribute_escape_base64(&encoded),
        relay = okta_attribute_escape(relay_state),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_escape_matches_okta_pages() {
        assert_eq!(
            okta_attribute_escape("https://signin.aws.amazon.com/saml"),
            "https&#x3a;&#x2f;&#x2f;signin.aws.amazon.com&#x2f;saml"
        );
        assert_eq!(okta_attribute_escape("a+b="), "a&#x2b;b&#x3d;");
        assert_eq!(okta_attribute_escape("/é\u{1F600} ,.-_"), "&#x2f;&#xe9;&#x1f600;&#x20;,.-_");
        assert_eq!(okta_attribute_escape(""), "");
    }

    #[test]
    fn base64_escape_is_the_general_escape() {
        for text in ["", "a", "ab", "abc", "<saml2p:Response ID=\"id1\"/>\u{1F600}", &"\u{ff}\u{fe}?>".repeat(100)] {
            let encoded = base64(text);
            assert_eq!(okta_attribute_escape_base64(&encoded), okta_attribute_escape(&encoded), "{encoded}");
        }
        assert_eq!(okta_attribute_escape_base64("+/=a/+"), "&#x2b;&#x2f;&#x3d;a&#x2f;&#x2b;");
    }

    #[test]
    fn parse_reads_back_what_render_wrote() {
        let page = render("https://sp.test/acs?x=1&y=2", "<saml2p:Response ID=\"id1\"/>", "/after login?é");
        let fields = parse(&page).unwrap();
        assert_eq!(fields.action, "https://sp.test/acs?x=1&y=2");
        assert_eq!(fields.saml_response, base64("<saml2p:Response ID=\"id1\"/>"));
        assert_eq!(fields.relay_state, "/after login?é");
        assert_eq!(parse("<html>no form</html>"), None);
        assert_eq!(okta_attribute_unescape("a&#xzz;"), None);
    }
}
