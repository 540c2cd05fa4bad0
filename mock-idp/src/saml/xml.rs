//! Small text helpers for the XML this crate writes itself.
//!
//! Responses are rendered as text in Okta's exact serialisation and only then
//! parsed by libxml2 for signing. Faults that rearrange a signed document work
//! on that text too: its shape is known (no whitespace between elements, one
//! element of each kind), so an element is found by its start and end tags.

use std::ops::Range;

/// Escapes text content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The byte range of the first element whose start tag begins with `open`
/// (for example `<saml2:Assertion `) at or after `from`, through its matching
/// end tag `close`. Nested elements of the same name are counted.
pub fn element_span(xml: &str, open: &str, close: &str, from: usize) -> Option<Range<usize>> {
    let start = from + xml.get(from..)?.find(open)?;
    // A self-closed element ends at the first '>' and has no end tag.
    let tag_end = start + xml[start..].find('>')?;
    if xml[..tag_end].ends_with('/') {
        return Some(start..tag_end + 1);
    }
    let mut depth = 0usize;
    let mut cursor = start;
    loop {
        let next_open = xml[cursor..].find(open).map(|i| cursor + i);
        let next_close = xml[cursor..].find(close).map(|i| cursor + i)?;
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                cursor = o + open.len();
            }
            _ => {
                depth = depth.checked_sub(1)?;
                cursor = next_close + close.len();
                if depth == 0 {
                    return Some(start..cursor);
                }
            }
        }
    }
}

/// Replaces the value of attribute `name` in the start tag at `tag_start`.
pub fn set_attribute_in_tag(xml: &str, tag_start: usize, name: &str, value: &str) -> Option<String> {
    let tag_end = tag_start + xml.get(tag_start..)?.find('>')?;
    let needle = format!(" {name}=\"");
    let attr = tag_start + xml[tag_start..tag_end].find(&needle)? + needle.len();
    let attr_end = attr + xml[attr..].find('"')?;
    Some(format!("{}{}{}", &xml[..attr], escape(value), &xml[attr_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_span_counts_nesting() {
        let xml = "<r><a:X k=\"1\"><a:X k=\"2\"></a:X></a:X><a:X k=\"3\"/></r>";
        let span = element_span(xml, "<a:X ", "</a:X>", 0).unwrap();
        assert_eq!(&xml[span.clone()], "<a:X k=\"1\"><a:X k=\"2\"></a:X></a:X>");
        let self_closed = element_span(xml, "<a:X ", "</a:X>", span.end).unwrap();
        assert_eq!(&xml[self_closed], "<a:X k=\"3\"/>");
    }

    #[test]
    fn set_attribute_replaces_value_only_in_that_tag() {
        let xml = "<a ID=\"1\"><b ID=\"2\"/></a>";
        assert_eq!(set_attribute_in_tag(xml, 0, "ID", "x<").unwrap(), "<a ID=\"x&lt;\"><b ID=\"2\"/></a>");
    }
}
